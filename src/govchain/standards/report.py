"""The data-quality report of a validated table, and its three renderings.

`build_report` counts, for each field and each rule, the cells that are
invalid, missing, duplicate or out of range, with their row numbers, and
scores the table from 0 to 100:

    score = 100 × (1 − error cells ÷ (rows × fields)), rounded down to 0.01

where `fields` counts the fields of the standard and an error cell is a cell
of one of those fields with at least one error finding. Every cell of a row
that repeats an earlier row, every key cell of a repeated primary key and every
cell of a column missing from the header counts as an error cell. Warnings do
not lower the score. Rounding down keeps any error below 100. A table without
data rows scores 100 when it has no errors and 0 otherwise.

`render_json` gives canonical JSON (RFC 8785 as the ledger uses it), so the
SHA-256 of the report can be recorded on the ledger. `render_rich` gives a
Rich renderable for the CLI. `render_html` gives an HTML fragment for the web
console, with every text escaped and no scripts, styles or links.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import polars as pl
from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from govchain.ledger.canonical import canonical_json
from govchain.standards.validate import Finding, Validation
from govchain.tabular import ImportNote

REPORT_FORMAT = "govchain-quality-report/1"
SCORE_FORMULA = (
    "100 * (1 - error cells / (rows * fields)), rounded down to 0.01; "
    "warnings do not count"
)
#: Rule groups behind the invalid, out-of-range, duplicate and table counts.
INVALID_RULES = ("type", "format", "pattern", "enum", "minLength", "maxLength")
OUT_OF_RANGE_RULES = ("minimum", "maximum")
DUPLICATE_RULES = ("unique",)
TABLE_RULES = ("missing-column", "extra-column", "duplicate-row", "primaryKey")


@dataclass(frozen=True)
class RuleCount:
    """How often one rule failed, and in which physical rows."""

    rule: str
    severity: str
    count: int
    rows: tuple[int, ...]


@dataclass(frozen=True)
class FieldReport:
    """The counts of one field of the standard."""

    name: str
    type: str
    format: str
    present: bool
    missing: int
    invalid: int
    duplicate: int
    out_of_range: int
    error_cells: int
    rules: tuple[RuleCount, ...]


@dataclass(frozen=True)
class QualityReport:
    """Counts, score and findings of one table checked against one standard."""

    source: str
    sheet: str | None
    standard_title: str
    standard_source: str
    standard_sha256: str
    rows: int
    valid: bool
    errors: int
    warnings: int
    error_rows: int
    error_cells: int
    cells: int
    score: Decimal
    """0.00 to 100.00, see the module docstring for the formula."""
    fields: tuple[FieldReport, ...]
    table_rules: tuple[RuleCount, ...]
    """Counts of the rules that concern the header or whole rows."""
    findings: tuple[Finding, ...]
    notes: tuple[ImportNote, ...] = ()
    """The reader's notes on the file, such as hidden rows or removed guards."""

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values; the score is a decimal string."""
        document: dict[str, Any] = {
            "format": REPORT_FORMAT,
            "source": self.source,
            "sheet": self.sheet,
            "standard": {
                "title": self.standard_title,
                "source": self.standard_source,
                "sha256": self.standard_sha256,
            },
            "rows": self.rows,
            "valid": self.valid,
            "errors": self.errors,
            "warnings": self.warnings,
            "error_rows": self.error_rows,
            "error_cells": self.error_cells,
            "cells": self.cells,
            "score": str(self.score),
            "score_formula": SCORE_FORMULA,
            "fields": [_field_dict(f) for f in self.fields],
            "table": _rules_dict(self.table_rules),
            "findings": [
                {
                    "row": f.row,
                    "column": f.column,
                    "rule": f.rule,
                    "severity": f.severity,
                    "code": f.code,
                    "message": f.message,
                }
                for f in self.findings
            ],
        }
        # Reports of files without notes keep the form, and hash, they had
        # before notes were reported.
        if self.notes:
            document["notes"] = [note_dict(n) for n in self.notes]
        return document


def report_from_dict(document: dict[str, Any]) -> QualityReport:
    """Rebuild a report from its `to_dict` form, as stored or returned by the API.

    Raises `ValueError` naming the missing or malformed part.
    """
    try:
        standard = document["standard"]
        return QualityReport(
            source=str(document["source"]),
            sheet=document["sheet"],
            standard_title=str(standard["title"]),
            standard_source=str(standard["source"]),
            standard_sha256=str(standard["sha256"]),
            rows=int(document["rows"]),
            valid=bool(document["valid"]),
            errors=int(document["errors"]),
            warnings=int(document["warnings"]),
            error_rows=int(document["error_rows"]),
            error_cells=int(document["error_cells"]),
            cells=int(document["cells"]),
            score=Decimal(str(document["score"])),
            fields=tuple(_field_from_dict(f) for f in document["fields"]),
            table_rules=_rules_from_dict(document["table"]),
            findings=tuple(
                Finding(
                    row=int(f["row"]),
                    column=f["column"],
                    rule=str(f["rule"]),
                    severity=f["severity"],
                    message=str(f["message"]),
                    code=f.get("code"),
                )
                for f in document["findings"]
            ),
            notes=tuple(note_from_dict(n) for n in document.get("notes", ())),
        )
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise ValueError(f"the quality report is malformed: {exc!r}") from exc


def _field_from_dict(f: dict[str, Any]) -> FieldReport:
    return FieldReport(
        name=str(f["name"]),
        type=str(f["type"]),
        format=str(f["format"]),
        present=bool(f["present"]),
        missing=int(f["missing"]),
        invalid=int(f["invalid"]),
        duplicate=int(f["duplicate"]),
        out_of_range=int(f["out_of_range"]),
        error_cells=int(f["error_cells"]),
        rules=_rules_from_dict(f["rules"]),
    )


def _rules_from_dict(rules: list[dict[str, Any]]) -> tuple[RuleCount, ...]:
    return tuple(
        RuleCount(
            rule=str(r["rule"]),
            severity=str(r["severity"]),
            count=int(r["count"]),
            rows=tuple(int(n) for n in r["rows"]),
        )
        for r in rules
    )


def build_report(validation: Validation) -> QualityReport:
    """Count the findings of `validation` per field and rule, and score the table."""
    counts = _rule_counts(validation.frame)
    fields = []
    for summary in validation.fields:
        definition = validation.standard.field(summary.name)
        rules = tuple(counts.get(summary.name, ()))
        fields.append(
            FieldReport(
                name=summary.name,
                type=definition.type,
                format=definition.format,
                present=summary.present,
                missing=summary.missing,
                invalid=_total(rules, INVALID_RULES),
                duplicate=_total(rules, DUPLICATE_RULES),
                out_of_range=_total(rules, OUT_OF_RANGE_RULES),
                error_cells=summary.error_cells,
                rules=tuple(r for r in rules if r.rule not in TABLE_RULES),
            )
        )
    table_rules = tuple(
        r for group in counts.values() for r in group if r.rule in TABLE_RULES
    )
    table_rules = _merge(table_rules)
    cells = validation.row_count * len(validation.standard.fields)
    standard = validation.standard
    return QualityReport(
        source=validation.source,
        sheet=validation.sheet,
        standard_title=standard.title,
        standard_source=standard.source,
        standard_sha256=standard.sha256,
        rows=validation.row_count,
        valid=validation.valid,
        errors=validation.error_count,
        warnings=validation.warning_count,
        error_rows=validation.error_rows,
        error_cells=validation.error_cells,
        cells=cells,
        score=quality_score(validation.error_cells, cells, valid=validation.valid),
        fields=tuple(fields),
        table_rules=table_rules,
        findings=tuple(validation.findings()),
        notes=validation.notes,
    )


def quality_score(error_cells: int, cells: int, *, valid: bool) -> Decimal:
    """Return 100 × (1 − error_cells ÷ cells) rounded down to two decimals.

    With no cells the score is 100 for a valid table and 0 otherwise.
    """
    if cells == 0:
        return Decimal("100.00") if valid else Decimal("0.00")
    score = Decimal(100) * (Decimal(1) - Decimal(error_cells) / Decimal(cells))
    return score.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


def _rule_counts(frame: pl.DataFrame) -> dict[str | None, list[RuleCount]]:
    """Group findings by column and rule, rules in the order of `RULES`."""
    grouped = (
        frame.group_by("column", "rule", "severity", "rank", maintain_order=True)
        .agg(pl.len().alias("count"), pl.col("row").alias("rows"))
        .sort("rank", maintain_order=True)
    )
    counts: dict[str | None, list[RuleCount]] = {}
    for column, rule, severity, _, count, rows in grouped.iter_rows():
        counts.setdefault(column, []).append(
            RuleCount(rule, severity, int(count), tuple(rows))
        )
    return counts


def _merge(rules: Iterable[RuleCount]) -> tuple[RuleCount, ...]:
    """Add up the counts of table rules reported for several columns."""
    merged: dict[str, RuleCount] = {}
    for r in rules:
        seen = merged.get(r.rule)
        if seen is None:
            merged[r.rule] = r
        else:
            merged[r.rule] = RuleCount(
                r.rule,
                r.severity,
                seen.count + r.count,
                tuple(sorted(seen.rows + r.rows)),
            )
    return tuple(merged[rule] for rule in TABLE_RULES if rule in merged)


def _total(rules: Iterable[RuleCount], names: tuple[str, ...]) -> int:
    return sum(r.count for r in rules if r.rule in names)


def _field_dict(f: FieldReport) -> dict[str, Any]:
    return {
        "name": f.name,
        "type": f.type,
        "format": f.format,
        "present": f.present,
        "missing": f.missing,
        "invalid": f.invalid,
        "duplicate": f.duplicate,
        "out_of_range": f.out_of_range,
        "error_cells": f.error_cells,
        "rules": _rules_dict(f.rules),
    }


def note_from_dict(document: dict[str, Any]) -> ImportNote:
    """Rebuild a reader's note from `note_dict`'s form."""
    return ImportNote(**document)


def note_dict(note: ImportNote) -> dict[str, Any]:
    """Return a reader's note as JSON-ready values."""
    return {
        "kind": note.kind,
        "severity": note.severity,
        "sheet": note.sheet,
        "row": note.row,
        "column": note.column,
        "cell": note.cell,
        "message": note.message,
    }


