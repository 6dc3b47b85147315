"""Catalog pages: search with filters, a resource's page, registration and upkeep.

Any role searches and reads resources. A steward registers resources owned by
the steward's department, and updates or retires them; versions are published
from the governance page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from govchain import audit
from govchain.catalog import service
from govchain.catalog._handlers import FIELD_TYPES, RESOURCE_NS, SHARING_TYPES
from govchain.console._auth import Viewer, require
from govchain.console._cache import LedgerCache
from govchain.console._sessions import Session
from govchain.console._web import (
    NotFound,
    Page,
    Refused,
    act,
    console_router,
    console_state,
    error_text,
    record_refusal,
    redirect,
    render,
    translator,
)
from govchain.console.audit import newest_trail
from govchain.console.charts import graph_chart
from govchain.errors import GovchainError, ValidationError
from govchain.governance.lineage import lineage_graph
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.store import LedgerStore

logger = logging.getLogger(__name__)

router = console_router("/catalog")
page = Page(
    area="catalog",
    router=router,
    label="catalog.nav",
    path="/console/catalog",
    roles=frozenset({"operator", "steward", "officer", "auditor"}),
    order=20,
)

LEVELS = (1, 2, 3, 4)
#: Results shown on one search page.
PAGE_SIZE = 50
TRAIL_ROWS = 200


@router.get("", response_class=HTMLResponse)
def search(
    request: Request,
    session: Viewer,
    keyword: str = "",
    department: str = "",
    category: str = "",
    level: str = "",
    sharing: str = "",
) -> HTMLResponse:
    t = translator(request)
    errors: dict[str, str] = {}
    level_value: int | None = None
    if level:
        if level.isdigit() and int(level) in LEVELS:
            level_value = int(level)
        else:
            errors["level"] = t("catalog.bad_level")
    if sharing and sharing not in SHARING_TYPES:
        errors["sharing"] = t("catalog.bad_sharing")
    query = service.SearchQuery(
        keyword=keyword.strip(),
        department=department or None,
        category=category or None,
        sharing=sharing or None,
        level=level_value,
    )

    def read(store: LedgerStore) -> dict[str, Any]:
        found = [] if errors else service.search(store, query, limit=PAGE_SIZE + 1)
        return {"results": found[:PAGE_SIZE], "more": len(found) > PAGE_SIZE}

    state = console_state(request)
    choices = state.caches.get("catalog-choices")
    if choices is None:
        choices = state.caches.setdefault(
            "catalog-choices", LedgerCache("catalog filters", _choices)
        )
    data = {**state.api.read(read), **choices.get(state.api).value}
    return render(
        request,
        "catalog/search.html",
        title_key="catalog.title",
        errors=errors,
        filters={
            "keyword": keyword,
            "department": department,
            "category": category,
            "level": level,
            "sharing": sharing,
        },
        can_register=session.user.role == "steward",
        **data,
    )


def _choices(store: LedgerStore) -> dict[str, Any]:
    departments = [(dept, str(r["name"])) for dept, r in store.scan(DEPT_NS)]
    # Reads every resource; `LedgerCache` keeps the result until the log grows.
    categories = sorted(
        {str(r["category"]) for _k, r in store.scan(RESOURCE_NS) if r["category"]}
    )
    return {"departments": departments, "categories": categories}


@router.get("/new", response_class=HTMLResponse)
def new_resource(
    request: Request,
    session: Annotated[Session, require("steward", action="catalog.register")],
) -> HTMLResponse:
    return _register_form(request, {}, {})


def _register_form(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "catalog/new.html",
        status_code=status,
        title_key="catalog.new_title",
        values=values,
        errors=errors,
        levels=LEVELS,
        sharing_types=SHARING_TYPES,
        field_types=FIELD_TYPES,
    )


def _entry_errors(
    t: Callable[..., str], title: str, level: str, sharing: str
) -> dict[str, str]:
    """Return the form errors of a catalog entry's title, level and sharing type."""
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = t("error.required")
    if not (level.isdigit() and int(level) in LEVELS):
        errors["level"] = t("catalog.bad_level")
    if sharing not in SHARING_TYPES:
        errors["sharing"] = t("catalog.bad_sharing")
    return errors


