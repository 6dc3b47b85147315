"""Logging in and out, the language switch, job progress and role checks.

Every route that shows data depends on `current_session` (a page) or `posted`
(a form that changes something, checked against the session's CSRF token).
`require` adds the role check on the server. A role outside the allowed ones
gets the 403 page and the refusal is logged. When the path names a resource,
request or grant, the refusal is also recorded on the ledger (see
`record_refusal`).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse, RedirectResponse, Response

from govchain.console._sessions import Session
from govchain.console._web import (
    LANG_COOKIE,
    PREFIX,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    LoginRequired,
    NotFound,
    Refused,
    client_host,
    console_router,
    console_state,
    record_refusal,
    render,
    translator,
)
from govchain.console.i18n import LANGUAGES
from govchain.console.users import LoginRefused

logger = logging.getLogger(__name__)

LOGIN_CSRF_COOKIE = "govchain_login_csrf"
#: Path parameters that name data; a refusal on such a path goes on the ledger.
_DATA_PARAMS = {
    "resource_id": "resource",
    "request_id": "request_id",
    "grant_id": "grant",
}

router = console_router()
root_router = APIRouter(include_in_schema=False)


def current_session(request: Request) -> Session:
    """Return the session of the request's cookie, or send the user to log in."""
    state = console_state(request)
    session = state.sessions.find(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginRequired()
    request.state.console_session = session
    return session


Viewer = Annotated[Session, Depends(current_session)]


async def posted(request: Request, session: Viewer) -> Session:
    """Return the session after checking the form's CSRF token against it."""
    form = await request.form()
    sent = str(form.get("csrf", ""))
    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        logger.warning(
            "console form %s from %s has no valid CSRF token (user %s)",
            request.url.path,
            client_host(request),
            session.user.id,
        )
        raise Refused("csrf")
    return session


Poster = Annotated[Session, Depends(posted)]


def require(*roles: str, action: str, post: bool = False) -> Any:
    """Return a dependency that lets only `roles` through, for `action`.

    `action` is the code logged and recorded on the ledger (such as
    `requests.approve`); the 403 page shows the message `action.<code>`.
    """
    source = posted if post else current_session

    # NOTE: the dependency is a default value, not an `Annotated` hint, because
    # hints are strings here (`from __future__ import annotations`) and FastAPI
    # resolves them in the module, where the local `source` does not exist.
    def check(
        request: Request,
        session: Session = Depends(source),  # noqa: B008
    ) -> Session:
        if session.user.role in roles:
            return session
        named = {
            target: str(request.path_params[param])
            for param, target in _DATA_PARAMS.items()
            if param in request.path_params
        }
        tx_id = record_refusal(request, session.user, action, **named)
        raise Refused(action, tx_id=tx_id)

    dependency: DependsParam = Depends(check)
    return dependency


# -- routes -----------------------------------------------------------------------


@root_router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=303)


@router.get("/")
def home(session: Viewer) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/overview", status_code=303)


def _safe_next(target: str | None) -> str:
    if target and target.startswith(f"{PREFIX}/") and "//" not in target:
        return target
    return f"{PREFIX}/overview"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next_path=_safe_next(next))


def _login_form(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        login_csrf=token,
        next_path=next_path,
        username=username,
        error=error,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path=f"{PREFIX}/login",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """Check the form's token, then the password, and start a session."""
    t = translator(request)
    state = console_state(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    target = _safe_next(next_path)
    username = username.strip()
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode()):
        return _login_form(
            request,
            next_path=target,
            username=username,
            error=t("login.expired"),
            status_code=400,
        )

    try:
        user = state.users.authenticate(username, password, client_host(request))
    except LoginRefused as exc:
        if exc.reason == "throttled":
            minutes = max(1, (exc.retry_after_s + 59) // 60)
            error, status = t("login.throttled", minutes=minutes), 429
        elif exc.reason == "disabled":
            error, status = t("login.disabled"), 403
        else:
            error, status = t("login.failed"), 401
        return _login_form(
            request,
            next_path=target,
            username=username,
            error=error,
            status_code=status,
        )

    token, _session = state.sessions.open(user)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path=PREFIX,
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=f"{PREFIX}/login")
    return response


@router.post("/logout")
def logout(request: Request, session: Poster) -> Response:
    console_state(request).sessions.close(request.cookies.get(SESSION_COOKIE))
    logger.info("console logout of user %s", session.user.id)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str | None = None) -> Response:
    """Set the language cookie and go back to the page the switch was on."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86_400, samesite="lax", path="/"
        )
    return response


@router.get("/jobs/{job_id}")
def job_status(job_id: str, request: Request, session: Viewer) -> Response:
    """Return a background job's progress as JSON, to its owner only."""
    job = console_state(request).jobs.get(job_id)
    if job is None or job.owner != session.user.id:
        raise NotFound(translator(request)("error.no_job"))
    response = JSONResponse(job.to_dict())
    response.headers.update(SECURITY_HEADERS)
    return response
