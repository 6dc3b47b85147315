"""Every console page in both languages, roles refused on the server, keyboard
use, labels, a phone-sized screen and the background jobs' progress."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.console.conftest import Console, login, shoot, unlabelled_inputs

from govchain.catalog import service as catalog
from govchain.datasets import Dataset, DatasetStore
from govchain.ledger.store import LedgerStore
from govchain.sharing import service as sharing

FIELDS = [
    {"name": "org_code", "type": "string", "description": "机构代码"},
    {"name": "beds", "type": "integer", "description": "床位"},
]


@dataclass
class Seeded:
    resource: str
    request: str
    tx_id: str


@pytest.fixture(scope="module")
def seeded(console: Console) -> Seeded:
    """A resource of city-health with one version and a pending request of city-cdc."""
    node = console.node
    resource = catalog.register_resource(
        node,
        "city-health",
        title="发热门诊日报",
        fields=FIELDS,
        level=2,
        sharing="conditional",
        category="health",
    )
    store = DatasetStore(node.home.path / "objects")
    dataset = Dataset(fields=FIELDS, rows=[["440104001", "12"], ["440106002", "8"]])
    catalog.publish_version(node, store, "city-health", resource, dataset)
    record = sharing.request_access(
        node,
        "city-cdc",
        resource,
        fields=["beds"],
        purpose="发热门诊监测",
        term_days=30,
    )
    ledger = LedgerStore(node.home.ledger_path, readonly=True)
    try:
        tx = ledger.query_txs(subject=f"resource:{resource}", limit=1)[0]
    finally:
        ledger.close()
    return Seeded(resource=resource, request=str(record["id"]), tx_id=tx.id)


def _pages(seeded: Seeded) -> dict[str, list[tuple[str, str]]]:
    """Return, per role, the pages it may use as (screenshot name, path)."""
    return {
        "operator": [
            ("overview", "/console/overview"),
            ("ledger", "/console/ledger"),
            ("ledger-block", "/console/ledger/blocks/0"),
            ("consortium", "/console/consortium"),
        ],
        "steward": [
            ("catalog", "/console/catalog"),
            ("catalog-new", "/console/catalog/new"),
            ("resource", f"/console/catalog/{seeded.resource}"),
            ("resource-edit", f"/console/catalog/{seeded.resource}/edit"),
            ("inbox", "/console/requests/inbox"),
            ("request", f"/console/requests/{seeded.request}"),
            ("governance", "/console/governance"),
            ("classify", f"/console/governance/classify/{seeded.resource}"),
        ],
        "officer": [
            ("requests", "/console/requests"),
            ("request-new", f"/console/requests/new?resource={seeded.resource}"),
            ("grants", "/console/grants"),
        ],
        "auditor": [
            ("audit", "/console/audit"),
            ("audit-record", f"/console/audit/tx/{seeded.tx_id}"),
        ],
    }


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_pages_translated_and_labelled(
    page: Page, console: Console, seeded: Seeded, lang: str
) -> None:
    for role, pages in _pages(seeded).items():
        login(page, console, role, lang=lang)
        for name, path in pages:
            response = page.goto(console.url + path)
            assert response is not None
            assert response.status == 200, f"{path}: {response.status}"
            text = page.locator("body").inner_text()
            assert "\u27e6" not in text, f"{path} shows a message key without text"
            assert unlabelled_inputs(page) == [], f"{path} has unlabelled controls"
            expect(page.locator("html")).to_have_attribute("lang", lang)
            shoot(page, f"{name}-{lang}")
        page.get_by_role(
            "button", name="退出" if lang == "zh-CN" else "Log out"
        ).click()


def test_overview_draws_charts(page: Page, console: Console, seeded: Seeded) -> None:
    login(page, console, "auditor")
    # Six charts have data; the quality chart waits for a scored version.
    expect(page.locator("svg.chart[role=img]")).to_have_count(6)
    expect(page.locator("svg.chart title").first).to_have_text("按部门")
    expect(page.get_by_role("link", name=seeded.request)).to_be_visible()


def test_refused_page_is_403_and_logged(
    page: Page, console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    login(page, console, "officer")
    with caplog.at_level(logging.WARNING, logger="govchain.console"):
        response = page.goto(f"{console.url}/console/audit")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权操作")
    expect(page.get_by_role("alert")).to_contain_text("查看审计轨迹")
    assert any(
        "console action audit.trail rejected" in r.getMessage() for r in caplog.records
    )
    # The navigation does not offer what the role may not use.
    expect(
        page.get_by_role("navigation").get_by_role("link", name="审计")
    ).to_have_count(0)


def _csrf(page: Page) -> str:
    value = page.locator("header input[name=csrf]").get_attribute("value")
    assert value
    return value


def test_refused_action_recorded_on_ledger(
    page: Page, console: Console, seeded: Seeded
) -> None:
    login(page, console, "auditor")
    page.goto(f"{console.url}/console/requests/{seeded.request}")
    expect(page.get_by_role("button", name="同意")).to_have_count(0)
    response = page.request.post(
        f"{console.url}/console/requests/{seeded.request}/approve",
        form={"csrf": _csrf(page)},
    )
    assert response.status == 403
    again = page.request.post(
        f"{console.url}/console/requests/{seeded.request}/approve",
        form={"csrf": _csrf(page)},
    )
    assert again.status == 403
    ledger = LedgerStore(console.node.home.ledger_path, readonly=True)
    try:
        txs = ledger.query_txs(subject=f"request:{seeded.request}")
    finally:
        ledger.close()
    refusals = [tx for tx in txs if tx.type == "console.refusal"]
    assert len(refusals) == 1, "a repeated refusal within a minute is written once"
    assert refusals[0].id[:16] in again.text()
    refusal = txs[-1]
    assert refusal.type == "console.refusal"
    assert refusal.status == "rejected"
    assert refusal.reason == "role-not-allowed"
    assert refusal.dept == "city-bdb"
    assert refusal.id[:16] in response.text()
    request = sharing.get_record(console.node.store, "request", seeded.request)
    assert request["status"] == "pending"


def test_login_is_logged(
    page: Page, console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="govchain.console"):
        login(page, console, "steward")
    messages = [r.getMessage() for r in caplog.records]
    user = console.users.get("steward1")
    assert user is not None
    assert any(f"console login of user {user.id}" in m for m in messages)
    assert not any("steward1" in m for m in messages)


def test_keyboard_reaches_navigation(page: Page, console: Console) -> None:
    login(page, console, "steward")
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "跳到正文"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"
    page.goto(f"{console.url}/console/overview")
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(_focused(page)["text"])
        if reached[-1] == "English":
            break
    assert "数据目录" in reached
    assert "English" in reached
    # A search runs from the keyboard alone.
    page.goto(f"{console.url}/console/catalog")
    page.get_by_label("关键词").focus()
    page.keyboard.type("发热")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="发热门诊日报")).to_be_visible()


def _focused(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        "() => ({text: document.activeElement.textContent.trim(),"
        " id: document.activeElement.id})"
    )
    return found


def test_phone_screen_fits(phone: Page, console: Console, seeded: Seeded) -> None:
    login(phone, console, "steward")
    for path in ("/console/overview", f"/console/catalog/{seeded.resource}"):
        phone.goto(console.url + path)
        overflow = phone.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 1, f"{path} is {overflow} px wider than the screen"
    shoot(phone, "resource-phone-zh-CN")


def test_ledger_verification_shows_progress(page: Page, console: Console) -> None:
    login(page, console, "operator")
    page.goto(f"{console.url}/console/ledger")
    page.get_by_role("button", name="核验整个账本").click()
    expect(page.get_by_text(re.compile("核验通过"))).to_be_visible(timeout=60_000)


def test_consortium_admit_and_suspend(page: Page, console: Console) -> None:
    login(page, console, "operator")
    page.goto(f"{console.url}/console/consortium")
    page.get_by_label("部门编号").fill("city-transport")
    page.get_by_label("部门名称").fill("广州市交通运输局")
    page.locator("#new_region").select_option("440100")
    page.locator("#new_level").select_option("city")
    page.locator("#new_line").fill("transport")
    page.get_by_role("button", name="接纳").click()
    expect(page.get_by_role("status")).to_contain_text("部门已接纳")
    row = page.get_by_role("row").filter(has_text="city-transport")
    row.get_by_role("button", name="暂停").click()
    expect(page.locator("#reason-city-transport-error")).to_have_text(
        "暂停必须填写理由。"
    )
    row = page.get_by_role("row").filter(has_text="city-transport")
    row.get_by_label("暂停理由").fill("机构调整")
    row.get_by_role("button", name="暂停").click()
    expect(page.get_by_role("status")).to_contain_text("部门已暂停")
    row = page.get_by_role("row").filter(has_text="city-transport")
    expect(row).to_contain_text("已暂停")


def test_consortium_admit_refused_for_steward(page: Page, console: Console) -> None:
    login(page, console, "steward")
    page.goto(f"{console.url}/console/consortium")
    expect(page.get_by_role("button", name="接纳")).to_have_count(0)
    response = page.request.post(
        f"{console.url}/console/consortium/admit",
        form={"csrf": _csrf(page), "dept_id": "city-x", "name": "x"},
    )
    assert response.status == 403


def test_audit_trail_newest_first(page: Page, console: Console, seeded: Seeded) -> None:
    login(page, console, "auditor")
    page.goto(f"{console.url}/console/audit")
    ledger = LedgerStore(console.node.home.ledger_path, readonly=True)
    try:
        newest = ledger.log_size() - 1
    finally:
        ledger.close()
    first = page.locator("tbody tr").first.get_by_role("link")
    expect(first).to_have_text(f"#{newest}")
    page.goto(f"{console.url}/console/audit?resource={seeded.resource}")
    indexes = [
        int(text.lstrip("#"))
        for text in page.locator("tbody tr td:last-child a").all_inner_texts()
    ]
    assert indexes == sorted(indexes, reverse=True)
    assert len(indexes) >= 3
