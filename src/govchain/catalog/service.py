"""Catalog operations for stewards: register, update, publish versions, search.

Writes go through a `Node` as transactions signed by the owning department;
reads come straight from the node's state.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.catalog._handlers import (
    RESOURCE_NS,
    SHARING_TYPES,
    VERSION_NS,
    free_text_of,
)
from govchain.catalog.importer import Agency, read_catalog
from govchain.consortium._membership import check_admission
from govchain.crypto.keys import SigningKey
from govchain.datasets import Dataset, DatasetStore
from govchain.errors import ValidationError
from govchain.governance.personal_data import (
    check_free_text,
    find_personal_data,
    mask_personal_data,
)
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.state import StateReader, object_id
from govchain.node._node import Node, Receipt
from govchain.standards import (
    QualityReport,
    Standard,
    build_report,
    render_json,
    validate_table,
)
from govchain.tabular import ImportNote, Table, read_table
from govchain.tabular._header_check import check_header_names

logger = logging.getLogger(__name__)


def _applied(receipt: Receipt) -> Receipt:
    if not receipt.applied:
        raise ValidationError(receipt.message, reason=receipt.reason)
    return receipt


def register_resource(node: Node, owner: str, **fields: Any) -> str:
    """Register a resource owned by `owner` and return its id.

    `fields` are the catalog fields: title, description, fields, standard,
    category, level, sharing, update_frequency, tags and optionally id.
    Raises `ValidationError` with the ledger's reason when it is rejected, and
    before signing when a text holds an ID or mobile number.
    """
    check_free_text(free_text_of(fields))
    tx = node.sign(owner, "catalog.register", fields)
    receipt = _applied(node.submit_one(tx))
    return str(fields.get("id") or object_id("res", receipt.index))


def update_resource(
    node: Node, owner: str, resource_id: str, **changes: Any
) -> Receipt:
    # A rejected transaction keeps its payload on the ledger, so personal data
    # is caught before signing.
    check_free_text(free_text_of(changes))
    return _applied(
        node.act(owner, "catalog.update", {"resource": resource_id, **changes})
    )


def retire_resource(node: Node, owner: str, resource_id: str) -> Receipt:
    return _applied(node.act(owner, "catalog.retire", {"resource": resource_id}))


def publish_version(
    node: Node,
    store: DatasetStore,
    owner: str,
    resource_id: str,
    dataset: Dataset,
    *,
    raw_hash: str | None = None,
    parents: Iterable[str] = (),
    transformation: str = "",
    transformation_hash: str = "",
    quality: dict[str, str] | None = None,
) -> str:
    """Store `dataset` off the ledger and record its version; return the version id.

    `parents` are the version ids it derives from, and `transformation` with
    `transformation_hash` says how (such as a cleaning rule set and its
    digest). `quality` may carry `standard_hash`, `quality_report_hash` and
    `quality_score` (a decimal string), recorded with the version. Raises
    `ValidationError` when the dataset's fields are not the resource's
    registered fields or a row has another number of cells.
    """
    # A version with a quality report may keep invalid cells, which the report
    # lists; one without must match the resource's field types.
    has_report = bool((quality or {}).get("quality_report_hash"))
    check_dataset(
        get_resource(node.store, resource_id), dataset, check_types=not has_report
    )
    content_hash = store.put(dataset)
    payload: dict[str, Any] = {
        "resource": resource_id,
        "content_hash": content_hash,
        "schema_hash": dataset.schema_hash,
        "row_count": len(dataset.rows),
        "parents": list(parents),
        "transformation": transformation,
    }
    if raw_hash:
        payload["raw_hash"] = raw_hash
    if transformation_hash:
        payload["transformation_hash"] = transformation_hash
    payload.update(quality or {})
    check_free_text({"transformation": transformation})
    _applied(node.act(owner, "catalog.publish_version", payload))
    record = node.store.get(RESOURCE_NS, resource_id)
    assert record is not None
    return str(record["latest_version"])


@dataclass(frozen=True)
class SearchQuery:
    """Filters of a catalog search; None or "" matches everything."""

    keyword: str = ""
    department: str | None = None
    category: str | None = None
    sharing: str | None = None
    level: int | None = None
    include_retired: bool = False


def _matches(record: dict[str, Any], query: SearchQuery) -> bool:
    if not query.include_retired and record["status"] != "active":
        return False
    if query.department and record["owner"] != query.department:
        return False
    if query.category and record["category"] != query.category:
        return False
    if query.sharing and record["sharing"] != query.sharing:
        return False
    if query.level is not None and record["level"] != query.level:
        return False
    if query.keyword:
        needle = query.keyword.casefold()
        haystack = " ".join(
            [
                record["title"],
                record["description"],
                record["category"],
                *record["tags"],
            ]
            + [f["name"] for f in record["fields"]]
        ).casefold()
        return needle in haystack
    return True


def check_query(state: StateReader, query: SearchQuery) -> None:
    """Raise `ValidationError` for a filter that no resource can match.

    An unknown sharing type, level or department is a typing mistake, and an
    empty result would read as "no such resources".
    """
    if query.sharing and query.sharing not in SHARING_TYPES:
        raise ValidationError(
            f"sharing {query.sharing[:40]!r} is not a sharing type; use one of "
            f"{', '.join(SHARING_TYPES)}",
            reason="bad-request",
        )
    if query.level is not None and not 1 <= query.level <= 4:
        raise ValidationError(
            f"level {query.level} does not exist; levels run from 1 to 4",
            reason="bad-request",
        )
    if query.department and state.get(DEPT_NS, query.department) is None:
        raise ValidationError(
            f"department {mask_personal_data(query.department[:80])!r} is not a member "
            "department; list them at /v1/consortium/departments",
            reason="unknown-department",
        )


def search(
    state: StateReader, query: SearchQuery, *, limit: int = 100
) -> list[dict[str, Any]]:
    """Return resources matching `query`, by id."""
    # TODO: scan every resource; an index table is needed for 100,000 resources.
    found: list[dict[str, Any]] = []
    for _key, record in state.scan(RESOURCE_NS):
        if _matches(record, query):
            found.append(record)
            if len(found) >= limit:
                break
    return found


def get_resource(state: StateReader, resource_id: str) -> dict[str, Any]:
    record = state.get(RESOURCE_NS, resource_id)
    if record is None:
        raise ValidationError(
            f"resource {resource_id!r} is not in the catalog; search with "
            "`govchain catalog search`",
            reason="unknown-resource",
        )
    return record


def versions(state: StateReader, resource_id: str) -> list[dict[str, Any]]:
    found = [v for _k, v in state.scan(VERSION_NS, f"{resource_id}@")]
    return sorted(found, key=lambda v: int(v["number"]))


@dataclass
class ImportReport:
    """Outcome of a catalog import: resources registered, rows rejected, agencies admitted."""

    source: str
    registered: list[tuple[int, str]]
    refused: list[tuple[int, str, str]]
    admitted: list[str]


def department_id(agency: Agency) -> str:
    """Return the department id of an agency: its code in lower case."""
    return agency.code.lower()


def import_catalog(
    node: Node,
    path: Path,
    *,
    region: str,
    level: str = "city",
    line: str = "general",
    sensitivity: int = 1,
    sharing: str = "unconditional",
) -> ImportReport:
    """Register every dataset of a catalog file, admitting its agencies as departments.

    Agencies that are not members yet are admitted by the operator into
    `region` at `level` and hosted on this node with new keys. Each row becomes
    a resource owned by its agency, or a refusal with the row number and the
    reason (from the file or from the ledger).
    """
    parsed = read_catalog(path)
    report = ImportReport(parsed.source, [], [], [])
    report.refused.extend((p.row, p.column or "", p.message) for p in parsed.problems)
    config = node.store.get("consortium", "config")
    assert config is not None
    operator = config["consortium"]["operator"]
    declared = {r["code"] for r in config["regions"]}
    if region not in declared:
        raise ValidationError(
            f"region {region!r} for the admitted agencies is not declared in the "
            f"consortium; use one of {', '.join(sorted(declared))}",
            reason="unknown-region",
        )
    admissions = []
    unadmitted: dict[str, str] = {}
    for agency in parsed.agencies:
        dept = department_id(agency)
        if node.store.get(DEPT_NS, dept) is not None:
            continue
        department = {
            "id": dept,
            "name": agency.name,
            "region": region,
            "level": level,
            "line": line,
        }
        # Checked before a key is made and anything signed: a rejected admission
        # would keep an agency name holding an ID number on the ledger. The
        # throwaway key only lets the check run; the hosted key is made after.
        trial = {
            "department": department,
            "public_key": SigningKey.generate().public_key.to_b64(),
        }
        try:
            check_admission(node.store, trial)
        except ValidationError as exc:
            unadmitted[dept] = f"agency not admitted: {exc.reason}: {exc}"
            continue
        key = node.host_department(dept)
        admit = {"department": department, "public_key": key.public_key.to_b64()}
        admissions.append(node.sign(operator, "consortium.admit", admit))
    for tx, receipt in zip(admissions, node.submit(admissions), strict=True):
        if not receipt.applied:
            raise ValidationError(
                f"admitting {tx.payload['department']['id']!r} failed: {receipt.message}",
                reason=receipt.reason,
            )
        report.admitted.append(tx.payload["department"]["id"])

    txs = []
    for entry in parsed.entries:
        owner = department_id(entry.agency)
        if owner in unadmitted:
            report.refused.append((entry.row, "", unadmitted[owner]))
            continue
        digest = hashlib.sha256(
            f"{entry.title}\n{entry.description}".encode()
        ).hexdigest()
        payload: dict[str, Any] = {
            "id": f"{owner}.{digest[:12]}",
            "title": entry.title,
            "description": entry.description,
            "category": entry.category,
            "update_frequency": entry.update_frequency,
            "fields": [
                {"name": name, "type": "string", "description": ""}
                for name in entry.fields
            ],
            "tags": list(entry.tags),
            "level": sensitivity,
            "sharing": sharing,
        }
        # A rejected transaction keeps its payload on the ledger, so a row
        # with personal data is rejected before signing.
        try:
            check_free_text(free_text_of(payload))
        except ValidationError as exc:
            report.refused.append((entry.row, "", f"{exc.reason}: {exc}"))
            continue
        txs.append((entry.row, node.sign(owner, "catalog.register", payload)))
    receipts = node.submit([tx for _row, tx in txs], timeout=300)
    for (row, tx), receipt in zip(txs, receipts, strict=True):
        if receipt.applied:
            report.registered.append((row, str(tx.payload["id"])))
        else:
            report.refused.append((row, "", f"{receipt.reason}: {receipt.message}"))
    report.refused.sort()
    logger.info(
        "catalog %s imported: %d registered, %d rejected, %d agencies admitted",
        parsed.source,
        len(report.registered),
        len(report.refused),
        len(report.admitted),
    )
    return report


def dataset_from_table(record: dict[str, Any], table: Table) -> Dataset:
    """Build the dataset of a new version of resource `record` from a read table.

    The columns must be the resource's registered fields, in any order; the
    dataset takes the registered types and descriptions and their order. A
    resource registered without fields takes the table's header as text fields.
    Raises `ValidationError` naming the file and the missing or extra columns,
    or saying that the header is a data row when it has none of the fields and
    holds values.
    """
    header = list(table.header)
    declared = record["fields"]
    if not declared:
        fields = [
            {"name": name, "type": "string", "description": ""} for name in header
        ]
        return Dataset(fields=fields, rows=[list(row) for row in table.rows])
    names = [f["name"] for f in declared]
    check_header_names(table, names)
    missing = [name for name in names if name not in header]
    # Names taken from the file may be values of a data row.
    extra = [mask_personal_data(name) for name in header if name not in names]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing column(s) {missing}")
        if extra:
            problems.append(f"column(s) {extra} that are not fields of the resource")
        raise ValidationError(
            f"{table.source}: {' and '.join(problems)}; resource {record['id']!r} has "
            f"fields {names}. Rename the columns, or change the fields with "
            "`govchain catalog` before publishing",
            reason="schema-mismatch",
        )
    order = [header.index(name) for name in names]
    rows = [[row[i] for i in order] for row in table.rows]
    return Dataset(fields=[dict(f) for f in declared], rows=rows)


def check_dataset(
    record: dict[str, Any], dataset: Dataset, *, check_types: bool = True
) -> None:
    """Raise `ValidationError` unless `dataset` fits the fields of resource `record`.

    With `check_types`, each cell of an integer, number, boolean or year field
    must read as one (or be empty).
    """
    names = [f["name"] for f in record["fields"]]
    given = dataset.field_names
    if names and given != names:
        raise ValidationError(
            f"the version's fields {given} are not the fields of resource "
            f"{record['id']!r}, {names} in this order; publish the registered fields",
            reason="schema-mismatch",
        )
    width = len(given)
    typed = [
        (index, field["name"], field.get("type", "string"))
        for index, field in enumerate(dataset.fields)
        if check_types and field.get("type") in _CELL_PATTERNS
    ]
    bad: list[tuple[int, str, str, int]] = []
    count = 0
    for number, row in enumerate(dataset.rows, start=1):
        if len(row) != width:
            raise ValidationError(
                f"data row {number} has {len(row)} cells for {width} fields; every row "
                "needs one cell per field (null for an empty one)",
                reason="schema-mismatch",
            )
        for index, name, kind in typed:
            cell = row[index]
            if (
                cell is not None
                and cell.strip()
                and not _CELL_PATTERNS[kind].fullmatch(cell)
            ):
                count += 1
                if len(bad) < _REPORTED_CELLS:
                    bad.append((number, name, kind, len(cell)))
    if bad:
        raise ValidationError(_bad_cells_message(bad, count), reason="schema-mismatch")


#: How many bad cells a rejected version's message lists. It counts the rest.
_REPORTED_CELLS = 5


def _bad_cells_message(bad: list[tuple[int, str, str, int]], count: int) -> str:
    # Values are not quoted: they may be personal data.
    listed = "; ".join(
        f"data row {number}, field {name!r}: the cell is not {_CELL_WORDS[kind]} "
        f"({length} characters)"
        for number, name, kind, length in bad
    )
    more = f"; and {count - len(bad)} more such cells" if count > len(bad) else ""
    return (
        f"{listed}{more}. Correct the cells, leave them empty, or register the "
        "fields as string"
    )


# Text forms accepted for the typed fields a version is checked against. Dates
# are left out: spreadsheets write them in many forms, and a data standard
# (`govchain data validate`) checks them with its own formats.
_CELL_PATTERNS = {
    "integer": re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII),
    "number": re.compile(
        r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*", re.ASCII
    ),
    "boolean": re.compile(r"\s*(?i:true|false|yes|no|1|0|是|否)\s*"),
    "year": re.compile(r"\s*[0-9]{4}\s*", re.ASCII),
}
_CELL_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "year": "a four-digit year",
}


def check_file_name(name: str) -> None:
    """Raise `ValidationError` if file `name` contains an ID or mobile number.

    The reason is `personal-data`. An imported file's name is recorded on the
    ledger in the version's transformation (`import NAME`). The message shows
    the name with the number masked.
    """
    kind = find_personal_data(name)
    if kind is not None:
        raise ValidationError(
            f"{mask_personal_data(name)}: the file name contains a {kind}, and the "
            "name would be recorded on the ledger with the version; rename the "
            "file and import it again",
            reason="personal-data",
        )


@dataclass(frozen=True)
class ImportResult:
    """A version imported from a file, with its quality report when checked."""

    version_id: str
    rows: int
    report: QualityReport | None
    notes: tuple[ImportNote, ...] = ()
    """The reader's notes on the file, also in `report` when there is one."""


