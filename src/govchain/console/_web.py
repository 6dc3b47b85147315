"""Shared parts of the console pages: state, page registration, rendering, errors.

Pages are server-rendered Jinja2 templates. A route module builds its router
with `console_router()`, so a `GovchainError` it does not handle becomes an
error page in the user's language rather than the API's JSON problem.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from govchain.api._context import ApiContext, ReceiptTap
from govchain.console._sessions import Session, Sessions
from govchain.console.i18n import Catalogs, pick_language
from govchain.console.jobs import Jobs
from govchain.console.users import User, UserStore
from govchain.errors import GovchainError, ValidationError
from govchain.node import Node

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: A refused action repeated within this many seconds is not recorded again.
REFUSAL_WINDOW_S = 60.0
MAX_REFUSALS_TRACKED = 10_000

PREFIX = "/console"
SESSION_COOKIE = "govchain_session"
LANG_COOKIE = "govchain_lang"
TEMPLATES = Path(str(files("govchain.console").joinpath("templates")))
STATIC = Path(str(files("govchain.console").joinpath("static")))

#: Sent with every console page: nothing loads from another origin, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; font-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Page:
    """A page group: its router and its entry in the navigation.

    `label` is a message key; `roles` are the roles that see the entry (the
    routes check roles themselves); `order` sorts the navigation.
    """

    area: str
    router: APIRouter
    label: str
    path: str
    roles: frozenset[str]
    order: int


@dataclass
class ConsoleState:
    """The state the console's handlers share, kept on `app.state.console`."""

    api: ApiContext
    users: UserStore
    sessions: Sessions
    catalogs: Catalogs
    env: Environment
    jobs: Jobs
    pages: list[Page] = field(default_factory=list)
    #: Per-application caches of whole-ledger figures, by name (see `_cache`).
    caches: dict[str, Any] = field(default_factory=dict)
    #: The ledger record and time of each recent refusal, by user, action and
    #: target, so a repeated attempt does not add a transaction each time.
    refusals: dict[tuple[str, ...], tuple[str, float]] = field(default_factory=dict)


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_attr"] = _json_attr
    return env


def _json_attr(value: Any) -> Markup:
    import json

    return Markup(json.dumps(value, ensure_ascii=False, sort_keys=True))


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def language_of(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE))


