"""Archive pages: the archive browser, one item with its proof, audit reports.

The item page checks the item's proof twice. The server runs
`verify_item_proof` with the ledger's keys. The browser repeats it with Web
Crypto in `static/archive.js`: the metadata hash, the leaf hash, the batch
root from the inclusion proof against the root in the anchor transaction, the
anchor's inclusion in the signed checkpoint, and the checkpoint signatures.
The browser can also hash a file that the user picks and compare it with the
anchored SHA-256, without uploading it.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from govchain.archive import Archive, SearchQuery, verify_item_proof
from govchain.archive.audit import load_report
from govchain.archive.metadata import CLASSIFICATIONS
from govchain.audit import format_time
from govchain.console._auth import require
from govchain.console._sessions import Session
from govchain.console._web import (
    NotFound,
    Page,
    console_router,
    console_state,
    redirect,
    render,
    translator,
)
from govchain.console.jobs import Progress
from govchain.errors import GovchainError
from govchain.evidence.keys import trusted_keys
from govchain.ledger.canonical import canonical_json

logger = logging.getLogger(__name__)

router = console_router("/archive")
#: TODO: these roles can open every item whatever its classification. Hide
#: items above `internal` from users without clearance once the console
#: records clearances.
VIEW_ROLES = ("operator", "steward", "auditor")
AUDIT_ROLES = ("operator", "auditor")
page = Page(
    area="archive",
    router=router,
    label="archive.nav",
    path="/console/archive",
    roles=frozenset(VIEW_ROLES),
    order=45,
)
RESULT_LIMIT = 200


def _archive(request: Request) -> Archive:
    return Archive(console_state(request).api.node.home)


@router.get("", response_class=HTMLResponse)
def browser_page(
    request: Request,
    session: Annotated[Session, require(*VIEW_ROLES, action="archive.view")],
    keyword: str = "",
    fonds: str = "",
    volume: str = "",
    classification: str = "",
) -> HTMLResponse:
    """List items by metadata, with the archive's replicas and latest audits."""
    query = SearchQuery(
        keyword=keyword.strip(),
        fonds=fonds.strip(),
        volume=volume.strip(),
        classification=classification,
    )
    with _archive(request) as archive:
        items = archive.search(query, limit=RESULT_LIMIT)
        total = archive.index.count_items()
        replicas = [r.name for r in archive.config.replicas]
        audits = _audits(archive, 5)
    return render(
        request,
        "archive/index.html",
        title_key="archive.title",
        items=items,
        total=total,
        limit=RESULT_LIMIT,
        replicas=replicas,
        audits=audits,
        query=query,
        classifications=[(c, c) for c in CLASSIFICATIONS],
    )


def _audits(archive: Archive, limit: int) -> list[dict[str, Any]]:
    return [{**a, "time": format_time(a["time"])} for a in archive.index.audits(limit)]


@router.get("/items/{reference:path}", response_class=HTMLResponse)
def item_page(
    reference: str,
    request: Request,
    session: Annotated[Session, require(*VIEW_ROLES, action="archive.view")],
) -> HTMLResponse:
    """Show one item, its metadata and its proof, checked on both sides."""
    t = translator(request)
    api = console_state(request).api
    with _archive(request) as archive:
        row = archive.index.item(reference)
        if row is None:
            raise NotFound(t("archive.no_item", item=reference))
        batch = archive.index.batch(row.batch_seq)
        proof = (
            api.read(lambda store: archive.proof(store, reference))
            if row.status == "anchored"
            else None
        )
    server_check: dict[str, Any] | None = None
    client_input = "null"
    if proof is not None:
        trusted = api.read(trusted_keys)
        try:
            server_check = {
                "ok": True,
                **verify_item_proof(proof, row.sha256, trusted),
            }
        except GovchainError as exc:
            logger.warning("proof of archive item does not verify: %s", exc)
            server_check = {"ok": False, "problem": str(exc)}
        client_input = _client_input(proof)
    return render(
        request,
        "archive/item.html",
        title_key="archive.item_title",
        item=row.summary(),
        reference=reference,
        batch=batch,
        proof=proof,
        server_check=server_check,
        client_input=client_input,
    )