def _rules_dict(rules: Iterable[RuleCount]) -> list[dict[str, Any]]:
    return [
        {"rule": r.rule, "severity": r.severity, "count": r.count, "rows": list(r.rows)}
        for r in rules
    ]


def render_json(report: QualityReport) -> bytes:
    """Encode the report as canonical JSON, the bytes whose SHA-256 is recorded."""
    return canonical_json(report.to_dict())


def report_sha256(report: QualityReport) -> str:
    """Return the hex SHA-256 of `render_json(report)`."""
    return hashlib.sha256(render_json(report)).hexdigest()


def render_rich(report: QualityReport, *, max_findings: int = 50) -> RenderableType:
    """Build the CLI view: a summary line, the field counts and the first findings."""
    verdict = "valid" if report.valid else "invalid"
    summary = Text(
        f"{report.source}: {verdict} against {report.standard_source or 'the standard'}"
        f" — {report.rows} rows, {report.errors} errors, {report.warnings} warnings, "
        f"{report.error_rows} rows with errors, score {report.score}"
    )
    fields = RichTable(title="fields")
    for heading in ("field", "type", "missing", "invalid", "duplicate", "out of range"):
        fields.add_column(heading, overflow="fold")
    for f in report.fields:
        kind = f.type if f.format == "default" else f"{f.type} ({f.format})"
        name = f.name if f.present else f"{f.name} (not in header)"
        fields.add_row(
            name,
            kind,
            str(f.missing),
            str(f.invalid),
            str(f.duplicate),
            str(f.out_of_range),
        )
    parts: list[RenderableType] = [summary, fields]
    if report.findings:
        shown = report.findings[:max_findings]
        title = f"findings ({len(shown)} of {len(report.findings)})"
        table = RichTable(title=title)
        for heading in ("row", "column", "rule", "severity", "message"):
            table.add_column(heading, overflow="fold")
        for finding in shown:
            table.add_row(
                str(finding.row),
                finding.column or "",
                finding.rule,
                finding.severity,
                finding.message,
            )
        parts.append(table)
    if report.notes:
        notes = RichTable(title=f"reader notes ({len(report.notes)})")
        for heading in ("place", "kind", "severity", "message"):
            notes.add_column(heading, overflow="fold")
        for note in report.notes[:max_findings]:
            notes.add_row(
                note.place(report.source), note.kind, note.severity, note.message
            )
        parts.append(notes)
    return Group(*parts)


