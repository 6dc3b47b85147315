"""Sharing pages: the request form, the steward's inbox, the officer's grants.

The platform operator escalates requests whose current step is past its
deadline, one at a time or all at once, as `govchain share overdue
--escalate` does; the escalation is recorded on the ledger and marks the
request.

An officer requests fields of another department's resource for a purpose
and a term. A steward of the department that decides the current step
approves or rejects it (a reason is required to reject). An officer downloads
what a grant allows, desensitized by the provider's policy. Each download is a
delivery on the ledger, and the console records its receipt for the officer's
department.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from govchain.audit import format_time
from govchain.catalog._handlers import RESOURCE_NS
from govchain.console._auth import Viewer, require
from govchain.console._sessions import Session
from govchain.console._web import (
    NotFound,
    Page,
    act,
    console_router,
    console_state,
    error_text,
    redirect,
    render,
    translator,
)
from govchain.errors import PolicyError, ValidationError
from govchain.ledger.store import LedgerStore
from govchain.node import Node, Receipt
from govchain.sharing import service
from govchain.sharing._handlers import (
    DELIVERY_NS,
    GRANT_NS,
    MAX_TERM_DAYS,
    REQUEST_NS,
)

logger = logging.getLogger(__name__)

router = console_router()
page = Page(
    area="requests",
    router=router,
    label="requests.nav",
    path="/console/requests",
    roles=frozenset({"operator", "steward", "officer", "auditor"}),
    order=30,
)

DEFAULT_TERM_DAYS = 90
DELIVERIES_SHOWN = 100
FORMATS = ("csv", "json")


def _visible(request_record: dict[str, Any], session: Session) -> bool:
    """Return whether the user's role and department may see a request."""
    user = session.user
    if user.role in ("operator", "auditor"):
        return True
    deciders = {step["approver"] for step in request_record["steps"]}
    return user.department in (
        request_record["consumer"],
        request_record["owner"],
        *deciders,
    )


@router.get("/requests", response_class=HTMLResponse)
def list_requests(
    request: Request,
    session: Viewer,
    status: str = "",
    notice: str = "",
    count: int = 0,
) -> HTMLResponse:
    return _list_page(request, session, status=status, notice=notice, count=count)


