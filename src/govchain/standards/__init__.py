"""Data standards as Table Schema documents, validation, and quality reports.

`load_standard` reads a standard, `validate_table` checks a `Table` against it,
and `build_report` turns the outcome into a `QualityReport` that renders as
canonical JSON, a Rich table or an HTML fragment. docs/standards.md describes
the document format and each rule.
"""

from govchain.standards.report import (
    QualityReport,
    build_report,
    render_html,
    render_json,
    render_rich,
    report_from_dict,
    report_sha256,
)
from govchain.standards.schema import (
    Constraints,
    Field,
    Standard,
    StandardError,
    load_standard,
    parse_standard,
)
from govchain.standards.validate import Finding, Validation, validate_table

__all__ = [
    "Constraints",
    "Field",
    "Finding",
    "QualityReport",
    "Standard",
    "StandardError",
    "Validation",
    "build_report",
    "load_standard",
    "parse_standard",
    "render_html",
    "render_json",
    "render_rich",
    "report_from_dict",
    "report_sha256",
    "validate_table",
]
