"""The quality report: counts, score and the JSON, Rich and HTML renderings."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from govchain.standards import (
    build_report,
    load_standard,
    parse_standard,
    render_html,
    render_json,
    render_rich,
    report_from_dict,
    report_sha256,
    validate_table,
)
from govchain.standards.report import QualityReport, quality_score
from govchain.tabular import read_table

FIXTURES = Path(__file__).parent.parent / "fixtures" / "standards"

#: SHA-256 of the canonical JSON report of leading-zeros.csv against counts.json.
#: A change here changes every report hash already recorded on a ledger.
LEADING_ZEROS_REPORT_SHA256 = (
    "9e635378b53087d3b9c33258de9e2f179046807b0335078ce1b1f8ddf2a7c21d"
)


def leading_zeros_report() -> QualityReport:
    table = read_table(FIXTURES / "leading-zeros.csv")
    return build_report(validate_table(table, load_standard(FIXTURES / "counts.json")))


def key_report(tmp_path: Path) -> QualityReport:
    path = tmp_path / "keys.csv"
    path.write_text(
        "a,b,n\n1,x,5\n1,y,\n2,x,-1\n1,x,5\n1,x,9\n,x,5\n3,z,abc\n", encoding="utf-8"
    )
    standard = parse_standard(
        {
            "fields": [
                {"name": "a", "type": "integer"},
                {"name": "b"},
                {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
            ],
            "primaryKey": ["a", "b"],
        }
    )
    return build_report(validate_table(read_table(path), standard))


def test_report_json_hash_is_pinned() -> None:
    report = leading_zeros_report()
    data = render_json(report)
    assert hashlib.sha256(data).hexdigest() == LEADING_ZEROS_REPORT_SHA256
    assert report_sha256(report) == LEADING_ZEROS_REPORT_SHA256


def test_report_json_is_canonical() -> None:
    data = render_json(leading_zeros_report())
    decoded = json.loads(data)
    again = json.dumps(
        decoded, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    assert data == again.encode("utf-8")
    assert render_json(leading_zeros_report()) == data


def test_report_from_dict_round_trip(tmp_path: Path) -> None:
    noted = build_report(
        validate_table(
            read_table(FIXTURES / "duplicate-headers.csv"),
            load_standard(FIXTURES / "people.json"),
        )
    )
    assert noted.notes
    for report in (leading_zeros_report(), key_report(tmp_path), noted):
        rebuilt = report_from_dict(json.loads(render_json(report)))
        assert rebuilt == report
        assert render_html(rebuilt) == render_html(report)


def test_report_from_dict_malformed() -> None:
    document = json.loads(render_json(leading_zeros_report()))
    del document["fields"][0]["missing"]
    with pytest.raises(ValueError, match="quality report is malformed: KeyError"):
        report_from_dict(document)


def test_report_json_contents() -> None:
    decoded = json.loads(render_json(leading_zeros_report()))
    assert decoded["format"] == "govchain-quality-report/1"
    assert decoded["source"] == "leading-zeros.csv"
    assert decoded["standard"]["source"] == "counts.json"
    assert decoded["rows"] == 3
    assert decoded["valid"] is False
    assert decoded["score"] == "66.66"
    assert decoded["findings"] == [
        {
            "row": 4,
            "column": "value",
            "rule": "maximum",
            "severity": "error",
            "code": None,
            "message": "the value in row 4, column value is above the maximum 2",
        }
    ]
    [field] = decoded["fields"]
    assert field["out_of_range"] == 1
    assert field["rules"] == [
        {"rule": "maximum", "severity": "error", "count": 1, "rows": [4]}
    ]


def test_report_counts_per_field(tmp_path: Path) -> None:
    report = key_report(tmp_path)
    a, b, n = report.fields
    assert (a.missing, a.invalid, a.duplicate, a.out_of_range) == (1, 0, 0, 0)
    assert [(r.rule, r.count, r.rows) for r in a.rules] == [("required", 1, (7,))]
    assert b.rules == ()
    assert (n.missing, n.invalid, n.out_of_range) == (1, 1, 1)
    assert [(r.rule, r.rows) for r in n.rules] == [("type", (8,)), ("minimum", (4,))]
    assert [(r.rule, r.count, r.rows) for r in report.table_rules] == [
        ("duplicate-row", 1, (5,)),
        ("primaryKey", 2, (5, 6)),
    ]


def test_report_score(tmp_path: Path) -> None:
    report = key_report(tmp_path)
    # Error cells: row 4 n; row 5 a, b, n (duplicate row); row 6 a, b (key);
    # row 7 a; row 8 n. That is 8 of 7 rows * 3 fields.
    assert report.error_cells == 8
    assert report.cells == 21
    assert report.score == Decimal("61.90")
    assert report.error_rows == 5


def test_quality_score_rounds_down() -> None:
    assert quality_score(0, 10, valid=True) == Decimal("100.00")
    assert quality_score(1, 3, valid=False) == Decimal("66.66")
    assert quality_score(1, 1_000_000, valid=False) == Decimal("99.99")
    assert quality_score(3, 3, valid=False) == Decimal("0.00")


def test_quality_score_without_cells() -> None:
    assert quality_score(0, 0, valid=True) == Decimal("100.00")
    assert quality_score(0, 0, valid=False) == Decimal("0.00")


def test_report_html_escapes(tmp_path: Path) -> None:
    path = tmp_path / "<script>.csv"
    path.write_text("<script>alert(1)</script>,n\nx,1\nx,1\n", encoding="utf-8")
    standard = parse_standard(
        {
            "title": "<script>alert(2)</script>",
            "fields": [{"name": "n", "type": "integer", "constraints": {"maximum": 0}}],
        }
    )
    report = build_report(validate_table(read_table(path), standard))
    fragment = render_html(report)
    assert "<script" not in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in fragment
    assert "&lt;script&gt;.csv" in fragment
    assert fragment.startswith(
        '<section class="quality-report quality-report--invalid">'
    )
    assert fragment.endswith("</section>")


def test_report_html_has_no_external_assets() -> None:
    fragment = render_html(leading_zeros_report()).lower()
    for tag in ("<link", "<script", "<style", "<img", "<iframe", "src=", "href="):
        assert tag not in fragment


def test_report_rich_summary() -> None:
    console = Console(record=True, width=200)
    console.print(render_rich(leading_zeros_report()))
    text = console.export_text()
    assert "leading-zeros.csv: invalid against counts.json" in text
    assert "score 66.66" in text
    assert "the value in row 4, column value is above the maximum 2" in text


def test_report_rich_limits_findings(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    console.print(render_rich(key_report(tmp_path), max_findings=2))
    text = console.export_text()
    assert "findings (2 of 6)" in text
