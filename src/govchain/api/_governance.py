"""Data governance routes: import, validate, quality reports, clean, classify, lineage.

Files travel as the raw request body (`Content-Type: application/octet-stream`)
with their name in the `filename` query parameter, because the suffix picks the
reader. The file is written to a private temporary directory, read there and
deleted, so an upload leaves nothing behind but the dataset version it became.
Standards are named either by a registered `name@version` or given inline.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from govchain.api._context import Caller, Ctx, ReadStore, Writer
from govchain.catalog import service as catalog
from govchain.catalog._handlers import VERSION_NS
from govchain.errors import ValidationError
from govchain.governance import service as steward
from govchain.governance.classify import DEFAULT_RULES, parse_classification_rules
from govchain.governance.cleaning import parse_rule_set
from govchain.governance.lineage import lineage_graph
from govchain.ledger.state import StateReader
from govchain.standards import (
    Standard,
    build_report,
    render_html,
    report_from_dict,
    validate_table,
)
from govchain.standards.registry import (
    get_standard,
    list_standards,
    register_document,
    standard_of,
)
from govchain.standards.report import note_dict
from govchain.tabular import read_table

router = APIRouter(prefix="/v1/data", tags=["data governance"])

#: A file name without folders: the suffix picks the reader.
_FILENAME_RE = re.compile(r"^[^/\\\x00]{1,200}\.[A-Za-z]{3,4}$")

Filename = Annotated[
    str, Query(description="Name of the uploaded file, such as register.xlsx.")
]
StandardRef = Annotated[
    str | None, Query(description="Registered standard as NAME@VERSION.")
]
Sheet = Annotated[str | None, Query(description="Worksheet name for workbooks.")]
HeaderRow = Annotated[
    int | None,
    Query(
        ge=0,
        description="Row number where the header starts (1 is the first row; 0: "
        "no header); found near the top when omitted.",
    ),
]
HeaderRows = Annotated[
    int | None,
    Query(ge=1, description="Number of rows the header spans; one when omitted."),
]
Encoding = Annotated[
    str | None,
    Query(
        description="Text encoding of a .csv or .tsv file, a Python codec name "
        "such as gb18030 or latin-1; detected when omitted."
    ),
]


def _standard(state: StateReader, reference: str | None) -> Standard | None:
    if reference is None:
        return None
    return standard_of(get_standard(state, reference))


async def _upload(request: Request, filename: str, folder: str) -> Path:
    if not _FILENAME_RE.match(filename):
        # The name itself is left out: a file name can hold an ID number.
        raise ValidationError(
            "filename must be a plain file name (no folders, at most 200 "
            "characters) with a suffix such as .csv or .xlsx",
            reason="bad-request",
        )
    path = Path(folder) / filename
    path.write_bytes(await request.body())
    return path


#: The OpenAPI description of a body that is a whole file, which FastAPI
#: cannot infer from a route that reads the raw request body.
_FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file itself; its name goes in `filename`.",
        "content": {
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}
            }
        },
    }
}


@router.post(
    "/resources/{resource_id}/import", status_code=201, openapi_extra=_FILE_BODY
)
async def import_file(
    resource_id: str,
    request: Request,
    filename: Filename,
    caller: Caller,
    writer: Writer,
    store: ReadStore,
    ctx: Ctx,
    standard: StandardRef = None,
    sheet: Sheet = None,
    encoding: Encoding = None,
    header_row: HeaderRow = None,
    header_rows: HeaderRows = None,
) -> dict[str, Any]:
    """Import the uploaded file as a new version of a resource the caller owns.

    The request body is the file itself (`application/octet-stream`).

    With `standard`, the rows are validated and the quality report's hash and
    score are recorded with the version. Nothing is recorded when the file
    cannot be read.
    """
    schema = _standard(store, standard)
    with tempfile.TemporaryDirectory(prefix="govchain-upload-") as folder:
        path = await _upload(request, filename, folder)
        # Reading and hashing a large file must not stall the event loop.
        result = await run_in_threadpool(
            catalog.import_version,
            writer.node,
            ctx.datasets,
            caller,
            resource_id,
            path,
            standard=schema,
            sheet=sheet,
            encoding=encoding,
            header_row=header_row,
            header_rows=header_rows,
        )
    return {
        "version": result.version_id,
        "rows": result.rows,
        "report": None if result.report is None else result.report.to_dict(),
        "notes": [note_dict(n) for n in result.notes],
        "receipt": writer.last_receipt(),
    }


@router.post("/validate", openapi_extra=_FILE_BODY)
async def validate(
    request: Request,
    filename: Filename,
    store: ReadStore,
    caller: Caller,
    standard: Annotated[str, Query(description="Registered standard NAME@VERSION.")],
    sheet: Sheet = None,
    encoding: Encoding = None,
    header_row: HeaderRow = None,
    header_rows: HeaderRows = None,
) -> dict[str, Any]:
    """Validate the uploaded file against a registered standard; records nothing.

    The request body is the file itself (`application/octet-stream`).
    """
    schema = standard_of(get_standard(store, standard))
    with tempfile.TemporaryDirectory(prefix="govchain-upload-") as folder:
        path = await _upload(request, filename, folder)
        table = await run_in_threadpool(
            read_table,
            path,
            sheet=sheet,
            encoding=encoding,
            header_row=header_row,
            header_rows=header_rows,
        )
    report = await run_in_threadpool(
        lambda: build_report(validate_table(table, schema))
    )
    return report.to_dict()


@router.get("/versions/{version_id}/report")
def report(
    version_id: str,
    store: ReadStore,
    caller: Caller,
    ctx: Ctx,
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
) -> Any:
    """Return the quality report recorded with a version, checked against its hash.

    `format=html` returns an HTML fragment for the console.
    """
    version = store.get(VERSION_NS, version_id)
    if version is None:
        raise ValidationError(
            f"version {version_id!r} is not on the ledger", reason="unknown-version"
        )
    digest = version.get("quality_report_hash")
    if not digest:
        raise ValidationError(
            f"version {version_id!r} was imported without a standard, so it has no "
            "quality report",
            reason="no-report",
        )
    path = ctx.datasets.root / "reports" / f"{digest}.json"
    try:
        body = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValidationError(
            f"the quality report of {version_id!r} is not kept on this node; ask "
            "the owner's node",
            reason="not-found",
        ) from exc
    document: dict[str, Any] = json.loads(body)
    if format == "html":
        return HTMLResponse(render_html_document(document))
    return document


def render_html_document(document: dict[str, Any]) -> str:
    """Render a stored report (its JSON form) as the console's HTML fragment."""
    return render_html(report_from_dict(document))