def translator(request: Request) -> Callable[..., str]:
    """Return `t(key, **values)` in the language of `request`."""
    catalogs = console_state(request).catalogs
    lang = language_of(request)

    def t(key: str, /, **values: Any) -> str:
        return catalogs.translate(lang, key, **values)

    return t


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render `template` with the layout's context: user, language, navigation."""
    state = console_state(request)
    session: Session | None = getattr(request.state, "console_session", None)
    user = session.user if session else None
    nav = [
        page
        for page in sorted(state.pages, key=lambda p: p.order)
        if user is not None and user.role in page.roles
    ]
    html = state.env.get_template(template).render(
        t=translator(request),
        lang=language_of(request),
        user=user,
        csrf=session.csrf if session else "",
        nav=nav,
        path=request.url.path,
        # Raw path and query: the template percent-encodes it once for `next`.
        here=str(request.url.path) + _query(request),
        prefix=PREFIX,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


class LoginRequired(Exception):
    """Raised by a route that needs a session when the request has none."""


class Refused(Exception):
    """A role refused a page or an action; `tx_id` names its ledger record."""

    def __init__(self, action: str, *, tx_id: str | None = None) -> None:
        super().__init__(action)
        self.action = action
        self.tx_id = tx_id


class NotFound(Exception):
    """A console page for an object that does not exist."""


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class ConsoleRoute(APIRoute):
    """A route that renders errors as console pages and sets security headers."""

    def get_route_handler(self) -> Endpoint:
        original = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await original(request)
            except LoginRequired:
                target = quote(request.url.path + _query(request), safe="")
                response = RedirectResponse(
                    f"{PREFIX}/login?next={target}", status_code=303
                )
            except Refused as exc:
                t = translator(request)
                response = render(
                    request,
                    "error.html",
                    status_code=403,
                    title_key="error.refused_title",
                    message=t("error.refused", action=t(f"action.{exc.action}")),
                    tx_id=exc.tx_id,
                )
            except NotFound as exc:
                response = render(
                    request,
                    "error.html",
                    status_code=404,
                    title_key="error.not_found_title",
                    message=str(exc),
                    tx_id=None,
                )
            except GovchainError as exc:
                logger.info("console %s failed: %s", request.url.path, exc)
                response = render(
                    request,
                    "error.html",
                    status_code=422,
                    title_key="error.failed_title",
                    message=error_text(request, exc),
                    tx_id=None,
                )
            response.headers.update(SECURITY_HEADERS)
            return response

        return handle


def console_router(prefix: str = "") -> APIRouter:
    """Return a router for console pages under `/console{prefix}`."""
    return APIRouter(
        prefix=f"{PREFIX}{prefix}", route_class=ConsoleRoute, include_in_schema=False
    )


def error_text(request: Request, exc: GovchainError) -> str:
    """Return the message of `exc` for a person, in the request's language.

    Only validation and policy errors carry a reason code; see `reason_text`.
    """
    reason = exc.reason if isinstance(exc, ValidationError) else ""
    return reason_text(request, reason, str(exc))


def reason_text(request: Request, reason: str, detail: str) -> str:
    """Return an error's message in the request's language, from its reason code.

    The services write `detail` in English. In English the translated reason
    comes first and `detail` follows in brackets. In Chinese the page shows the
    translated reason alone, so every visible string is Chinese; a reason code
    without a message shows a general message naming the code.
    """
    catalogs = console_state(request).catalogs
    lang = language_of(request)
    key = f"reason.{reason}"
    known = bool(reason) and catalogs.has(key)
    if lang == "en":
        return f"{catalogs.translate(lang, key)} ({detail})" if known else detail
    if known:
        return catalogs.translate(lang, key)
    if reason:
        return catalogs.translate(lang, "error.other_reason", reason=reason)
    return catalogs.translate(lang, "error.other")


def client_host(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def redirect(path: str, **query: str) -> RedirectResponse:
    """Return a 303 to a console path, as after a form post."""
    if query:
        path += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    return RedirectResponse(f"{PREFIX}{path}", status_code=303)


def record_refusal(
    request: Request,
    user: User,
    action: str,
    *,
    resource: str | None = None,
    request_id: str | None = None,
    grant: str | None = None,
) -> str | None:
    """Log a refused action; when it concerns data, record it on the ledger.

    Returns the id of the rejected `console.refusal` transaction, or None when
    nothing concerned data or the user's department is not hosted here. The
    same user repeating the same refused action on the same data within
    `REFUSAL_WINDOW_S` gets the first record's id, and nothing new is written.
    """
    logger.warning(
        "console action %s rejected for user %s (%s of %s) from %s",
        action,
        user.id,
        user.role,
        user.department,
        client_host(request),
    )
    subjects = {"resource": resource, "request": request_id, "grant": grant}
    if not any(subjects.values()):
        return None
    state = console_state(request)
    node = state.api.node
    if user.department not in node.dept_keys:
        return None
    key = (user.id, action, *(v or "" for v in subjects.values()))
    now = time.monotonic()
    earlier = state.refusals.get(key)
    if earlier is not None and now - earlier[1] < REFUSAL_WINDOW_S:
        return earlier[0]
    payload: dict[str, Any] = {"action": action, "role": user.role, "user": user.id}
    payload.update({k: v for k, v in subjects.items() if v})
    receipt = node.act(user.department, "console.refusal", payload)
    state.sessions.record_action(user, receipt.tx_id, action)
    if len(state.refusals) > MAX_REFUSALS_TRACKED:
        state.refusals = {
            k: v for k, v in state.refusals.items() if now - v[1] < REFUSAL_WINDOW_S
        }
    state.refusals[key] = (receipt.tx_id, now)
    return receipt.tx_id


def act(request: Request, user: User, action: str, work: Callable[[Node], T]) -> T:
    """Run `work` with the node and note every transaction it submits as `user`'s.

    The note (in `console.sqlite`) lets the audit trail be filtered by person,
    because the ledger itself names only the signing department.
    """
    tap = ReceiptTap(console_state(request).api.node)
    try:
        return work(tap.node)
    finally:
        sessions = console_state(request).sessions
        for receipt in tap.receipts:
            sessions.record_action(user, receipt.tx_id, action)
        if tap.receipts:
            logger.info(
                "console user %s did %s: %s",
                user.id,
                action,
                ", ".join(f"{r.tx_id[:16]} {r.status}" for r in tap.receipts),
            )
