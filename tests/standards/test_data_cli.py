"""`govchain data validate`: exit codes and output, in-process and as a process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from govchain.cli._data import app
from govchain.standards import StandardError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "standards"

# Runs `govchain` the way the installed command does, with the `data` group
# added when the top-level app does not register it yet.
LAUNCHER = """
from govchain.cli import _app, _data, main
if not any(group.name == "data" for group in _app.app.registered_groups):
    _app.app.add_typer(_data.app, name="data")
main()
"""


def govchain(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCHAIN_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
        env=env,
    )


def test_cli_valid_file_exits_0() -> None:
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(FIXTURES / "duplicate-headers.csv"),
            "--standard",
            str(FIXTURES / "people.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "duplicate-headers.csv: valid against people.json" in result.output


def test_cli_shows_reader_notes() -> None:
    args = [
        "validate",
        str(FIXTURES / "duplicate-headers.csv"),
        "--standard",
        str(FIXTURES / "people.json"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "reader notes (2)" in result.output
    assert "duplicate-header" in result.output
    report = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert [(n["kind"], n["severity"], n["row"]) for n in report["notes"]] == [
        ("duplicate-header", "warning", 1),
        ("duplicate-header", "warning", 1),
    ]


def test_cli_header_row_option(tmp_path: Path) -> None:
    # The title row is as wide as the data, so the reader takes it for the header.
    path = tmp_path / "people.csv"
    path.write_text("人员,登记,表\nid,name,age\n1,甲,30\n2,乙,40\n", "utf-8")
    args = ["validate", str(path), "--standard", str(FIXTURES / "people.json")]
    assert CliRunner().invoke(app, args).exit_code == 1
    result = CliRunner().invoke(app, [*args, "--header-row", "2"])
    assert result.exit_code == 0, result.output
    assert "people.csv: valid against people.json — 2 rows" in result.output


def test_cli_missing_standard_names_both_forms() -> None:
    args = ["validate", str(FIXTURES / "people.json"), "--standard", "people"]
    result = CliRunner().invoke(app, args)
    assert "pass a Table Schema JSON file or a registered standard as NAME@VERSION" in (
        str(result.exception)
    )


def test_cli_invalid_file_exits_1() -> None:
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(FIXTURES / "leading-zeros.csv"),
            "--standard",
            str(FIXTURES / "counts.json"),
        ],
    )
    assert result.exit_code == 1
    assert "above the maximum 2" in result.output


def test_cli_json_lists_findings() -> None:
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(FIXTURES / "blank-headers.csv"),
            "--standard",
            str(FIXTURES / "people.json"),
            "--json",
        ],
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [
        (f["row"], f["column"], f["rule"], f["severity"]) for f in report["findings"]
    ] == [
        (1, "name", "missing-column", "error"),
        (1, "column_2", "extra-column", "warning"),
    ]


def test_cli_bad_standard_raises() -> None:
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(FIXTURES / "leading-zeros.csv"),
            "--standard",
            str(FIXTURES / "leading-zeros.csv"),
        ],
    )
    assert isinstance(result.exception, StandardError)


def test_cli_process_exit_codes(tmp_path: Path) -> None:
    valid = govchain(
        "data",
        "validate",
        str(FIXTURES / "duplicate-headers.csv"),
        "--standard",
        str(FIXTURES / "people.json"),
    )
    assert valid.returncode == 0, valid.stderr
    invalid = govchain(
        "data",
        "validate",
        str(FIXTURES / "leading-zeros.csv"),
        "--standard",
        str(FIXTURES / "counts.json"),
    )
    assert invalid.returncode == 1, invalid.stderr


def test_cli_process_json_error_is_json(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b'a,b\n"1,2\n')
    result = govchain(
        "data",
        "validate",
        str(broken),
        "--standard",
        str(FIXTURES / "people.json"),
        "--json",
    )
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert "broken.csv" in error["error"]
    assert error["reason"]


def test_cli_process_bad_standard_exits_2(tmp_path: Path) -> None:
    standard = tmp_path / "bad.json"
    standard.write_text(
        '{"fields": [{"name": "v", "type": "number", "constraints": {"minimum": "abc"}}]}',
        encoding="utf-8",
    )
    result = govchain(
        "data",
        "validate",
        str(FIXTURES / "leading-zeros.csv"),
        "--standard",
        str(standard),
    )
    assert result.returncode == 2
    assert result.stdout == b""
    message = result.stderr.decode("utf-8")
    assert 'bad.json: fields[0].constraints.minimum: "abc" is not a number' in message


def test_cli_process_missing_file_exits_2(tmp_path: Path) -> None:
    result = govchain(
        "data",
        "validate",
        str(tmp_path / "absent.csv"),
        "--standard",
        str(FIXTURES / "counts.json"),
    )
    assert result.returncode == 2
    assert b"absent.csv" in result.stderr


def test_cli_process_json_is_the_report(tmp_path: Path) -> None:
    result = govchain(
        "data",
        "validate",
        str(FIXTURES / "leading-zeros.csv"),
        "--standard",
        str(FIXTURES / "counts.json"),
        "--json",
    )
    assert result.returncode == 1
    body = result.stdout.removesuffix(b"\n")
    assert hashlib.sha256(body).hexdigest() == (
        "9e635378b53087d3b9c33258de9e2f179046807b0335078ce1b1f8ddf2a7c21d"
    )


def test_cli_validate_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nJosé,Zürich\nRenée,Genève\n".encode("latin-1"))
    standard = tmp_path / "places.json"
    standard.write_text(
        json.dumps({"fields": [{"name": "name"}, {"name": "city"}]}), "utf-8"
    )
    args = ["validate", str(path), "--standard", str(standard)]
    result = CliRunner().invoke(app, args)
    assert "--encoding" in str(result.exception)
    result = CliRunner().invoke(app, [*args, "--encoding", "latin-1"])
    assert result.exit_code == 0, result.output
    assert "latin.csv: valid against places.json" in result.output