def import_version(
    node: Node,
    store: DatasetStore,
    owner: str,
    resource_id: str,
    path: Path,
    *,
    standard: Standard | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
    header_rows: int | None = None,
) -> ImportResult:
    """Import a data file as a new version of a resource, all or nothing.

    `header_row` and `header_rows` say where the header is, as for
    `read_table`, when the reader would not find it.

    The file is read strictly (a cell whose value cannot be trusted stops the
    import with its location). `encoding` names the codec of a text file,
    which is detected when it is `None`. With a `standard`, the rows are
    validated and the quality report's hash and score are recorded with the
    version and the report is kept beside the datasets. Invalid rows do not stop the import:
    the raw version keeps every row, and the report lists the invalid ones.
    Nothing is recorded when any step fails, such as when the file's name
    contains an ID or mobile number.
    """
    check_file_name(path.name)
    table = read_table(
        path,
        sheet=sheet,
        encoding=encoding,
        header_row=header_row,
        header_rows=header_rows,
    )
    dataset = dataset_from_table(get_resource(node.store, resource_id), table)
    quality: dict[str, str] = {}
    report = None
    if standard is not None:
        report = build_report(validate_table(table, standard))
        body = render_json(report)
        quality = {
            "standard_hash": standard.sha256,
            "quality_report_hash": hashlib.sha256(body).hexdigest(),
            "quality_score": str(report.score),
        }
        store.put_blob("reports", body)
        if standard.document:
            # Kept so that a cleaned version can be checked against the same
            # standard, registered or not.
            store.put_blob("standards", standard.document)
    version_id = publish_version(
        node,
        store,
        owner,
        resource_id,
        dataset,
        raw_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
        transformation=f"import {path.name}",
        quality=quality,
    )
    logger.info("imported %s as %s (%d rows)", path.name, version_id, len(dataset.rows))
    return ImportResult(version_id, len(dataset.rows), report, table.notes)
