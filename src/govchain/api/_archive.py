"""Archive routes: search items, show one with its proof, appraisal, audits.

Item metadata may name people, so every route needs an API token. Running an
audit records its result on the ledger, so only the archive's own department
(`department` in archive.toml) may start one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from govchain.api._context import Caller, Ctx, ReadStore, Writer
from govchain.archive import Archive, SearchQuery, appraisal
from govchain.archive.audit import load_report
from govchain.archive.store import free_bytes

# TODO: add an upload route for ingest; until then files are ingested with
# `govchain archive ingest` on the node home while no server holds it.
router = APIRouter(prefix="/v1/archive", tags=["archive"])


def open_archive(ctx: Ctx) -> Iterator[Archive]:
    archive = Archive(ctx.node.home)
    try:
        yield archive
    finally:
        archive.close()


ArchiveDep = Annotated[Archive, Depends(open_archive)]


def _not_found(what: str) -> HTTPException:
    return HTTPException(404, f"{what} is not in the archive")


@router.get("/status")
def status(archive: ArchiveDep, caller: Caller) -> dict[str, Any]:
    """Show the replicas, their free space, and the number of items."""
    replicas = []
    for replica in archive.config.replicas:
        free = free_bytes(replica) if replica.path.exists() else None
        replicas.append(
            {"name": replica.name, "path": str(replica.path), "free_bytes": free}
        )
    return {
        "department": archive.config.department,
        "items": archive.index.count_items(),
        "replicas": replicas,
        "last_audits": archive.index.audits(limit=5),
    }


@router.get("/items")
def search(
    archive: ArchiveDep,
    caller: Caller,
    keyword: Annotated[
        str, Query(description="Words in title, creator or notes.")
    ] = "",
    fonds: str = "",
    volume: str = "",
    classification: str = "",
    date_from: Annotated[str, Query(description="Earliest date, YYYY[-MM[-DD]].")] = "",
    date_to: Annotated[str, Query(description="Latest date, YYYY[-MM[-DD]].")] = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    """Search items by metadata; every filter given must match."""
    query = SearchQuery(
        keyword=keyword,
        fonds=fonds,
        volume=volume,
        classification=classification,
        date_from=date_from,
        date_to=date_to,
    )
    found = archive.search(query, limit=limit)
    return {"count": len(found), "items": found}


@router.get("/items/{reference:path}")
def show(reference: str, archive: ArchiveDep, caller: Caller) -> dict[str, Any]:
    """Show one item (`fonds/volume/item`) with its batch."""
    row = archive.index.item(reference)
    if row is None:
        raise _not_found(f"item {reference}")
    return {**row.summary(), "batch": archive.index.batch(row.batch_seq)}


@router.get("/proofs/{reference:path}")
def proof(
    reference: str, archive: ArchiveDep, store: ReadStore, caller: Caller
) -> dict[str, Any]:
    """Return the self-contained proof of an item, for `govchain archive verify-item`."""
    if archive.index.item(reference) is None:
        raise _not_found(f"item {reference}")
    return archive.proof(store, reference)


@router.get("/appraisal")
def due(
    archive: ArchiveDep,
    caller: Caller,
    as_of: Annotated[
        dt.date | None,
        Query(description="Day to judge retention at; today by default."),
    ] = None,
) -> dict[str, Any]:
    """List the items whose retention period has ended."""
    rows = appraisal(archive, as_of)
    return {"count": len(rows), "items": rows}


@router.get("/audits")
def audits(archive: ArchiveDep, caller: Caller) -> dict[str, Any]:
    """List the latest audits recorded by this archive."""
    return {"audits": archive.index.audits()}


@router.get("/audits/{audit_id}")
def audit_report(audit_id: str, archive: ArchiveDep, caller: Caller) -> dict[str, Any]:
    """Return the full report of one audit."""
    if not any(a["id"] == audit_id for a in archive.index.audits(limit=10_000)):
        raise _not_found(f"audit {audit_id}")
    return load_report(archive.config, audit_id)


@router.post("/audits", status_code=201)
def run_audit(
    archive: ArchiveDep, caller: Caller, writer: Writer, repair: bool = False
) -> dict[str, Any]:
    """Audit every copy now, optionally repairing, and record the result."""
    if caller != archive.config.department:
        raise HTTPException(
            403,
            f"only the archive's department {archive.config.department} may run "
            f"audits, not {caller}",
        )
    report, audit_id = archive.audit(writer.node, repair=repair)
    return {"audit": audit_id, "ok": report.ok, **report.to_dict()}