def _list_page(
    request: Request,
    session: Session,
    *,
    status: str = "",
    notice: str = "",
    count: int = 0,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    def read(store: LedgerStore) -> list[dict[str, Any]]:
        return [
            record
            for _key, record in store.scan(REQUEST_NS)
            if _visible(record, session) and status in ("", record["status"])
        ]

    now = console_state(request).api.clock()
    found = console_state(request).api.read(read)
    found.sort(key=lambda r: -int(r["created"]))
    for record in found:
        record["overdue"] = _overdue(record, now)
    return render(
        request,
        "requests/list.html",
        status_code=status_code,
        title_key="requests.title",
        requests=found,
        status=status,
        role=session.user.role,
        notice=notice,
        count=count,
        error=error,
        to_escalate=sum(1 for r in found if r["overdue"] and not r.get("escalated")),
    )


def _overdue(record: dict[str, Any], now_ms: int) -> bool:
    """Return whether a request is pending past its current step's deadline."""
    if record["status"] != "pending":
        return False
    return now_ms > int(record["steps"][record["step"]]["due"])


@router.get("/requests/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: Annotated[Session, require("steward", action="requests.inbox")],
) -> HTMLResponse:
    dept = session.user.department

    def read(store: LedgerStore) -> list[dict[str, Any]]:
        return [
            record
            for _key, record in store.scan(REQUEST_NS)
            if record["status"] == "pending"
            and record["steps"][record["step"]]["approver"] == dept
        ]

    now = console_state(request).api.clock()
    waiting = console_state(request).api.read(read)
    for record in waiting:
        record["overdue"] = _overdue(record, now)
    return render(
        request, "requests/inbox.html", title_key="requests.inbox", requests=waiting
    )


@router.get("/requests/new", response_class=HTMLResponse)
def new_request(
    request: Request,
    session: Annotated[Session, require("officer", action="requests.create")],
    resource: str = "",
) -> HTMLResponse:
    return _request_form(request, resource, {}, {})


def _request_form(
    request: Request,
    resource_id: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    t = translator(request)
    record = console_state(request).api.read(lambda s: s.get(RESOURCE_NS, resource_id))
    if record is None:
        raise NotFound(t("catalog.no_resource", id=resource_id))
    return render(
        request,
        "requests/new.html",
        status_code=status_code,
        title_key="requests.new_title",
        resource=record,
        values={"term_days": DEFAULT_TERM_DAYS, "fields": [], **values},
        errors=errors,
        max_term=MAX_TERM_DAYS,
    )


@router.post("/requests/new", response_model=None)
def create_request(
    request: Request,
    session: Annotated[
        Session, require("officer", action="requests.create", post=True)
    ],
    resource: Annotated[str, Form()] = "",
    fields: Annotated[list[str] | None, Form()] = None,
    purpose: Annotated[str, Form()] = "",
    term_days: Annotated[str, Form()] = "",
) -> Response:
    t = translator(request)
    values = {"fields": fields or [], "purpose": purpose, "term_days": term_days}
    errors: dict[str, str] = {}
    if not fields:
        errors["fields"] = t("requests.pick_fields")
    if not purpose.strip():
        errors["purpose"] = t("error.required")
    term = int(term_days) if term_days.strip().isdigit() else 0
    if not 1 <= term <= MAX_TERM_DAYS:
        errors["term_days"] = t("requests.bad_term", max=MAX_TERM_DAYS)
    if errors:
        return _request_form(request, resource, values, errors, 422)
    try:
        record = act(
            request,
            session.user,
            "requests.create",
            lambda node: service.request_access(
                node,
                session.user.department,
                resource,
                fields=list(fields or []),
                purpose=purpose.strip(),
                term_days=term,
            ),
        )
    except ValidationError as exc:
        errors["form"] = error_text(request, exc)
        return _request_form(request, resource, values, errors, 422)
    return redirect(f"/requests/{record['id']}", notice="created")


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def show_request(
    request_id: str, request: Request, session: Viewer, notice: str = ""
) -> HTMLResponse:
    return _request_page(request, session, request_id, notice=notice)


def _decide(
    request: Request,
    session: Session,
    request_id: str,
    action: str,
    work: Callable[[Node], object],
    *,
    notice: str,
    reason: str = "",
) -> Response:
    """Run a decision on a request as the user; show the page again if it fails."""
    try:
        act(request, session.user, action, work)
    except ValidationError as exc:
        return _request_page(
            request,
            session,
            request_id,
            errors={"form": error_text(request, exc)},
            reason=reason,
            status_code=422,
        )
    return redirect(f"/requests/{request_id}", notice=notice)


def _request_page(
    request: Request,
    session: Session,
    request_id: str,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    reason: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    t = translator(request)

    def read(store: LedgerStore) -> tuple[dict[str, Any] | None, Any]:
        record = store.get(REQUEST_NS, request_id)
        resource = store.get(RESOURCE_NS, record["resource"]) if record else None
        return record, resource

    record, resource = console_state(request).api.read(read)
    if record is None or not _visible(record, session):
        raise NotFound(t("requests.not_found", id=request_id))
    step = record["steps"][record["step"]] if record["status"] == "pending" else None
    can_decide = (
        session.user.role == "steward"
        and step is not None
        and step["approver"] == session.user.department
    )
    overdue = _overdue(record, console_state(request).api.clock())
    return render(
        request,
        "requests/show.html",
        status_code=status_code,
        title_key="requests.request_title",
        record=record,
        resource=resource,
        can_decide=can_decide,
        overdue=overdue,
        can_escalate=session.user.role == "operator"
        and overdue
        and not record.get("escalated"),
        notice=notice,
        errors=errors or {},
        reason=reason,
    )


@router.post("/requests/{request_id}/approve", response_model=None)
def approve(
    request_id: str,
    request: Request,
    session: Annotated[
        Session, require("steward", action="requests.approve", post=True)
    ],
) -> Response:
    return _decide(
        request,
        session,
        request_id,
        "requests.approve",
        lambda node: service.approve(node, session.user.department, request_id),
        notice="approved",
    )


@router.post("/requests/{request_id}/reject", response_model=None)
def reject(
    request_id: str,
    request: Request,
    session: Annotated[
        Session, require("steward", action="requests.reject", post=True)
    ],
    reason: Annotated[str, Form()] = "",
) -> Response:
    if not reason.strip():
        return _request_page(
            request,
            session,
            request_id,
            errors={"reason": translator(request)("requests.reason_required")},
            status_code=422,
        )
    return _decide(
        request,
        session,
        request_id,
        "requests.reject",
        lambda node: service.reject(
            node, session.user.department, request_id, reason.strip()
        ),
        notice="rejected",
        reason=reason,
    )


def _escalate(node: Node, dept: str, request_id: str) -> Receipt:
    """Submit a `sharing.escalate` of one request, signed by `dept`.

    Raises `PolicyError` with the ledger's reason when it is rejected: the
    department is not the platform operator, or the request is decided or not
    yet overdue. The rejected transaction stays on the ledger.
    """
    receipt = node.act(dept, "sharing.escalate", {"request": request_id})
    if not receipt.applied:
        raise PolicyError(receipt.message, reason=receipt.reason)
    return receipt


@router.post("/requests/escalate", response_model=None)
def escalate_all(
    request: Request,
    session: Annotated[
        Session, require("operator", action="requests.escalate", post=True)
    ],
) -> Response:
    """Escalate every overdue request that is not escalated yet.

    Each escalation is its own transaction signed by the operator's
    department, so when one is rejected the ones before it stay recorded.
    """
    state = console_state(request)
    now = state.api.clock()
    waiting = [
        str(record["id"])
        for record in state.api.read(lambda store: service.overdue_requests(store, now))
        if not record.get("escalated")
    ]

    def escalate_each(node: Node) -> int:
        for request_id in waiting:
            _escalate(node, session.user.department, request_id)
        return len(waiting)

    try:
        count = act(request, session.user, "requests.escalate", escalate_each)
    except ValidationError as exc:
        return _list_page(
            request, session, error=error_text(request, exc), status_code=422
        )
    return redirect("/requests", notice="escalated", count=str(count))


@router.post("/requests/{request_id}/escalate", response_model=None)
def escalate(
    request_id: str,
    request: Request,
    session: Annotated[
        Session, require("operator", action="requests.escalate", post=True)
    ],
) -> Response:
    """Escalate one overdue request, signed by the operator's department."""
    t = translator(request)
    record = console_state(request).api.read(
        lambda store: store.get(REQUEST_NS, request_id)
    )
    if record is None:
        raise NotFound(t("requests.not_found", id=request_id))
    return _decide(
        request,
        session,
        request_id,
        "requests.escalate",
        lambda node: _escalate(node, session.user.department, request_id),
        notice="escalated_one",
    )


@router.get("/grants", response_class=HTMLResponse)
def grants(
    request: Request,
    session: Annotated[Session, require("officer", action="grants.list")],
    error: str = "",
) -> HTMLResponse:
    return _grants_page(request, session, error=error)


def _grants_page(
    request: Request, session: Session, *, error: str = "", status_code: int = 200
) -> HTMLResponse:
    state = console_state(request)
    now = state.api.clock()
    found = state.api.read(
        lambda store: service.grants_of(store, session.user.department, now)
    )
    found.sort(key=lambda g: -int(g["granted"]))
    dept = session.user.department
    deliveries = state.api.read(
        lambda store: [
            {**record, "time": format_time(int(record["delivered"]))}
            for _key, record in store.scan(DELIVERY_NS)
            if record["consumer"] == dept
        ]
    )
    deliveries.sort(key=lambda d: -int(d["delivered"]))
    return render(
        request,
        "requests/grants.html",
        status_code=status_code,
        title_key="requests.grants",
        grants=found,
        deliveries=deliveries[:DELIVERIES_SHOWN],
        error=error,
    )


@router.post("/grants/{grant_id}/download", response_model=None)
def download(
    grant_id: str,
    request: Request,
    session: Annotated[
        Session, require("officer", action="grants.download", post=True)
    ],
    format: Annotated[str, Form()] = "csv",
) -> Response:
    """Deliver the grant's resource to the officer's department and send it as a file."""
    state = console_state(request)
    consumer = session.user.department
    grant = state.api.read(lambda store: store.get(GRANT_NS, grant_id))
    if grant is None or grant["consumer"] != consumer:
        raise NotFound(translator(request)("requests.no_grant", id=grant_id))
    if format not in FORMATS:
        format = "csv"

    def deliver_and_receive(node: Any) -> dict[str, Any]:
        delivery = service.deliver(
            node,
            state.api.datasets,
            consumer,
            grant_id=grant_id,
            resource_id=grant["resource"],
        )
        service.receive(node, delivery.package)
        return delivery.package

    try:
        package = act(request, session.user, "grants.download", deliver_and_receive)
    except ValidationError as exc:
        return _grants_page(
            request, session, error=error_text(request, exc), status_code=403
        )
    name = f"{package['delivery']}"
    if format == "json":
        body = json.dumps(package, ensure_ascii=False, indent=1).encode("utf-8")
        media, suffix = "application/json", "json"
    else:
        body = _csv(package)
        media, suffix = "text/csv; charset=utf-8", "csv"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{suffix}"'},
    )


def _csv(package: dict[str, Any]) -> bytes:
    """Write the package's rows as CSV with a byte-order mark, as Excel expects.

    Every cell, the header included, goes through `spreadsheet_cell`, so a
    delivered value cannot run as a formula when the file is opened.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_cell(f["name"]) for f in package["fields"]])
    for row in package["rows"]:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


#: First characters with which a spreadsheet program may read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A signed decimal number, which a spreadsheet reads as a number, never a formula.
_SIGNED_NUMBER = re.compile(r"[+-](?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with `'`.

    This is the OWASP advice against CSV injection: a cell that starts with a
    quote is read as text. Signed numbers such as `-5` or `+3.5` stay as they
    are, because they cannot hold a formula. Values that are not text (None,
    numbers) are returned unchanged.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _SIGNED_NUMBER.fullmatch(value):
        return value
    return "'" + value