class CleanRequest(BaseModel):
    rules: dict[str, Any] = Field(description="Cleaning rule set document.")
    version: str | None = Field(None, description="Version to clean; latest if none.")


@router.post("/resources/{resource_id}/clean", status_code=201)
def clean(
    resource_id: str, body: CleanRequest, caller: Caller, writer: Writer, ctx: Ctx
) -> dict[str, Any]:
    """Clean a version into a new version of a resource the caller owns."""
    rule_set = parse_rule_set(body.rules, source="request rules")
    outcome = steward.clean_version(
        writer.node,
        ctx.datasets,
        caller,
        resource_id,
        rule_set,
        version_id=body.version,
    )
    return {
        **outcome.to_dict(),
        "rule_set": rule_set.ref,
        "rule_set_hash": rule_set.digest,
        "receipt": writer.last_receipt(),
    }


class ClassifyRequest(BaseModel):
    rules: dict[str, Any] | None = Field(
        None, description="Classification rules; the four-grade default if none."
    )
    version: str | None = Field(
        None, description="Version to classify; latest if none."
    )
    dry_run: bool = Field(False, description="Return the grades without recording.")


@router.post("/resources/{resource_id}/classify")
def classify(
    resource_id: str, body: ClassifyRequest, caller: Caller, writer: Writer, ctx: Ctx
) -> dict[str, Any]:
    """Detect and grade the sensitive fields of a version, and record the grades."""
    rules = DEFAULT_RULES
    if body.rules is not None:
        rules = parse_classification_rules(body.rules, source="request rules")
    version_id, result = steward.classify_version(
        writer.node,
        ctx.datasets,
        caller,
        resource_id,
        rules=rules,
        version_id=body.version,
        record=not body.dry_run,
    )
    return {
        "version": version_id,
        "recorded": not body.dry_run,
        **result.to_dict(),
        "receipt": writer.last_receipt(),
    }


class OverrideRequest(BaseModel):
    field: str
    level: int = Field(ge=1, le=4)
    reason: str = Field(description="Why; recorded on the ledger, so name no person.")
    category: str | None = None
    kind: str | None = None


@router.post("/resources/{resource_id}/overrides")
def override(
    resource_id: str, body: OverrideRequest, caller: Caller, writer: Writer
) -> dict[str, Any]:
    """Override the grade of one field, with the reason, on the ledger."""
    entry = steward.override_grade(
        writer.node,
        caller,
        resource_id,
        body.field,
        level=body.level,
        reason=body.reason,
        category=body.category,
        kind=body.kind,
    )
    return {"classification": entry, "receipt": writer.last_receipt()}


@router.get("/resources/{resource_id}/classification")
def classification(
    resource_id: str, store: ReadStore, caller: Caller
) -> dict[str, Any]:
    """Return the recorded grades of a resource, with the overrides."""
    return steward.get_classification(store, resource_id)


@router.get("/resources/{resource_id}/lineage")
def lineage(resource_id: str, store: ReadStore, caller: Caller) -> dict[str, Any]:
    """Return the lineage graph: versions, deliveries and the edges between them."""
    return lineage_graph(store, resource_id).to_dict()


@router.post("/standards", status_code=201)
async def register_standard(
    request: Request,
    caller: Caller,
    writer: Writer,
    name: Annotated[str | None, Query()] = None,
    version: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Register the Table Schema in the body as a data standard of the caller."""
    record = register_document(
        writer.node,
        caller,
        await request.body(),
        source="request body",
        name=name,
        version=version,
    )
    summary = {k: v for k, v in record.items() if k != "document"}
    return {"standard": summary, "receipt": writer.last_receipt()}


@router.get("/standards")
def standards(store: ReadStore, caller: Caller) -> dict[str, Any]:
    """List the registered data standards."""
    found = list_standards(store)
    return {"count": len(found), "standards": found}


@router.get("/standards/{reference}")
def standard(reference: str, store: ReadStore, caller: Caller) -> dict[str, Any]:
    """Return one registered standard with its document."""
    return get_standard(store, reference)
