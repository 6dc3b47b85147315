"""Data governance pages: import a spreadsheet, quality reports, cleaning and
classification review, for the stewards of the resource's department.

An import or a cleaning run is a background job (`govchain.console.jobs`):
the form posts the file, the page shows the upload's progress and then polls
the job. Nothing is recorded unless the whole import succeeds, because
`import_version` and `clean_version` publish the version last.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from govchain.catalog import service as catalog
from govchain.catalog._handlers import RESOURCE_NS
from govchain.console._auth import require
from govchain.console._sessions import Session
from govchain.console._web import (
    NotFound,
    Page,
    act,
    console_router,
    console_state,
    error_text,
    reason_text,
    redirect,
    render,
    translator,
)
from govchain.console.jobs import Progress
from govchain.errors import GovchainError, ValidationError
from govchain.governance import service as governance
from govchain.governance.cleaning import load_rule_set
from govchain.ledger.store import LedgerStore
from govchain.standards import load_standard
from govchain.tabular._reader import SUPPORTED_SUFFIXES

logger = logging.getLogger(__name__)

router = console_router("/governance")
page = Page(
    area="governance",
    router=router,
    label="governance.nav",
    path="/console/governance",
    roles=frozenset({"steward"}),
    order=70,
)

#: Largest spreadsheet or rule set accepted, in bytes. NOTE: an estimate that
#: keeps a parsed upload well inside a node's memory; raise it with the memory.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
RULE_SET_SUFFIXES = (".json", ".toml")
STANDARDS = Path(str(files("govchain.data").joinpath("standards")))
STEWARD = ("steward",)


def _standards() -> list[str]:
    return sorted(path.name for path in STANDARDS.glob("*.json"))


def _own_resources(request: Request, session: Session) -> list[dict[str, Any]]:
    dept = session.user.department

    def read(store: LedgerStore) -> list[dict[str, Any]]:
        found = []
        for _key, record in store.scan(RESOURCE_NS):
            if record["owner"] == dept and record["status"] == "active":
                version_id = record.get("latest_version")
                version = store.get("version", version_id) if version_id else None
                found.append({**record, "latest": version})
        return found

    resources: list[dict[str, Any]] = console_state(request).api.read(read)
    return resources


@router.get("", response_class=HTMLResponse)
def governance_page(
    request: Request,
    session: Annotated[Session, require(*STEWARD, action="governance.use")],
    resource: str = "",
) -> HTMLResponse:
    return _page(request, session, {"resource": resource}, {})


def _page(
    request: Request,
    session: Session,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "governance/index.html",
        status_code=status_code,
        title_key="governance.title",
        resources=_own_resources(request, session),
        standards=_standards(),
        values=values,
        errors=errors,
        suffixes=", ".join(SUPPORTED_SUFFIXES),
        max_mib=MAX_UPLOAD_BYTES // (1024 * 1024),
    )


def _save_upload(upload: UploadFile, suffixes: tuple[str, ...] | list[str]) -> Path:
    """Copy an upload to a private temporary file; raise `ValidationError` when unfit.

    The file must end in one of `suffixes` and stay within `MAX_UPLOAD_BYTES`.
    The caller removes the file's folder when done.
    """
    name = Path(upload.filename or "").name
    suffix = Path(name).suffix.lower()
    if not name:
        raise ValidationError("no file was chosen", reason="no-file")
    if suffix not in suffixes:
        raise ValidationError(
            f"{name} is not a {', '.join(suffixes)} file", reason="bad-file-type"
        )
    folder = Path(tempfile.mkdtemp(prefix="govchain-upload-"))
    target = folder / name
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                out.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise ValidationError(
                    f"{name} is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB",
                    reason="file-too-large",
                )
            out.write(chunk)
    if size == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise ValidationError(f"{name} is empty", reason="empty-file")
    return target


def _upload_message(request: Request, exc: ValidationError, field: str) -> str:
    t = translator(request)
    key = f"governance.{exc.reason.replace('-', '_')}"
    if console_state(request).catalogs.has(key):
        return t(
            key,
            max=MAX_UPLOAD_BYTES // (1024 * 1024),
            types=", ".join(SUPPORTED_SUFFIXES),
        )
    return error_text(request, exc)


def _check_resource(
    request: Request, session: Session, resource_id: str, errors: dict[str, str]
) -> None:
    owned = {r["id"] for r in _own_resources(request, session)}
    if resource_id not in owned:
        errors["resource"] = translator(request)("governance.pick_resource")


def _accepted(request: Request, job_id: str) -> Response:
    """Return the response to a started job: JSON for the page's script, else
    a redirect to the job's page."""
    done_url = f"/console/governance/jobs/{job_id}"
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"job": job_id, "done_url": done_url}, status_code=202)
    return redirect(f"/governance/jobs/{job_id}")


