"""Logging in, roles, the language switch and the layout, in Chromium."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.console.conftest import (
    PASSWORD,
    USERS,
    Console,
    login,
    shoot,
    unlabelled_inputs,
)


@pytest.mark.parametrize("role", list(USERS))
def test_login_each_role(page: Page, console: Console, role: str) -> None:
    login(page, console, role)
    expect(page.get_by_role("heading", level=1)).to_have_text("数据概况")
    name, dept = USERS[role]
    expect(page.locator(".who")).to_contain_text(name)
    expect(page.locator(".who")).to_contain_text(dept)


def test_login_wrong_password(page: Page, console: Console) -> None:
    page.goto(f"{console.url}/console/login")
    page.get_by_label("用户名").fill("steward1")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    assert "/console/login" in page.url


def test_login_throttled_after_failures(console: Console) -> None:
    console.users.add("throttled1", PASSWORD, "officer", "city-cdc")
    with httpx.Client(base_url=console.url) as client:
        for _ in range(5):
            form = client.get("/console/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert token is not None
            failed = client.post(
                "/console/login",
                data={
                    "username": "throttled1",
                    "password": "wrong-password",
                    "csrf": token[1],
                },
            )
            assert failed.status_code in (401, 429)
        form = client.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        locked = client.post(
            "/console/login",
            data={"username": "throttled1", "password": PASSWORD, "csrf": token[1]},
        )
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.text


def test_login_needs_form_token(console: Console) -> None:
    with httpx.Client(base_url=console.url) as client:
        response = client.post(
            "/console/login", data={"username": "steward1", "password": PASSWORD}
        )
    assert response.status_code == 400
    assert "govchain_session" not in response.cookies


def test_page_without_session_goes_to_login(page: Page, console: Console) -> None:
    page.goto(f"{console.url}/console/overview")
    expect(page).to_have_url(re.compile(r"/console/login\?next=%2Fconsole%2Foverview"))


def test_logout_ends_session(page: Page, console: Console) -> None:
    login(page, console, "auditor")
    page.get_by_role("button", name="退出").click()
    page.goto(f"{console.url}/console/overview")
    assert "/console/login" in page.url


def test_post_without_csrf_refused(page: Page, console: Console) -> None:
    login(page, console, "steward")
    response = page.request.post(f"{console.url}/console/logout", form={"csrf": "x"})
    assert response.status == 403


def test_language_switch_english(page: Page, console: Console) -> None:
    login(page, console, "steward")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("数据概况")


def test_language_switch_keeps_target(page: Page, console: Console) -> None:
    page.goto(f"{console.url}/console/ledger")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/console/login\?next=%2Fconsole%2Fledger$"))
    name, _dept = USERS["auditor"]
    page.get_by_label("Login name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/console/ledger")


def test_login_page_labels(page: Page, console: Console) -> None:
    page.goto(f"{console.url}/console/login")
    assert unlabelled_inputs(page) == []
    shoot(page, "login-zh-CN")


def test_login_keyboard_only(page: Page, console: Console) -> None:
    page.goto(f"{console.url}/console/login")
    # The user name field takes focus when the page has loaded; keys typed
    # before that reach nothing.
    page.wait_for_function("() => document.activeElement.tagName === 'INPUT'")
    page.keyboard.type("officer1")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/overview")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused == "跳到正文"
