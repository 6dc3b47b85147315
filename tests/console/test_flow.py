"""The daily work end to end in Chromium: publish, request, approve, download,
and check the delivery in the audit trail with its proof verified in the page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.console.conftest import Console, login, shoot

from govchain.console import governance

ROWS = [
    ["org_code", "beds", "district"],
    ["440104001", "120", "越秀区"],
    ["440106002", "85", "天河区"],
]


def _csv_file(folder: Path) -> Path:
    path = folder / "beds.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(ROWS)
    return path


def _register(page: Page, console: Console, title: str) -> str:
    page.goto(f"{console.url}/console/catalog")
    page.get_by_role("link", name="登记数据资源").click()
    page.get_by_label("名称").fill(title)
    page.get_by_label("类别").fill("health")
    page.get_by_label("分级").select_option("2")
    page.get_by_label("共享类型").select_option("conditional")
    page.get_by_label("字段").fill(
        "org_code:string:机构代码\nbeds:integer:床位\ndistrict"
    )
    page.get_by_role("button", name="登记数据资源").click()
    expect(page.get_by_role("status")).to_contain_text("资源已登记到账本")
    return page.url.rsplit("/", 1)[-1].split("?")[0]


def _import(page: Page, console: Console, resource: str, path: Path) -> None:
    page.goto(f"{console.url}/console/governance?resource={resource}")
    page.locator("#resource").select_option(resource)
    page.get_by_label("表格文件").set_input_files(str(path))
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_url("**/console/governance/jobs/*")
    expect(page.locator("#job-done")).to_be_visible()


def test_flow_publish_request_approve_download(
    page: Page, console: Console, tmp_path: Path
) -> None:
    # 1. A steward of city-health registers a resource and imports its rows.
    login(page, console, "steward")
    resource = _register(page, console, "医疗机构床位")
    _import(page, console, resource, _csv_file(tmp_path))
    shoot(page, "governance-job-zh-CN")
    page.goto(f"{console.url}/console/catalog/{resource}")
    expect(page.get_by_role("cell", name="import beds.csv")).to_be_visible()
    page.get_by_role("button", name="退出").click()

    # 2. An officer of city-cdc finds it and requests two fields.
    login(page, console, "officer")
    page.goto(f"{console.url}/console/catalog")
    page.get_by_label("关键词").fill("床位")
    page.get_by_role("button", name="查询").click()
    page.get_by_role("link", name="医疗机构床位").click()
    page.get_by_role("link", name="申请使用").click()
    page.get_by_label("org_code").check()
    page.get_by_label("beds").check()
    page.get_by_label("用途").fill("疫情床位调度")
    page.get_by_label("使用期限（天）").fill("30")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("status")).to_contain_text("申请已提交")
    request_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    page.get_by_role("button", name="退出").click()

    # 3. The steward approves it from the inbox.
    login(page, console, "steward")
    page.goto(f"{console.url}/console/requests/inbox")
    page.get_by_role("link", name=request_id).click()
    page.get_by_role("button", name="同意").click()
    expect(page.get_by_role("status")).to_contain_text("已同意")
    page.get_by_role("button", name="退出").click()

    # 4. The officer downloads the granted fields as CSV.
    login(page, console, "officer")
    page.goto(f"{console.url}/console/grants")
    with page.expect_download() as info:
        page.get_by_role("button", name="下载").first.click()
    download = info.value
    assert download.suggested_filename.startswith("dlv-")
    body = Path(download.path()).read_text("utf-8-sig")
    header = next(csv.reader(io.StringIO(body)))
    assert header == ["org_code", "beds"]
    assert "越秀区" not in body
    page.reload()
    downloads = page.get_by_role("row").filter(has_text=resource)
    expect(downloads.filter(has_text="dlv-")).to_have_count(1)
    page.get_by_role("button", name="退出").click()

    # 5. An auditor finds the delivery in the resource's trail and checks its proof.
    login(page, console, "auditor")
    page.goto(f"{console.url}/console/audit?resource={resource}")
    row = page.get_by_role("row").filter(has_text="sharing.deliver")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("officer1")
    row.get_by_role("link").click()
    expect(page.locator("#proof")).to_have_attribute("data-verified", "ok")
    expect(page.locator("#proof-result")).to_contain_text("浏览器核验通过")
    shoot(page, "audit-record-zh-CN")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载证据包").click()
    assert info.value.suggested_filename.startswith("evidence-")


def test_reject_needs_reason(page: Page, console: Console, tmp_path: Path) -> None:
    login(page, console, "steward")
    resource = _register(page, console, "门诊量统计")
    page.get_by_role("button", name="退出").click()
    login(page, console, "officer")
    page.goto(f"{console.url}/console/requests/new?resource={resource}")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#fields-error")).to_have_text("请至少选择一个字段。")
    expect(page.locator("#purpose-error")).to_have_text("此项必填。")
    page.get_by_label("org_code").check()
    page.get_by_label("用途").fill("统计分析")
    page.get_by_role("button", name="提交申请").click()
    request_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    page.get_by_role("button", name="退出").click()
    login(page, console, "steward")
    page.goto(f"{console.url}/console/requests/{request_id}")
    page.get_by_role("button", name="驳回").click()
    expect(page.locator("#reason-error")).to_have_text("驳回必须填写理由。")
    page.get_by_label("驳回理由（驳回时必填）").fill("字段不在共享范围")
    page.get_by_role("button", name="驳回").click()
    expect(page.get_by_role("status")).to_contain_text("已驳回")


def test_import_rejects_non_spreadsheet(
    page: Page, console: Console, tmp_path: Path
) -> None:
    login(page, console, "steward")
    resource = _register(page, console, "非表格导入")
    bad = tmp_path / "notes.txt"
    bad.write_text("not a table", "utf-8")
    page.goto(f"{console.url}/console/governance")
    page.locator("#resource").select_option(resource)
    page.get_by_label("表格文件").set_input_files(str(bad))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("#file-error")).to_contain_text("文件类型不支持")
    page.goto(f"{console.url}/console/catalog/{resource}")
    expect(page.get_by_text("尚未发布版本。")).to_be_visible()


def test_import_rejects_large_file(
    page: Page, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(governance, "MAX_UPLOAD_BYTES", 1024)
    login(page, console, "steward")
    resource = _register(page, console, "超大文件导入")
    big = tmp_path / "big.csv"
    big.write_text("org_code,beds,district\n" + "440104001,1,越秀区\n" * 200, "utf-8")
    page.goto(f"{console.url}/console/governance")
    page.locator("#resource").select_option(resource)
    page.get_by_label("表格文件").set_input_files(str(big))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("#file-error")).to_contain_text("文件超过")
    page.goto(f"{console.url}/console/catalog/{resource}")
    expect(page.get_by_text("尚未发布版本。")).to_be_visible()


def test_clean_and_classify(page: Page, console: Console, tmp_path: Path) -> None:
    login(page, console, "steward")
    resource = _register(page, console, "机构床位清洗")
    _import(page, console, resource, _csv_file(tmp_path))
    rules = tmp_path / "trim.toml"
    rules.write_text(
        'name = "trim-all"\nversion = "1"\n\n[[rules]]\nop = "trim"\nfields = ["*"]\n',
        "utf-8",
    )
    page.goto(f"{console.url}/console/governance")
    page.locator("#clean_resource").select_option(resource)
    page.get_by_label("清洗规则文件").set_input_files(str(rules))
    page.get_by_role("button", name="清洗", exact=True).click()
    page.wait_for_url("**/console/governance/jobs/*")
    expect(page.locator("#job-done")).to_contain_text(f"{resource}@2")

    page.goto(f"{console.url}/console/governance/classify/{resource}")
    page.get_by_role("button", name="对最新版本运行自动分类分级").click()
    expect(page.get_by_role("status")).to_contain_text("分类分级结果已记录")
    row = page.get_by_role("row").filter(has_text="district")
    row.get_by_label("调整为").select_option("3")
    row.get_by_label("理由（至少 10 个字）").fill("短")
    row.get_by_role("button", name="保存调整").click()
    expect(page.get_by_text("理由至少需要 10 个字。")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="district")
    row.get_by_label("调整为").select_option("3")
    row.get_by_label("理由（至少 10 个字）").fill(
        "区县名称与其他字段组合可识别机构所在位置"
    )
    row.get_by_role("button", name="保存调整").click()
    expect(page.get_by_role("status")).to_contain_text("人工调整已记录")
    expect(page.get_by_role("row").filter(has_text="district")).to_contain_text("→ 3")