@router.post("/new", response_model=None)
def register(
    request: Request,
    session: Annotated[
        Session, require("steward", action="catalog.register", post=True)
    ],
    title: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    sharing: Annotated[str, Form()] = "",
    update_frequency: Annotated[str, Form()] = "",
    fields: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
) -> Response:
    t = translator(request)
    values = {
        "title": title,
        "description": description,
        "category": category,
        "level": level,
        "sharing": sharing,
        "update_frequency": update_frequency,
        "fields": fields,
        "tags": tags,
    }
    errors = _entry_errors(t, title, level, sharing)
    parsed_fields, problem = _parse_fields(fields)
    if problem:
        errors["fields"] = t(problem[0], **problem[1])
    if errors:
        return _register_form(request, values, errors, status=422)
    payload: dict[str, Any] = {
        "title": title.strip(),
        "description": description.strip(),
        "category": category.strip(),
        "level": int(level),
        "sharing": sharing,
        "update_frequency": update_frequency.strip(),
        "fields": parsed_fields,
        "tags": _tags(tags),
    }
    try:
        resource_id = act(
            request,
            session.user,
            "catalog.register",
            lambda node: service.register_resource(
                node, session.user.department, **payload
            ),
        )
    except ValidationError as exc:
        errors["form"] = error_text(request, exc)
        return _register_form(request, values, errors, status=422)
    return redirect(f"/catalog/{resource_id}", notice="registered")


def _parse_fields(
    text: str,
) -> tuple[list[dict[str, Any]], tuple[str, dict[str, Any]] | None]:
    """Parse one field a line, `name[:type[:description]]`.

    Returns the fields, or a message key and its values for the first bad line.
    """
    parsed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.replace("：", ":").split(":", 2)]
        name = parts[0]
        kind = parts[1] if len(parts) > 1 and parts[1] else "string"
        if not name:
            return [], ("catalog.field_no_name", {"line": number})
        if kind not in FIELD_TYPES:
            return [], (
                "catalog.field_bad_type",
                {"line": number, "types": ", ".join(FIELD_TYPES)},
            )
        if name in seen:
            return [], ("catalog.field_twice", {"line": number})
        seen.add(name)
        description = parts[2] if len(parts) > 2 else ""
        parsed.append({"name": name, "type": kind, "description": description})
    return parsed, None


@router.get("/{resource_id}", response_class=HTMLResponse)
def resource_page(
    resource_id: str, request: Request, session: Viewer, notice: str = ""
) -> HTMLResponse:
    state = console_state(request)
    t = translator(request)

    def read(store: LedgerStore) -> dict[str, Any]:
        record = store.get(RESOURCE_NS, resource_id)
        if record is None:
            raise NotFound(t("catalog.no_resource", id=resource_id))
        owner = store.get(DEPT_NS, record["owner"])
        return {
            "resource": record,
            "owner_name": owner["name"] if owner else record["owner"],
            "versions": service.versions(store, resource_id),
            "trail": newest_trail(
                store, audit.TrailQuery(resource=resource_id, limit=TRAIL_ROWS)
            ),
            "lineage": _lineage(store, resource_id, t("catalog.lineage")),
            "classification": store.get("classification", resource_id),
        }

    data = state.api.read(read)
    latest = data["versions"][-1] if data["versions"] else None
    user = session.user
    return render(
        request,
        "catalog/resource.html",
        title_key="catalog.resource_title",
        notice=notice,
        quality=_quality_report(request, latest),
        can_request=user.role == "officer"
        and user.department != data["resource"]["owner"],
        is_owner=user.role == "steward"
        and user.department == data["resource"]["owner"],
        **data,
    )


def _lineage(store: LedgerStore, resource_id: str, title: str) -> Any:
    try:
        graph = lineage_graph(store, resource_id)
    except GovchainError as exc:
        logger.info("no lineage for %s: %s", resource_id, exc)
        return None
    return graph_chart(
        title,
        [(node.id, node.kind, node.label) for node in graph.nodes],
        [(edge.source, edge.target, edge.transformation) for edge in graph.edges],
        empty="",
    )


