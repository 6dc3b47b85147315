"""The certificate pages in Chromium: registry, issuance, status and public checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.console.conftest import Console, login, shoot, unlabelled_inputs

from govchain.certs import CertificateService, Holder, qr_png
from govchain.demo.people import synthetic_people

TEMPLATE: dict[str, Any] = {
    "id": "page-health",
    "title": "食品从业人员健康证明",
    "validity_days": 365,
    "claims": [
        {"name": "occupation", "type": "string", "label": "从业类别"},
        {"name": "checkup_date", "type": "date", "label": "体检日期"},
    ],
}
ISSUER = "city-health"


@pytest.fixture(scope="module")
def issuer_ready(console: Console) -> None:
    """Define the type, authorize the steward's department and give it a key."""
    service = CertificateService(console.node)
    try:
        service.define_template(TEMPLATE)
        service.authorize_issuer(ISSUER, [TEMPLATE["id"]])
        service.create_key(ISSUER)
    finally:
        service.close()


def _issue_in_page(page: Page, console: Console, person: dict[str, str]) -> str:
    page.goto(f"{console.url}/console/certificates/issue?type=page-health")
    page.get_by_label("姓名").fill(person["姓名"])
    page.get_by_label("证件号码").fill(person["身份证号"])
    page.get_by_label("从业类别").fill(person["从业类别"])
    page.get_by_label("体检日期").fill(person["体检日期"])
    page.get_by_role("button", name="签发").click()
    expect(page.get_by_role("heading", name="证照已签发")).to_be_visible()
    return page.locator("#certificate-text").inner_text().strip()


def test_certificates_operator_defines_type(page: Page, console: Console) -> None:
    login(page, console, "operator")
    page.goto(f"{console.url}/console/certificates")
    template = {
        **TEMPLATE,
        "id": "page-licence",
        "holder_id": "cn-uscc",
        "title": "营业执照",
    }
    page.get_by_label("模板（JSON）").fill(json.dumps(template, ensure_ascii=False))
    page.get_by_role("button", name="定义").click()
    expect(page.get_by_role("status")).to_contain_text("已定义 page-licence 第 1 版")
    page.get_by_label("部门").fill("city-market")
    page.get_by_label("类型（逗号分隔，留空则撤销授权）").fill("page-licence")
    page.get_by_role("button", name="授权", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        "city-market 可签发：page-licence"
    )
    assert unlabelled_inputs(page) == []
    page.get_by_label("模板（JSON）").fill("{not json")
    page.get_by_role("button", name="定义").click()
    expect(page.get_by_role("alert")).to_contain_text("不是有效的 JSON")


def test_certificates_issue_and_revoke(
    page: Page, console: Console, issuer_ready: None, tmp_path: Path
) -> None:
    person = synthetic_people(1, seed=91)[0]
    login(page, console, "steward")
    text = _issue_in_page(page, console, person)
    assert text.startswith("GC1:")
    assert person["身份证号"] not in page.content()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载证照卡片（PDF）").click()
    card = tmp_path / "card.pdf"
    download.value.save_as(card)
    assert card.read_bytes().startswith(b"%PDF")
    shoot(page, "certificates-issued-zh-CN")
    cert_id = page.locator("#certificate-id").inner_text()
    page.goto(f"{console.url}/console/certificates")
    expect(page.locator(f"#status-{cert_id}")).to_have_text("有效")
    page.locator(f"#status-{cert_id}-new").select_option("revoked")
    page.locator(f"#reason-{cert_id}").select_option("holder-unfit")
    page.locator("tr", has=page.locator(f"#status-{cert_id}")).get_by_role(
        "button", name="变更"
    ).click()
    expect(page.get_by_role("status")).to_contain_text(f"证照 {cert_id} 现为：已撤销")
    expect(page.locator(f"#status-{cert_id}")).to_have_text("已撤销")


def test_certificates_issue_bad_id_number(
    page: Page, console: Console, issuer_ready: None
) -> None:
    person = dict(synthetic_people(1, seed=93)[0], 身份证号="110101199003070000")
    login(page, console, "steward", lang="en")
    page.goto(f"{console.url}/console/certificates/issue?type=page-health")
    page.get_by_label("Name").fill(person["姓名"])
    page.get_by_label("ID number").fill(person["身份证号"])
    page.get_by_label("从业类别").fill(person["从业类别"])
    page.get_by_label("体检日期").fill(person["体检日期"])
    page.get_by_role("button", name="Issue").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid")
    assert "110101199003070000" not in page.content()


def test_certificates_public_verify_and_lookup(
    phone: Page, console: Console, issuer_ready: None, tmp_path: Path
) -> None:
    person = synthetic_people(1, seed=92)[0]
    service = CertificateService(console.node)
    try:
        holder = Holder(
            person["身份证号"],
            person["姓名"],
            {"occupation": person["从业类别"], "checkup_date": person["体检日期"]},
        )
        first, second = service.issue(ISSUER, TEMPLATE["id"], [holder, holder])
        service.set_status(ISSUER, second.id, "revoked", "holder-unfit")
    finally:
        service.close()
    picture = tmp_path / "qr.png"
    picture.write_bytes(qr_png(first.qr_text))
    phone.goto(f"{console.url}/console/certificates/verify")
    assert unlabelled_inputs(phone) == []
    phone.get_by_label("二维码照片（可直接用手机拍摄）").set_input_files(str(picture))
    phone.get_by_role("button", name="核验").click()
    expect(phone.locator("#verdict")).to_have_attribute("data-valid", "true")
    expect(phone.locator("#verdict")).to_contain_text("证照有效")
    shoot(phone, "certificates-verify-phone")
    phone.get_by_label("或二维码文本").fill(second.qr_text)
    phone.get_by_role("button", name="核验").click()
    expect(phone.locator("#verdict")).to_have_attribute("data-valid", "false")
    expect(phone.locator("#verdict-reason")).to_have_text("签发机构已撤销此证照")
    phone.get_by_label("或二维码文本").fill("https://example.org/")
    phone.get_by_role("button", name="核验").click()
    expect(phone.locator("#verdict-reason")).to_have_text(
        "这不是本系统能识别的证照二维码"
    )
    phone.get_by_label("证件号码").fill(person["身份证号"])
    phone.get_by_role("button", name="查询").click()
    results = phone.locator("#lookup-results")
    expect(results).to_contain_text("找到 2 张证照")
    expect(results).to_contain_text("已撤销")
    assert person["姓名"] not in results.inner_text()
    assert person["身份证号"] not in phone.content()