def _client_input(proof: dict[str, Any]) -> str:
    """Return what archive.js needs, as JSON safe inside a script element."""
    anchor = proof["anchor"]
    data = {
        "metadata": _b64(canonical_json(proof["metadata"])),
        "leaf": _b64(canonical_json(proof["leaf"])),
        "sha256": proof["leaf"]["sha256"],
        "leaf_index": proof["leaf_index"],
        "batch_size": proof["batch_size"],
        "proof": proof["inclusion_proof"],
        "anchor_root": anchor["entry"]["tx"]["payload"]["root"],
        "anchor_size": anchor["entry"]["tx"]["payload"]["size"],
        "entry": _b64(canonical_json(anchor["entry"])),
        "entry_index": anchor["leaf_index"],
        "tree_size": anchor["tree_size"],
        "entry_proof": anchor["inclusion_proof"],
        "checkpoint": anchor["checkpoint"],
        "keys": anchor["keys"],
    }
    return json.dumps(data, ensure_ascii=True).replace("</", "<\\/")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/proofs/{reference:path}")
def proof_file(
    reference: str,
    request: Request,
    session: Annotated[Session, require(*VIEW_ROLES, action="archive.view")],
) -> Response:
    """Send an item's proof as a file for `govchain archive verify-item`."""
    t = translator(request)
    api = console_state(request).api
    with _archive(request) as archive:
        row = archive.index.item(reference)
        if row is None or row.status != "anchored":
            raise NotFound(t("archive.no_item", item=reference))
        proof = api.read(lambda store: archive.proof(store, reference))
    body = json.dumps(proof, ensure_ascii=False, indent=1).encode("utf-8")
    logger.info("console user %s exported an archive item proof", session.user.id)
    name = reference.replace("/", "_")
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="proof-{name}.json"'},
    )


@router.get("/audits", response_class=HTMLResponse)
def audits_page(
    request: Request,
    session: Annotated[Session, require(*VIEW_ROLES, action="archive.view")],
) -> HTMLResponse:
    """List the audits, with the running audit's progress, and start one."""
    state = console_state(request)
    job = state.jobs.latest("archive-audit")
    with _archive(request) as archive:
        audits = _audits(archive, 100)
    return render(
        request,
        "archive/audits.html",
        title_key="archive.audits_title",
        audits=audits,
        job=job.to_dict() if job else None,
        job_result=job.result if job is not None and job.state == "done" else None,
        job_running=job is not None and job.state == "running",
        job_owned=job is not None and job.owner == session.user.id,
        can_audit=session.user.role in AUDIT_ROLES,
    )


@router.post("/audits", response_model=None)
def start_audit(
    request: Request,
    session: Annotated[
        Session, require(*AUDIT_ROLES, action="archive.audit", post=True)
    ],
) -> Response:
    """Start an audit with repair unless one is running already."""
    state = console_state(request)
    running = state.jobs.latest("archive-audit")
    if running is None or running.state != "running":
        node = state.api.node

        def work(progress: Progress) -> dict[str, Any]:
            with Archive(node.home) as archive:
                copies = len(archive.index.live_objects()) * len(
                    archive.config.replicas
                )
                progress.stage("checking", copies)
                checked = [0]

                def advance(count: int) -> None:
                    checked[0] += count
                    progress.advance(checked[0])

                report, audit_id = archive.audit(node, repair=True, progress=advance)
            return {"audit": audit_id, "result": report.result}

        state.jobs.start("archive-audit", session.user.id, work)
    return redirect("/archive/audits")


@router.get("/audits/{audit_id}", response_class=HTMLResponse)
def audit_page(
    audit_id: str,
    request: Request,
    session: Annotated[Session, require(*VIEW_ROLES, action="archive.view")],
) -> HTMLResponse:
    """Show one audit report: counts, damaged copies and lost items."""
    t = translator(request)
    with _archive(request) as archive:
        known = [a for a in _audits(archive, 10_000) if a["id"] == audit_id]
        if not known:
            raise NotFound(t("archive.no_audit", id=audit_id))
        report = load_report(archive.config, audit_id)
    return render(
        request,
        "archive/audit.html",
        title_key="archive.audit_title",
        audit=known[0],
        report=report,
    )
