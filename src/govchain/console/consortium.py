"""Consortium pages: member departments by region, level and line.

Every role can list the members. The platform operator admits departments
and suspends or reinstates them. The ledger's rules accept these changes from
the operator's department only, and the console checks the role first.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from govchain.console._auth import Viewer, require
from govchain.console._sessions import Session
from govchain.console._web import (
    Page,
    act,
    console_router,
    console_state,
    error_text,
    redirect,
    render,
    translator,
)
from govchain.consortium import LEVELS
from govchain.crypto.keys import PublicKey
from govchain.errors import GovchainError, ValidationError
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.store import LedgerStore
from govchain.node import Node

logger = logging.getLogger(__name__)

router = console_router("/consortium")
page = Page(
    area="consortium",
    router=router,
    label="consortium.nav",
    path="/console/consortium",
    roles=frozenset({"operator", "steward", "officer", "auditor"}),
    order=60,
)

DEPT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


@router.get("", response_class=HTMLResponse)
def members(
    request: Request,
    session: Viewer,
    region: str = "",
    level: str = "",
    line: str = "",
    notice: str = "",
) -> HTMLResponse:
    return _members_page(
        request, session, {"region": region, "level": level, "line": line}, notice
    )


def _members_page(
    request: Request,
    session: Session,
    filters: dict[str, str],
    notice: str = "",
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    data = console_state(request).api.read(_read_members)
    shown = [
        d
        for d in data["departments"]
        if filters["region"] in ("", d["region"])
        and filters["level"] in ("", d["level"])
        and filters["line"] in ("", d["line"])
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for dept in shown:
        groups.setdefault(dept["region"], []).append(dept)
    return render(
        request,
        "consortium/index.html",
        status_code=status_code,
        title_key="consortium.title",
        groups=[
            (code, data["regions"].get(code, code), groups[code])
            for code in sorted(groups)
        ],
        regions=sorted(data["regions"].items()),
        levels=LEVELS,
        lines=sorted({d["line"] for d in data["departments"] if d["line"]}),
        filters=filters,
        operator=data["operator"],
        is_operator=session.user.role == "operator",
        notice=notice,
        values=values or {},
        errors=errors or {},
    )


def _read_members(store: LedgerStore) -> dict[str, Any]:
    config = store.get("consortium", "config") or {}
    regions = {str(r["code"]): str(r["name"]) for r in config.get("regions", [])}
    departments = [
        {
            "id": dept_id,
            "name": record.get("name", ""),
            "region": record.get("region", ""),
            "level": record.get("level", ""),
            "line": record.get("line", ""),
            "status": record.get("status", ""),
            "kid": record.get("kid", ""),
        }
        for dept_id, record in store.scan(DEPT_NS)
    ]
    operator = config.get("consortium", {}).get("operator", "")
    return {"regions": regions, "departments": departments, "operator": operator}


@router.post("/admit", response_model=None)
def admit(
    request: Request,
    session: Annotated[
        Session, require("operator", action="consortium.admit", post=True)
    ],
    dept_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    new_region: Annotated[str, Form()] = "",
    new_level: Annotated[str, Form()] = "",
    new_line: Annotated[str, Form()] = "",
    public_key: Annotated[str, Form()] = "",
) -> Response:
    t = translator(request)
    values = {
        "dept_id": dept_id.strip(),
        "name": name.strip(),
        "new_region": new_region,
        "new_level": new_level,
        "new_line": new_line.strip(),
        "public_key": public_key.strip(),
    }
    data = console_state(request).api.read(_read_members)
    errors: dict[str, str] = {}
    if not DEPT_ID_RE.match(values["dept_id"]):
        errors["dept_id"] = t("consortium.bad_id")
    elif any(d["id"] == values["dept_id"] for d in data["departments"]):
        errors["dept_id"] = t("consortium.id_taken")
    if not values["name"]:
        errors["name"] = t("error.required")
    if new_region not in data["regions"]:
        errors["new_region"] = t("consortium.bad_region")
    if new_level not in LEVELS:
        errors["new_level"] = t("consortium.bad_level")
    if values["public_key"]:
        try:
            PublicKey.from_b64(values["public_key"])
        except (GovchainError, ValueError):
            errors["public_key"] = t("consortium.bad_key")
    filters = {"region": "", "level": "", "line": ""}
    if errors:
        return _members_page(
            request, session, filters, values=values, errors=errors, status_code=422
        )

    def admit_department(node: Node) -> None:
        key = values["public_key"]
        if not key:
            key = node.host_department(values["dept_id"]).public_key.to_b64()
        payload = {
            "department": {
                "id": values["dept_id"],
                "name": values["name"],
                "region": new_region,
                "level": new_level,
                "line": values["new_line"],
            },
            "public_key": key,
        }
        _applied(node.act(session.user.department, "consortium.admit", payload))

    try:
        act(request, session.user, "consortium.admit", admit_department)
    except ValidationError as exc:
        errors["form"] = error_text(request, exc)
        return _members_page(
            request, session, filters, values=values, errors=errors, status_code=422
        )
    return redirect("/consortium", notice="admitted")


def _applied(receipt: Any) -> None:
    if not receipt.applied:
        raise ValidationError(receipt.message, reason=receipt.reason)


@router.post("/{dept_id}/suspend", response_model=None)
def suspend(
    dept_id: str,
    request: Request,
    session: Annotated[
        Session, require("operator", action="consortium.suspend", post=True)
    ],
    reason: Annotated[str, Form()] = "",
) -> Response:
    filters = {"region": "", "level": "", "line": ""}
    if not reason.strip():
        errors = {
            f"reason-{dept_id}": translator(request)("consortium.reason_required")
        }
        return _members_page(request, session, filters, errors=errors, status_code=422)
    payload = {"department": dept_id, "reason": reason.strip()}
    try:
        act(
            request,
            session.user,
            "consortium.suspend",
            lambda node: _applied(
                node.act(session.user.department, "consortium.suspend", payload)
            ),
        )
    except ValidationError as exc:
        errors = {"form": error_text(request, exc)}
        return _members_page(request, session, filters, errors=errors, status_code=422)
    return redirect("/consortium", notice="suspended")


@router.post("/{dept_id}/reinstate", response_model=None)
def reinstate(
    dept_id: str,
    request: Request,
    session: Annotated[
        Session, require("operator", action="consortium.reinstate", post=True)
    ],
) -> Response:
    filters = {"region": "", "level": "", "line": ""}
    try:
        act(
            request,
            session.user,
            "consortium.reinstate",
            lambda node: _applied(
                node.act(
                    session.user.department,
                    "consortium.reinstate",
                    {"department": dept_id},
                )
            ),
        )
    except ValidationError as exc:
        errors = {"form": error_text(request, exc)}
        return _members_page(request, session, filters, errors=errors, status_code=422)
    return redirect("/consortium", notice="reinstated")
