"""Audit pages: the trail with filters, and one record with its proof.

A record's page carries the transaction's evidence bundle (the log entry, its
RFC 9162 inclusion proof and the signed checkpoint). The page's script checks
the proof with SHA-256 from the browser's Web Crypto API. Where the browser
supports Ed25519, it checks the checkpoint's signatures too. The server checks
the same bundle with `verify_bundle`, and the page shows both outcomes.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from govchain import audit as audit_trail
from govchain.console._auth import Viewer, require
from govchain.console._sessions import Session
from govchain.console._web import (
    NotFound,
    Page,
    console_router,
    console_state,
    render,
    translator,
)
from govchain.errors import GovchainError, ValidationError
from govchain.evidence import export_bundle, verify_bundle
from govchain.evidence.keys import ledger_keys, trusted_keys
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.canonical import canonical_json
from govchain.ledger.store import LedgerStore

logger = logging.getLogger(__name__)

router = console_router("/audit")
page = Page(
    area="audit",
    router=router,
    label="audit.nav",
    path="/console/audit",
    roles=frozenset({"operator", "auditor"}),
    order=40,
)

AUDIT_ROLES = ("operator", "auditor")
TRAIL_LIMIT = 500


@router.get("", response_class=HTMLResponse)
def trail_page(
    request: Request,
    session: Annotated[Session, require(*AUDIT_ROLES, action="audit.trail")],
    resource: str = "",
    department: str = "",
    person: str = "",
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    t = translator(request)
    state = console_state(request)
    errors: dict[str, str] = {}
    times: dict[str, int | None] = {"since": None, "until": None}
    for name, text in (("since", since), ("until", until)):
        if text.strip():
            try:
                times[name] = audit_trail.parse_time(text.strip())
            except ValidationError:
                errors[name] = t("audit.bad_time")
    users = state.users.list()
    person_tx: frozenset[str] | None = None
    if person:
        if person not in {u.id for u in users}:
            errors["person"] = t("audit.bad_person")
        else:
            person_tx = frozenset(state.sessions.transactions_of(person))
    start, end = times["since"], times["until"]
    if start is not None and end is not None and start >= end:
        errors["until"] = t("audit.bad_range")
        start = end = None
    query = audit_trail.TrailQuery(
        resource=resource.strip() or None,
        department=department or None,
        since=start,
        until=end,
        limit=TRAIL_LIMIT,
        tx_ids=person_tx,
    )

    def read(store: LedgerStore) -> dict[str, Any]:
        rows = [] if errors else newest_trail(store, query)
        departments = [(d, str(r["name"])) for d, r in store.scan(DEPT_NS)]
        return {"rows": rows, "departments": departments}

    data = state.api.read(read)
    rows = data["rows"]
    names = {u.id: u.username for u in users}
    actors = state.sessions.actors([row["tx_id"] for row in rows])
    for row in rows:
        row["person"] = names.get(actors.get(row["tx_id"], ""), "")
    return render(
        request,
        "audit/index.html",
        title_key="audit.title",
        trail=rows,
        errors=errors,
        filters={
            "resource": resource,
            "department": department,
            "person": person,
            "since": since,
            "until": until,
        },
        departments=data["departments"],
        people=[(u.id, f"{u.username} ({u.department})") for u in users],
        limit=TRAIL_LIMIT,
    )


def newest_trail(
    store: LedgerStore, query: audit_trail.TrailQuery
) -> list[dict[str, Any]]:
    """Return the newest `query.limit` records of a trail, newest first."""
    return audit_trail.trail(store, replace(query, newest_first=True))


def _bundle(request: Request, tx_id: str) -> dict[str, Any]:
    t = translator(request)

    def read(store: LedgerStore) -> dict[str, Any]:
        return export_bundle(store, tx_id, ledger_keys(store))

    try:
        return console_state(request).api.read(read)
    except ValidationError as exc:
        if exc.reason == "unknown-transaction":
            raise NotFound(t("audit.no_tx", id=tx_id)) from exc
        raise


@router.get("/tx/{tx_id}", response_class=HTMLResponse)
def record_page(tx_id: str, request: Request, session: Viewer) -> HTMLResponse:
    """Show one transaction with its evidence, for any logged-in role.

    The 403 page links to the record of the user's own refused attempt, so
    every role may open a record. The trail and its filters stay for auditors.
    """
    bundle = _bundle(request, tx_id)
    trusted = console_state(request).api.read(trusted_keys)
    try:
        server_check: dict[str, Any] = {
            "ok": True,
            **verify_bundle(bundle, trusted),
        }
    except GovchainError as exc:
        logger.warning("evidence of %s does not verify: %s", tx_id, exc)
        server_check = {"ok": False, "problem": str(exc)}
    entry_bytes = canonical_json(bundle["entry"])
    decoded = _decoded(bundle["entry"])
    client_input = {
        "entry": base64.b64encode(entry_bytes).decode("ascii"),
        "leaf_index": bundle["leaf_index"],
        "tree_size": bundle["tree_size"],
        "proof": bundle["inclusion_proof"],
        "checkpoint": bundle["checkpoint"],
        "keys": bundle["keys"],
    }
    return render(
        request,
        "audit/record.html",
        title_key="audit.record_title",
        bundle=bundle,
        entry=bundle["entry"],
        transaction=decoded,
        server_check=server_check,
        client_input=json.dumps(client_input, ensure_ascii=True).replace("</", "<\\/"),
        can_trail=session.user.role in AUDIT_ROLES,
    )


def _decoded(entry: dict[str, Any]) -> dict[str, Any] | None:
    """Return the transaction of a log entry, or None when it was not canonical JSON."""
    tx = entry.get("tx")
    return tx if isinstance(tx, dict) else None


@router.get("/tx/{tx_id}/evidence")
def evidence(tx_id: str, request: Request, session: Viewer) -> Response:
    """Send the evidence bundle as a file for `govchain evidence verify`."""
    bundle = _bundle(request, tx_id)
    body = json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8")
    logger.info("console user %s exported evidence of %s", session.user.id, tx_id)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{bundle["tx_id"][:16]}.json"'
        },
    )
