"""Fixtures of the console tests: one served node and one headless Chromium.

The node (demo consortium, keys unencrypted) is served by real uvicorn on
127.0.0.1 for the whole session, with one console user per role. Chromium is
Debian's /usr/bin/chromium driven by Playwright; `make test` installs it.
Every page the tests open records the URL of each request it makes, and the
`page` fixture fails the test when one went to another host than the server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    sync_playwright,
)
from tests.api.api_support import serve_in_thread

import govchain.data
from govchain.api import create_app
from govchain.console.users import UserStore
from govchain.ledger.orderer import SoloOrderer
from govchain.node import Node, NodeHome, init_node

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = (
    Path(os.environ.get("GOVCHAIN_TEST_ARTIFACTS", "test-artifacts")) / "console"
)
PASSWORD = "console-test-password"
HTTP_STATUS_ERROR = "Failed to load resource: the server responded with a status of"

#: Login name, role and department of the users the tests log in as.
USERS = {
    "operator": ("op1", "city-bdb"),
    "steward": ("steward1", "city-health"),
    "officer": ("officer1", "city-cdc"),
    "auditor": ("auditor1", "city-bdb"),
}


class ShiftedClock:
    """The system clock in unix milliseconds, moved forward by `advance`.

    The orderer and the console read it, so a test can make a request's
    deadline pass without waiting. Time only moves forward, as block times must.
    """

    def __init__(self) -> None:
        self.offset_ms = 0

    def __call__(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def advance(self, days: float) -> None:
        self.offset_ms += int(days * 86_400_000)


@dataclass
class Console:
    """The served node, its URL, the user store and the shared clock."""

    url: str
    node: Node
    users: UserStore
    clock: ShiftedClock
    outside: list[str] = field(default_factory=list)
    #: Errors the pages wrote to the browser console (script errors, CSP).
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    home = NodeHome(tmp_path_factory.mktemp("console") / "home")
    consortium = Path(govchain.data.__file__).parent / "consortium" / "demo.toml"
    clock = ShiftedClock()
    node = init_node(home, consortium, encrypt=False, orderer=SoloOrderer(clock=clock))
    node.start()
    users = UserStore.of_home(home.path)
    for role, (name, dept) in USERS.items():
        users.add(name, PASSWORD, role, dept)
    url, stop = serve_in_thread(create_app(node, clock=clock))
    try:
        yield Console(url=url, node=node, users=users, clock=clock)
    finally:
        stop()
        node.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def _watch(page: Page, console: Console) -> None:
    def check(request: Request) -> None:
        url = request.url
        if not (url.startswith(console.url + "/") or url.startswith("data:")):
            console.outside.append(url)

    page.on("request", check)

    def note(message: ConsoleMessage) -> None:
        # Some tests expect a 403 or 422 response, and Chromium reports each
        # such response as a console error.
        if message.type == "error" and not message.text.startswith(HTTP_STATUS_ERROR):
            console.errors.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: console.errors.append(str(error)))


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser context at 1366x768 whose requests are all checked."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, accept_downloads=True
    )
    opened = context.new_page()
    _watch(opened, console)
    console.outside.clear()
    console.errors.clear()
    try:
        yield opened
    finally:
        context.close()
    assert console.outside == [], f"requests to other hosts: {console.outside}"
    assert console.errors == [], f"errors in the browser console: {console.errors}"


@pytest.fixture
def phone(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser context with a phone-sized screen (390x844, touch)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    opened = context.new_page()
    _watch(opened, console)
    console.outside.clear()
    console.errors.clear()
    try:
        yield opened
    finally:
        context.close()
    assert console.outside == [], f"requests to other hosts: {console.outside}"
    assert console.errors == [], f"errors in the browser console: {console.errors}"


def login(page: Page, console: Console, role: str, *, lang: str = "zh-CN") -> None:
    """Log in as the test user of `role`, in `lang`, and land on the overview."""
    name, _dept = USERS[role]
    page.goto(f"{console.url}/console/lang/{lang}?next=/console/login")
    page.get_by_label("用户名" if lang == "zh-CN" else "Login name").fill(name)
    page.get_by_label("密码" if lang == "zh-CN" else "Password").fill(PASSWORD)
    page.get_by_role("button", name="登录" if lang == "zh-CN" else "Log in").click()
    page.wait_for_url("**/console/overview")


def shoot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under the artifacts directory."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def unlabelled_inputs(page: Page) -> list[str]:
    """Return the names of visible form controls that have no accessible label."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden')
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.name || e.id || e.outerHTML.slice(0, 60))"""
    )
    return found
