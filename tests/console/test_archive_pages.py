"""The archive pages in Chromium: browse, check an item's proof in the page, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.archive.conftest import make_folder
from tests.console.conftest import Console, login, shoot

from govchain.archive import Archive
from govchain.archive.store import pack_path


@pytest.fixture(scope="module")
def archived(
    console: Console, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """Ingest the three test items into the served node; return (folder, meta)."""
    root, meta = make_folder(tmp_path_factory.mktemp("archive-pages"))
    with Archive(console.node.home) as archive:
        archive.ingest(console.node, [root], meta)
    return root, meta


def test_archive_item_proof_in_page(
    page: Page, console: Console, archived: tuple[Path, Path]
) -> None:
    login(page, console, "auditor")
    page.goto(f"{console.url}/console/archive")
    page.get_by_label("关键词").fill("second")
    page.get_by_role("button", name="查询").click()
    page.get_by_role("link", name="F01/V1/2").click()
    expect(page.locator("#archive-proof-result")).to_have_text("浏览器核验通过。")
    expect(page.locator("#item-proof")).to_have_attribute("data-verified", "ok")
    expect(page.get_by_text("服务器核验通过")).to_be_visible()
    page.get_by_label("选择文件（只在浏览器中计算哈希，不上传）").set_input_files(
        str(archived[0] / "v1" / "b.txt")
    )
    expect(page.locator("#archive-file-result")).to_contain_text("文件与链上记录一致")
    page.get_by_label("选择文件（只在浏览器中计算哈希，不上传）").set_input_files(
        str(archived[0] / "v1" / "a.txt")
    )
    expect(page.locator("#archive-file-result")).to_contain_text("不一致")
    shoot(page, "archive-item-zh-CN")


def test_archive_item_page_english(
    page: Page, console: Console, archived: tuple[Path, Path]
) -> None:
    login(page, console, "steward", lang="en")
    page.goto(f"{console.url}/console/archive/items/F01/V2/1")
    expect(page.locator("#archive-proof-result")).to_have_text(
        "Verified in the browser."
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the proof").click()
    assert download.value.suggested_filename == "proof-F01_V2_1.json"
    page.goto(f"{console.url}/console/archive/audits")
    expect(page.get_by_role("button", name="Audit and repair now")).to_have_count(0)
    shoot(page, "archive-item-en")


def test_archive_audit_repairs_in_page(
    page: Page, console: Console, archived: tuple[Path, Path]
) -> None:
    with Archive(console.node.home) as archive:
        ref = archive.index.object(archive.item("F01/V1/1").sha256)
        assert ref is not None and ref.pack is not None
        pack_path(archive.config.replicas[1], ref.pack).unlink()
    login(page, console, "auditor")
    page.goto(f"{console.url}/console/archive/audits")
    page.get_by_role("button", name="开始检测并修复").click()
    expect(page.get_by_text("已修复，全部副本完好").first).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="aud-", exact=False).first.click()
    expect(page.get_by_role("heading", name="损坏的副本")).to_be_visible()
    expect(page.get_by_role("cell", name="缺失").first).to_be_visible()
    shoot(page, "archive-audit-zh-CN")


def test_archive_hidden_from_officer(
    page: Page, console: Console, archived: tuple[Path, Path]
) -> None:
    login(page, console, "officer")
    expect(page.get_by_role("link", name="档案", exact=True)).to_have_count(0)
    response = page.goto(f"{console.url}/console/archive")
    assert response is not None
    assert response.status == 403