def _quality_report(
    request: Request, version: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Load the quality report recorded with `version`, when it has one."""
    if version is None or not version.get("quality_report_hash"):
        return None
    digest = str(version["quality_report_hash"])
    path = console_state(request).api.datasets.root / "reports" / f"{digest}.json"
    try:
        report: dict[str, Any] = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        logger.warning(
            "quality report %s of %s unreadable: %s", digest, version["id"], exc
        )
        return None
    return report


#: Form fields the edit page offers; field lists and standards change through
#: the governance page, where each version is checked against them.
EDITABLE = ("title", "description", "category", "level", "sharing", "update_frequency")


def _owned_resource(
    request: Request, session: Session, resource_id: str, action: str
) -> dict[str, Any]:
    """Return the resource when the steward's department owns it.

    Any other department's steward is refused, and the attempt is recorded on
    the ledger as a `console.refusal` of the resource.
    """
    t = translator(request)
    record = console_state(request).api.read(lambda s: s.get(RESOURCE_NS, resource_id))
    if record is None:
        raise NotFound(t("catalog.no_resource", id=resource_id))
    if record["owner"] != session.user.department:
        tx_id = record_refusal(request, session.user, action, resource=resource_id)
        raise Refused(action, tx_id=tx_id)
    return dict(record)


def _edit_values(record: dict[str, Any]) -> dict[str, str]:
    values = {name: str(record.get(name) or "") for name in EDITABLE}
    values["tags"] = ", ".join(record.get("tags") or [])
    return values


def _edit_form(
    request: Request,
    record: dict[str, Any],
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "catalog/edit.html",
        status_code=status,
        title_key="catalog.edit_title",
        resource=record,
        values=values,
        errors=errors,
        levels=LEVELS,
    )


@router.get("/{resource_id}/edit", response_class=HTMLResponse)
def edit_resource(
    resource_id: str,
    request: Request,
    session: Annotated[Session, require("steward", action="catalog.update")],
) -> HTMLResponse:
    record = _owned_resource(request, session, resource_id, "catalog.update")
    return _edit_form(request, record, _edit_values(record), {})


@router.post("/{resource_id}/edit", response_model=None)
def update(
    resource_id: str,
    request: Request,
    session: Annotated[Session, require("steward", action="catalog.update", post=True)],
    title: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    sharing: Annotated[str, Form()] = "",
    update_frequency: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
) -> Response:
    """Record a `catalog.update` with the fields whose value the form changed."""
    t = translator(request)
    record = _owned_resource(request, session, resource_id, "catalog.update")
    values = {
        "title": title,
        "description": description,
        "category": category,
        "level": level,
        "sharing": sharing,
        "update_frequency": update_frequency,
        "tags": tags,
    }
    errors = _entry_errors(t, title, level, sharing)
    if errors:
        return _edit_form(request, record, values, errors, status=422)
    submitted: dict[str, Any] = {
        "title": title.strip(),
        "description": description.strip(),
        "category": category.strip(),
        "level": int(level),
        "sharing": sharing,
        "update_frequency": update_frequency.strip(),
        "tags": _tags(tags),
    }
    changes = {
        name: value
        for name, value in submitted.items()
        if value != (record.get(name) or ([] if name == "tags" else ""))
    }
    if not changes:
        errors["form"] = t("catalog.no_change")
        return _edit_form(request, record, values, errors, status=422)
    try:
        act(
            request,
            session.user,
            "catalog.update",
            lambda node: service.update_resource(
                node, session.user.department, resource_id, **changes
            ),
        )
    except ValidationError as exc:
        errors["form"] = error_text(request, exc)
        return _edit_form(request, record, values, errors, status=422)
    return redirect(f"/catalog/{resource_id}", notice="updated")


def _tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.replace("，", ",").split(",") if tag.strip()]


@router.post("/{resource_id}/retire", response_model=None)
def retire(
    resource_id: str,
    request: Request,
    session: Annotated[Session, require("steward", action="catalog.retire", post=True)],
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Retire the resource: it stays in the catalog, and no new request may name it."""
    record = _owned_resource(request, session, resource_id, "catalog.retire")
    errors: dict[str, str] = {}
    if confirm != "yes":
        errors["confirm"] = translator(request)("catalog.retire_confirm_needed")
        return _edit_form(request, record, _edit_values(record), errors, status=422)
    try:
        act(
            request,
            session.user,
            "catalog.retire",
            lambda node: service.retire_resource(
                node, session.user.department, resource_id
            ),
        )
    except ValidationError as exc:
        errors["form"] = error_text(request, exc)
        return _edit_form(request, record, _edit_values(record), errors, status=422)
    return redirect(f"/catalog/{resource_id}", notice="retired")