@router.post("/import", response_model=None)
def start_import(
    request: Request,
    session: Annotated[
        Session, require(*STEWARD, action="governance.import", post=True)
    ],
    resource: Annotated[str, Form()] = "",
    standard: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = {"resource": resource, "standard": standard}
    errors: dict[str, str] = {}
    _check_resource(request, session, resource, errors)
    if standard and standard not in _standards():
        errors["standard"] = translator(request)("governance.bad_standard")
    path: Path | None = None
    if file is None:
        errors["file"] = translator(request)("governance.no_file")
    elif not errors:
        try:
            path = _save_upload(file, SUPPORTED_SUFFIXES)
        except ValidationError as exc:
            errors["file"] = _upload_message(request, exc, "file")
    if errors or path is None:
        return _page(request, session, values, errors, 422)
    saved = path
    state = console_state(request)
    owner = session.user.department

    def work(progress: Progress) -> dict[str, Any]:
        try:
            progress.stage("reading")
            schema = load_standard(STANDARDS / standard) if standard else None
            progress.stage("publishing")
            result = act(
                request,
                session.user,
                "governance.import",
                lambda node: catalog.import_version(
                    node, state.api.datasets, owner, resource, saved, standard=schema
                ),
            )
        finally:
            shutil.rmtree(saved.parent, ignore_errors=True)
        report = result.report.to_dict() if result.report is not None else None
        return {
            "resource": resource,
            "version": result.version_id,
            "rows": result.rows,
            "report": report,
        }

    job = state.jobs.start("import", session.user.id, work)
    return _accepted(request, job.id)


@router.post("/clean", response_model=None)
def start_cleaning(
    request: Request,
    session: Annotated[
        Session, require(*STEWARD, action="governance.clean", post=True)
    ],
    resource: Annotated[str, Form()] = "",
    rules: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = {"clean_resource": resource}
    errors: dict[str, str] = {}
    _check_resource(request, session, resource, errors)
    if "resource" in errors:
        errors["clean_resource"] = errors.pop("resource")
    path: Path | None = None
    if rules is None:
        errors["rules"] = translator(request)("governance.no_file")
    elif not errors:
        try:
            path = _save_upload(rules, RULE_SET_SUFFIXES)
            rule_set = load_rule_set(path)
        except ValidationError as exc:
            errors["rules"] = _upload_message(request, exc, "rules")
        finally:
            if path is not None:
                shutil.rmtree(path.parent, ignore_errors=True)
    if errors:
        return _page(request, session, values, errors, 422)
    state = console_state(request)
    owner = session.user.department

    def work(progress: Progress) -> dict[str, Any]:
        progress.stage("cleaning")
        outcome = act(
            request,
            session.user,
            "governance.clean",
            lambda node: governance.clean_version(
                node, state.api.datasets, owner, resource, rule_set
            ),
        )
        return {
            "resource": resource,
            "version": outcome.version_id,
            "parent": outcome.parent,
            "rows_in": outcome.rows_in,
            "rows_out": outcome.rows_out,
            "changes": outcome.changes,
        }

    job = state.jobs.start("clean", session.user.id, work)
    return _accepted(request, job.id)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    job_id: str,
    request: Request,
    session: Annotated[Session, require(*STEWARD, action="governance.use")],
) -> HTMLResponse:
    job = console_state(request).jobs.get(job_id)
    if job is None or job.owner != session.user.id:
        raise NotFound(translator(request)("error.no_job"))
    error = ""
    if job.state == "failed":
        error = _job_error(request, job.error, job.error_reason)
    return render(
        request,
        "governance/job.html",
        title_key="governance.job_title",
        job=job.to_dict(),
        result=job.result,
        quality=job.result.get("report"),
        error=error,
    )


def _job_error(request: Request, message: str, reason: str) -> str:
    return reason_text(request, reason, message)


@router.get("/classify/{resource_id}", response_class=HTMLResponse)
def classification_page(
    resource_id: str,
    request: Request,
    session: Annotated[Session, require(*STEWARD, action="governance.classify")],
    notice: str = "",
) -> HTMLResponse:
    return _classification(request, session, resource_id, notice=notice)


def _classification(
    request: Request,
    session: Session,
    resource_id: str,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    def read(store: LedgerStore) -> tuple[Any, Any]:
        return store.get(RESOURCE_NS, resource_id), store.get(
            "classification", resource_id
        )

    record, entry = console_state(request).api.read(read)
    if record is None or record["owner"] != session.user.department:
        raise NotFound(translator(request)("catalog.no_resource", id=resource_id))
    return render(
        request,
        "governance/classify.html",
        status_code=status_code,
        title_key="governance.classify_title",
        resource=record,
        entry=entry,
        notice=notice,
        errors=errors or {},
    )


@router.post("/classify/{resource_id}", response_model=None)
def classify(
    resource_id: str,
    request: Request,
    session: Annotated[
        Session, require(*STEWARD, action="governance.classify", post=True)
    ],
) -> Response:
    state = console_state(request)
    try:
        act(
            request,
            session.user,
            "governance.classify",
            lambda node: governance.classify_version(
                node, state.api.datasets, session.user.department, resource_id
            ),
        )
    except GovchainError as exc:
        errors = {"form": error_text(request, exc)}
        return _classification(
            request, session, resource_id, errors=errors, status_code=422
        )
    return redirect(f"/governance/classify/{resource_id}", notice="classified")


@router.post("/classify/{resource_id}/override", response_model=None)
def override(
    resource_id: str,
    request: Request,
    session: Annotated[
        Session, require(*STEWARD, action="governance.classify", post=True)
    ],
    field: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    t = translator(request)
    errors: dict[str, str] = {}
    if not (level.isdigit() and 1 <= int(level) <= 4):
        errors[f"level-{field}"] = t("catalog.bad_level")
    if len(reason.strip()) < 10:
        errors[f"reason-{field}"] = t("governance.short_reason")
    if errors:
        return _classification(
            request, session, resource_id, errors=errors, status_code=422
        )
    try:
        act(
            request,
            session.user,
            "governance.override",
            lambda node: governance.override_grade(
                node,
                session.user.department,
                resource_id,
                field,
                level=int(level),
                reason=reason.strip(),
            ),
        )
    except GovchainError as exc:
        errors = {"form": error_text(request, exc)}
        return _classification(
            request, session, resource_id, errors=errors, status_code=422
        )
    return redirect(f"/governance/classify/{resource_id}", notice="overridden")
