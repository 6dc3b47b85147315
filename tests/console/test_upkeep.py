"""A steward updates and retires the department's resources; the platform
operator escalates overdue requests. Both are checked on the ledger."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.console.conftest import Console, login, shoot

from govchain.catalog import service as catalog
from govchain.catalog._handlers import RESOURCE_NS
from govchain.ledger.store import LedgerStore
from govchain.sharing import service as sharing
from govchain.sharing._handlers import REQUEST_NS

FIELDS = [{"name": "beds", "type": "integer", "description": "床位"}]
#: Enough days for any step of the demo policy to pass its deadline, holidays
#: included.
PAST_DEADLINE_DAYS = 30


def _resource(console: Console, owner: str, title: str) -> str:
    return catalog.register_resource(
        console.node,
        owner,
        title=title,
        fields=FIELDS,
        level=2,
        sharing="conditional",
        category="health",
    )


def _csrf(page: Page) -> str:
    value = page.locator("header input[name=csrf]").get_attribute("value")
    assert value
    return value


def _refusals(console: Console, subject: str) -> list[str]:
    ledger = LedgerStore(console.node.home.ledger_path, readonly=True)
    try:
        txs = ledger.query_txs(subject=subject)
    finally:
        ledger.close()
    return [tx.reason for tx in txs if tx.type == "console.refusal"]


def test_resource_update_and_retire(page: Page, console: Console) -> None:
    resource = _resource(console, "city-health", "门诊量月报")
    login(page, console, "steward")
    page.goto(f"{console.url}/console/catalog/{resource}")
    page.get_by_role("link", name="修改或停用").click()
    page.get_by_label("名称").fill("门诊量月报（修订）")
    page.get_by_label("更新频率").fill("每月")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status")).to_contain_text("资源信息已更新")
    expect(page.get_by_role("heading", level=1)).to_have_text("门诊量月报（修订）")
    record = console.node.store.get(RESOURCE_NS, resource)
    assert record is not None
    assert record["title"] == "门诊量月报（修订）"
    assert record["update_frequency"] == "每月"

    page.get_by_role("link", name="修改或停用").click()
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("alert")).to_have_text("没有修改任何内容。")
    page.get_by_role("button", name="停用", exact=True).click()
    expect(page.locator("#confirm-error")).to_have_text("停用前请勾选确认。")
    shoot(page, "resource-edit-error-zh-CN")
    page.get_by_label("我确认停用此资源").check()
    page.get_by_role("button", name="停用", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("资源已停用")
    expect(page.get_by_role("link", name="修改或停用")).to_have_count(0)
    record = console.node.store.get(RESOURCE_NS, resource)
    assert record is not None
    assert record["status"] == "retired"


def test_resource_edit_refused_for_others(page: Page, console: Console) -> None:
    resource = _resource(console, "city-cdc", "传染病周报")
    login(page, console, "steward")
    page.goto(f"{console.url}/console/catalog/{resource}")
    expect(page.get_by_role("link", name="修改或停用")).to_have_count(0)
    response = page.goto(f"{console.url}/console/catalog/{resource}/edit")
    assert response is not None
    assert response.status == 403
    posted = page.request.post(
        f"{console.url}/console/catalog/{resource}/retire",
        form={"csrf": _csrf(page), "confirm": "yes"},
    )
    assert posted.status == 403
    assert _refusals(console, f"resource:{resource}") == ["role-not-allowed"] * 2
    record = console.node.store.get(RESOURCE_NS, resource)
    assert record is not None
    assert record["status"] == "active"


def test_resource_update_refused_for_officer(page: Page, console: Console) -> None:
    resource = _resource(console, "city-cdc", "疫苗接种点")
    login(page, console, "officer")
    posted = page.request.post(
        f"{console.url}/console/catalog/{resource}/edit",
        form={
            "csrf": _csrf(page),
            "title": "x",
            "level": "1",
            "sharing": "conditional",
        },
    )
    assert posted.status == 403
    record = console.node.store.get(RESOURCE_NS, resource)
    assert record is not None
    assert record["title"] == "疫苗接种点"


def test_escalate_overdue_request(page: Page, console: Console) -> None:
    resource = _resource(console, "city-health", "急诊分诊记录")
    first = sharing.request_access(
        console.node,
        "city-cdc",
        resource,
        fields=["beds"],
        purpose="调度",
        term_days=10,
    )
    second = sharing.request_access(
        console.node,
        "city-cdc",
        resource,
        fields=["beds"],
        purpose="复核",
        term_days=10,
    )
    login(page, console, "operator")
    page.goto(f"{console.url}/console/requests/{first['id']}")
    expect(page.get_by_role("button", name="督办", exact=True)).to_have_count(0)

    console.clock.advance(PAST_DEADLINE_DAYS)
    page.goto(f"{console.url}/console/requests/{first['id']}")
    page.get_by_role("button", name="督办", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已督办")
    expect(page.get_by_role("button", name="督办", exact=True)).to_have_count(0)
    escalated = console.node.store.get(REQUEST_NS, str(first["id"]))
    assert escalated is not None
    assert escalated["escalated"] is True

    page.goto(f"{console.url}/console/requests")
    page.get_by_role("button", name="督办全部超期申请").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"已督办 \d+ 个"))
    shoot(page, "requests-escalated-zh-CN")
    expect(page.get_by_role("button", name="督办全部超期申请")).to_have_count(0)
    escalated = console.node.store.get(REQUEST_NS, str(second["id"]))
    assert escalated is not None
    assert escalated["escalated"] is True
    assert sharing.overdue_requests(console.node.store, console.clock()) != []
    assert all(
        r.get("escalated")
        for r in sharing.overdue_requests(console.node.store, console.clock())
    )

    # The audit trail by person lists what the operator escalated, newest first.
    operator = next(u for u in console.users.list() if u.username == "op1")
    page.goto(f"{console.url}/console/audit?person={operator.id}")
    rows = page.locator("tbody tr").filter(has_text="sharing.escalate")
    expect(rows.first).to_contain_text(str(second["id"]))
    expect(rows.last).to_contain_text(str(first["id"]))


def test_escalate_refused_for_steward(page: Page, console: Console) -> None:
    resource = _resource(console, "city-health", "药品库存")
    record = sharing.request_access(
        console.node,
        "city-cdc",
        resource,
        fields=["beds"],
        purpose="储备",
        term_days=10,
    )
    login(page, console, "steward")
    posted = page.request.post(
        f"{console.url}/console/requests/{record['id']}/escalate",
        form={"csrf": _csrf(page)},
    )
    assert posted.status == 403
    assert _refusals(console, f"request:{record['id']}") == ["role-not-allowed"]
    bulk = page.request.post(
        f"{console.url}/console/requests/escalate", form={"csrf": _csrf(page)}
    )
    assert bulk.status == 403
    stored = console.node.store.get(REQUEST_NS, str(record["id"]))
    assert stored is not None
    assert not stored.get("escalated")


def test_escalate_early_message_translated(page: Page, console: Console) -> None:
    resource = _resource(console, "city-health", "救护车调度")
    record = sharing.request_access(
        console.node, "city-cdc", resource, fields=["beds"], purpose="调度", term_days=5
    )
    url = f"{console.url}/console/requests/{record['id']}/escalate"
    login(page, console, "operator")
    response = page.request.post(url, form={"csrf": _csrf(page)})
    assert response.status == 422
    body = response.text()
    assert "该申请的当前步骤尚未超期" in body
    assert "is not overdue" not in body

    page.goto(f"{console.url}/console/lang/en?next=/console/requests")
    response = page.request.post(url, form={"csrf": _csrf(page)})
    assert response.status == 422
    body = response.text()
    assert "The request&#39;s current step is not overdue yet" in body
    assert "is not overdue: its step is due at" in body
