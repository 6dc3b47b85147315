"""Archive routes: ingest, search, show an item with its proof, appraisal,
audits and disposal.

Item metadata may name people, so every route needs an API token. Ingest,
audits and disposals are signed on the ledger by the archive's own department
(`department` in archive.toml), so only that department may call them.

An upload is `multipart/form-data`: a `metadata` field with a JSON list of
one object per file (`name` plus the metadata columns of docs/archive.md) and
one `files` part per file, in the same order. The parts are written to a
private temporary directory, stored in every replica and anchored there, and
the directory is deleted afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from govchain.api._context import Caller, Ctx, ReadStore, Writer
from govchain.archive import Archive, SearchQuery, appraisal, dispose, parse_metadata
from govchain.archive.audit import load_report
from govchain.archive.ingest import Ingester, Source
from govchain.archive.store import free_bytes
from govchain.errors import PolicyError, ValidationError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/archive", tags=["archive"])

#: Files one upload may carry. FastAPI 0.165 parses forms with Starlette's
#: (1.10) default cap of 1,000 files and responds with 400 above it.
MAX_UPLOAD_FILES = 1000
#: A file name without folders, as the item's file is named in the archive.
_FILE_NAME_RE = re.compile(r"^[^/\\\x00]{1,255}$")


def open_archive(ctx: Ctx) -> Iterator[Archive]:
    archive = Archive(ctx.node.home)
    try:
        yield archive
    finally:
        archive.close()


ArchiveDep = Annotated[Archive, Depends(open_archive)]


def _not_found(what: str) -> HTTPException:
    return HTTPException(404, f"{what} is not in the archive")


def _require_department(archive: Archive, caller: str, action: str) -> None:
    """Raise `PolicyError` unless the caller is the archive's department."""
    if caller != archive.config.department:
        raise PolicyError(
            f"only the archive's department {archive.config.department} may "
            f"{action}, not {caller}; send the request with its API token",
            reason="not-owner",
        )


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
    _require_department(archive, caller, "run audits")
    report, audit_id = archive.audit(writer.node, repair=repair)
    return {
        "audit": audit_id,
        "ok": report.ok,
        **report.to_dict(),
        "seconds": report.seconds,
    }


#: OpenAPI description of the ingest form's `metadata` field.
_METADATA_DESCRIPTION = (
    "JSON list with one object per `files` part, in the same order: `name` "
    "(the file name kept in the archive, without folders) and the metadata "
    "columns fonds, volume, item, title, date, retention, classification, "
    "creator and description."
)


def _upload_entries(text: str, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Check the `metadata` field of an upload; return `(name, row)` per file.

    Values are never quoted in errors, because a title or a file name may
    name a person.
    """
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"metadata is not valid JSON ({exc.msg} at character {exc.pos}); send "
            "a JSON list with one object per file",
            reason="bad-metadata",
        ) from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValidationError(
            "metadata must be a JSON list of objects, one per file part",
            reason="bad-metadata",
        )
    if len(entries) != count:
        raise ValidationError(
            f"metadata lists {len(entries)} entries for {count} file parts; send "
            "one entry per file, in the order of the files parts",
            reason="bad-metadata",
        )
    checked: list[tuple[str, dict[str, Any]]] = []
    for number, entry in enumerate(entries, start=1):
        name = entry.get("name")
        if (
            not isinstance(name, str)
            or not _FILE_NAME_RE.match(name)
            or name in (".", "..")
        ):
            raise ValidationError(
                f"metadata entry {number}, field name: must be the file name "
                "without folders, 1 to 255 characters",
                reason="bad-metadata",
            )
        checked.append((name, entry))
    return checked


def _save_part(upload: UploadFile, path: Path) -> None:
    upload.file.seek(0)
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out)


@router.post("/items", status_code=201)
async def ingest(
    archive: ArchiveDep,
    caller: Caller,
    writer: Writer,
    metadata: Annotated[str, Form(description=_METADATA_DESCRIPTION)],
    files: Annotated[
        list[UploadFile],
        File(description=f"The files, at most {MAX_UPLOAD_FILES} per request."),
    ],
) -> dict[str, Any]:
    """Store the uploaded files in every replica and anchor them on the ledger.

    Items already archived with the same file and metadata are skipped. The
    whole request body counts against the server's request size limit (413
    above it); send large sets in several requests.
    """
    _require_department(archive, caller, "ingest items")
    entries = _upload_entries(metadata, len(files))
    # Every entry is checked before any file is written or stored.
    described = [
        (name, parse_metadata(row, f"metadata entry {number}"))
        for number, (name, row) in enumerate(entries, start=1)
    ]
    with tempfile.TemporaryDirectory(prefix="govchain-upload-") as folder:
        sources: list[Source] = []
        for number, (upload, (name, meta)) in enumerate(
            zip(files, described, strict=True), start=1
        ):
            # Named by position: the client's file name may hold personal data.
            path = Path(folder) / f"part-{number}"
            await run_in_threadpool(_save_part, upload, path)
            sources.append(Source(path=path, name=name, metadata=meta))
        ingester = Ingester(writer.node, archive.config, archive.index)
        report = await run_in_threadpool(ingester.ingest, sources)
    logger.info(
        "ingest by %s through the API: %d items in %d batches, %d already archived",
        caller,
        report.items,
        len(report.batches),
        report.skipped,
    )
    return {**report.to_dict(), "receipt": writer.last_receipt()}


class Disposal(BaseModel):
    item: str = Field(
        max_length=100, description="Reference of the item: fonds/volume/item."
    )
    approval: str = Field(
        min_length=1,
        max_length=200,
        description="Reference of the disposal decision; it goes on the ledger, "
        "so name no person.",
    )


@router.post("/dispositions", status_code=201, response_model=None)
def dispose_item(
    body: Disposal, archive: ArchiveDep, caller: Caller, writer: Writer
) -> dict[str, Any] | JSONResponse:
    """Record the disposal of an item on the ledger, then erase its copies."""
    _require_department(archive, caller, "dispose of items")
    if archive.index.item(body.item) is None:
        logger.info("disposal of unknown item %s by %s: 404", body.item, caller)
        return JSONResponse(
            {
                "error": f"item {body.item} is not in the archive; find references "
                "with GET /v1/archive/items",
                "reason": "not-found",
            },
            status_code=404,
        )
    done = dispose(archive, writer.node, body.item, body.approval)
    return {**done, "receipt": writer.last_receipt()}