def render_html(report: QualityReport, *, max_findings: int = 1000) -> str:
    """Build an HTML fragment of the report; every text is escaped.

    The fragment is a `<section>` with classes for the console's own style
    sheet and no scripts, styles or links of its own.
    """
    e = html.escape
    verdict = "valid" if report.valid else "invalid"
    out = [
        f'<section class="quality-report quality-report--{verdict}">',
        f"<h2>{e(report.source)}{'' if report.sheet is None else ' / ' + e(report.sheet)}</h2>",
        "<dl>",
        f"<dt>standard</dt><dd>{e(report.standard_title or report.standard_source)}</dd>",
        f"<dt>result</dt><dd>{verdict}</dd>",
        f"<dt>score</dt><dd>{e(str(report.score))}</dd>",
        f"<dt>rows</dt><dd>{report.rows}</dd>",
        f"<dt>rows with errors</dt><dd>{report.error_rows}</dd>",
        f"<dt>errors</dt><dd>{report.errors}</dd>",
        f"<dt>warnings</dt><dd>{report.warnings}</dd>",
        "</dl>",
        "<table><caption>fields</caption><thead><tr>",
        "<th>field</th><th>type</th><th>format</th><th>missing</th><th>invalid</th>"
        "<th>duplicate</th><th>out of range</th></tr></thead><tbody>",
    ]
    for f in report.fields:
        absent = "" if f.present else ' class="quality-report__absent"'
        out.append(
            f"<tr{absent}><td>{e(f.name)}</td><td>{e(f.type)}</td><td>{e(f.format)}</td>"
            f"<td>{f.missing}</td><td>{f.invalid}</td><td>{f.duplicate}</td>"
            f"<td>{f.out_of_range}</td></tr>"
        )
    out.append("</tbody></table>")
    if report.findings:
        shown = report.findings[:max_findings]
        out.append(
            f"<table><caption>findings ({len(shown)} of {len(report.findings)})"
            "</caption><thead><tr><th>row</th><th>column</th><th>rule</th>"
            "<th>severity</th><th>message</th></tr></thead><tbody>"
        )
        for finding in shown:
            out.append(
                f'<tr class="quality-report__{e(finding.severity)}">'
                f"<td>{finding.row}</td><td>{e(finding.column or '')}</td>"
                f"<td>{e(finding.rule)}</td><td>{e(finding.severity)}</td>"
                f"<td>{e(finding.message)}</td></tr>"
            )
        out.append("</tbody></table>")
    if report.notes:
        out.append(
            f"<table><caption>reader notes ({len(report.notes)})</caption><thead>"
            "<tr><th>place</th><th>kind</th><th>severity</th><th>message</th></tr>"
            "</thead><tbody>"
        )
        for note in report.notes[:max_findings]:
            out.append(
                f'<tr class="quality-report__{e(note.severity)}">'
                f"<td>{e(note.place(report.source))}</td><td>{e(note.kind)}</td>"
                f"<td>{e(note.severity)}</td><td>{e(note.message)}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)
