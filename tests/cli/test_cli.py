"""The `govchain` command, run as a new user would run it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli_support import run_govchain

PASSPHRASE = "correct horse battery staple"


def govchain(
    home: Path, *args: str, passphrase: str | None = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    return run_govchain(*args, home=home, passphrase=passphrase)


@pytest.fixture
def home(tmp_path: Path, demo_consortium: Path) -> Path:
    path = tmp_path / "home"
    result = govchain(path, "init", "--consortium", str(demo_consortium))
    assert result.returncode == 0, result.stderr
    return path


def test_init_encrypts_keys(home: Path) -> None:
    store = json.loads((home / "keys" / "city-health.json").read_text())
    assert store["encryption"] == "scrypt+aes-256-gcm"
    assert "seed" not in store
    assert oct((home / "keys" / "city-health.json").stat().st_mode & 0o777) == "0o600"


def test_wrong_passphrase_refused(home: Path) -> None:
    result = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "x",
        "--level",
        "1",
        "--sharing",
        "unconditional",
        passphrase="wrong",
    )
    assert result.returncode == 2
    assert "wrong passphrase" in result.stderr
    assert "correct horse" not in result.stderr


def test_missing_passphrase_explained(tmp_path: Path, demo_consortium: Path) -> None:
    result = govchain(
        tmp_path / "h", "init", "--consortium", str(demo_consortium), passphrase=None
    )
    assert result.returncode == 2
    assert "GOVCHAIN_PASSPHRASE" in result.stderr
    assert not (tmp_path / "h").exists()


def test_dev_keys_warned(tmp_path: Path, demo_consortium: Path) -> None:
    result = govchain(
        tmp_path / "h",
        "init",
        "--consortium",
        str(demo_consortium),
        "--insecure-dev-keys",
        passphrase=None,
    )
    assert result.returncode == 0
    assert "UNENCRYPTED" in result.stderr


def test_bad_consortium_names_field(tmp_path: Path, demo_consortium: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        demo_consortium.read_text().replace('level = "county"', 'level = "town"', 1)
    )
    result = govchain(tmp_path / "h", "init", "--consortium", str(bad))
    assert result.returncode == 2
    assert "bad.toml" in result.stderr
    assert "level" in result.stderr
    assert "town" in result.stderr
    assert not (tmp_path / "h").exists()


def test_register_search_audit(home: Path) -> None:
    registered = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "医疗机构名录",
        "--level",
        "1",
        "--sharing",
        "unconditional",
        "--field",
        "机构代码",
        "--field",
        "床位数:integer",
    )
    assert registered.returncode == 0, registered.stderr
    resource_id = registered.stdout.split()[-1]
    found = govchain(home, "catalog", "search", "医疗", "--json")
    assert [r["id"] for r in json.loads(found.stdout)] == [resource_id]
    trail = govchain(home, "audit", "--resource", resource_id, "--json")
    rows = json.loads(trail.stdout)
    assert [(r["type"], r["status"]) for r in rows] == [("catalog.register", "applied")]


def test_verify_exit_codes(home: Path) -> None:
    govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "x",
        "--level",
        "1",
        "--sharing",
        "unconditional",
    )
    ok = govchain(home, "verify", passphrase=None)
    assert ok.returncode == 0, ok.stderr
    assert "ledger verifies" in ok.stdout
    db = sqlite3.connect(home / "ledger.sqlite")
    db.execute("UPDATE txs SET data = replace(data, 'x', 'y') WHERE seq = 1")
    db.commit()
    db.close()
    bad = govchain(home, "verify", "--json", passphrase=None)
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert report["problem"]["height"] == 1
    assert report["problem"]["tx_id"]


def test_evidence_round_trip(home: Path, tmp_path: Path) -> None:
    registered = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "x",
        "--level",
        "1",
        "--sharing",
        "unconditional",
    )
    assert registered.returncode == 0
    trail = json.loads(govchain(home, "audit", "--json", passphrase=None).stdout)
    tx_id = trail[-1]["tx_id"]
    bundle = tmp_path / "bundle.json"
    keys = tmp_path / "trust.keys"
    assert (
        govchain(home, "evidence", "export", tx_id, "--out", str(bundle)).returncode
        == 0
    )
    assert govchain(home, "keys", "--out", str(keys)).returncode == 0
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "govchain",
            "evidence",
            "verify",
            str(bundle),
            "--trust",
            str(keys),
            "--min-signatures",
            "2",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "catalog.register by city-health: applied" in checked.stdout


def test_no_home_explained(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCHAIN_")}
    result = subprocess.run(
        [sys.executable, "-m", "govchain", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "--home" in result.stderr


def test_compare_reports_fork() -> None:
    vectors = Path(__file__).parent.parent / "vectors" / "forks"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "govchain",
            "compare",
            str(vectors / "node_a_blocks.jsonl"),
            str(vectors / "node_b_blocks.jsonl"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert result.returncode == 1
    assert "fork at height 3" in result.stdout
    assert "common ancestor: height 2" in result.stdout


def test_update_and_repeated_fields(home: Path) -> None:
    registered = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "床位",
        "--level",
        "2",
        "--sharing",
        "conditional",
        "--field",
        "代码",
        "--field",
        "床位",
    )
    resource_id = registered.stdout.split()[-1]
    updated = govchain(
        home,
        "catalog",
        "update",
        resource_id,
        "--as",
        "city-health",
        "--title",
        "病床",
    )
    assert updated.returncode == 0, updated.stderr
    forged = govchain(
        home,
        "catalog",
        "update",
        resource_id,
        "--as",
        "city-market",
        "--title",
        "x",
    )
    assert forged.returncode == 2
    assert "only its owner" in forged.stderr
    requested = govchain(
        home,
        "share",
        "request",
        resource_id,
        "--as",
        "city-market",
        "--fields",
        "代码",
        "--fields",
        "床位",
        "--purpose",
        "planning",
    )
    assert requested.returncode == 0, requested.stderr
    rows = json.loads(govchain(home, "share", "list", "--json", passphrase=None).stdout)
    assert rows[0]["fields"] == ["代码", "床位"]
    shown = json.loads(govchain(home, "catalog", "show", resource_id).stdout)
    assert shown["title"] == "病床"


def test_control_characters_rejected(home: Path) -> None:
    result = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "abc\u202edef",
        "--level",
        "1",
        "--sharing",
        "unconditional",
    )
    assert result.returncode == 2
    assert "control" in result.stderr


def test_data_import_records_quality(home: Path, tmp_path: Path) -> None:
    standard = (
        Path(__file__).parents[2]
        / "src/govchain/data/standards/health_check_register.json"
    )
    fields = json.loads(standard.read_text("utf-8"))["fields"]
    args = []
    for field in fields:
        args += ["--field", field["name"]]
    registered = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "体检登记",
        "--level",
        "4",
        "--sharing",
        "conditional",
        *args,
    )
    resource_id = registered.stdout.split()[-1]
    data = Path(__file__).parents[1] / "fixtures/standards/health_register_faults.csv"
    imported = govchain(
        home,
        "data",
        "import",
        str(data),
        "--as",
        "city-health",
        "--resource",
        resource_id,
        "--standard",
        str(standard),
    )
    assert imported.returncode == 0, imported.stderr
    shown = json.loads(govchain(home, "catalog", "show", resource_id).stdout)
    version = shown["version_list"][0]
    assert len(version["raw_hash"]) == 64
    assert len(version["quality_report_hash"]) == 64
    assert len(version["standard_hash"]) == 64
    assert version["quality_score"] != "100"
    reports = list((home / "objects" / "reports").glob("*.json"))
    assert [p.stem for p in reports] == [version["quality_report_hash"]]


def test_data_import_unreadable_records_nothing(home: Path, tmp_path: Path) -> None:
    registered = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "x",
        "--level",
        "1",
        "--sharing",
        "unconditional",
        "--field",
        "a",
    )
    resource_id = registered.stdout.split()[-1]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a\n\xff\xfe\x00\x81\n")
    before = json.loads(govchain(home, "audit", "--json", passphrase=None).stdout)
    result = govchain(
        home,
        "data",
        "import",
        str(bad),
        "--as",
        "city-health",
        "--resource",
        resource_id,
    )
    assert result.returncode == 2
    assert "bad.csv" in result.stderr
    after = json.loads(govchain(home, "audit", "--json", passphrase=None).stdout)
    assert after == before


def test_compare_names_missing_ledger(home: Path, tmp_path: Path) -> None:
    result = govchain(home, "compare", str(home), str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "is not a node home" in result.stderr
    assert "Traceback" not in result.stderr


def test_checkpoint_names_missing_file(home: Path, tmp_path: Path) -> None:
    result = govchain(home, "checkpoint", str(tmp_path / "missing.note"))
    assert result.returncode == 2
    assert "missing.note does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_evidence_verify_directory_not_bag(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "not-a-bag"
    (folder / "data").mkdir(parents=True)
    trust = tmp_path / "trust.keys"
    assert govchain(home, "keys", "--out", str(trust)).returncode == 0
    result = govchain(home, "evidence", "verify", str(folder), "--trust", str(trust))
    assert result.returncode == 1
    assert "bagit.txt" in result.stderr
    assert "Is a directory" not in result.stderr


def test_deliver_checks_output_first(home: Path, tmp_path: Path) -> None:
    before = govchain(home, "audit", "--json")
    result = govchain(
        home,
        "share",
        "deliver",
        "res-00000001",
        "--consumer",
        "city-cdc",
        "--out",
        str(tmp_path / "missing" / "package.json"),
    )
    assert result.returncode == 2
    assert "folder" in result.stderr
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    after = govchain(home, "audit", "--json")
    assert json.loads(after.stdout) == json.loads(before.stdout)


def test_catalog_retire_command(home: Path) -> None:
    registered = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "beds",
        "--level",
        "1",
        "--sharing",
        "unconditional",
    )
    resource_id = registered.stdout.split()[-1]
    retired = govchain(home, "catalog", "retire", "--as", "city-health", resource_id)
    assert retired.returncode == 0, retired.stderr
    assert f"retired {resource_id}" in retired.stdout
    found = govchain(home, "catalog", "search", "beds", "--json")
    assert json.loads(found.stdout) == []
    again = govchain(home, "catalog", "retire", "--as", "city-health", resource_id)
    assert again.returncode == 2
    assert "retired" in again.stderr


BAD_FILTERS = [
    (["--sharing", "bogus"], "--sharing", "not a sharing type"),
    (["--level", "9"], "--level", "levels run from 1 to 4"),
    (["--limit", "0"], "--limit", "must be 1 or more"),
    (["--department", "nobody"], "--department", "not a member department"),
]


def test_catalog_search_rejects_bad_filters(home: Path) -> None:
    for args, option, words in BAD_FILTERS:
        result = govchain(home, "catalog", "search", *args)
        assert result.returncode == 2, args
        assert option in result.stderr
        assert words in result.stderr


def test_catalog_import_checks_level_first(home: Path) -> None:
    from govchain.data import demo_file

    catalog = demo_file("yilan_opendata_catalog_2018-03-20.big5.csv")
    result = govchain(
        home, "catalog", "import", str(catalog), "--region", "440100", "--level", "town"
    )
    assert result.returncode == 2
    assert "--level" in result.stderr
    assert "province, city, county" in result.stderr


BAD_AUDIT_FILTERS = [
    (["--since", "2026-03-02", "--until", "2026-03-01"], "is not before until"),
    (["--department", "nobody"], "not a member department"),
    (["--limit", "-1"], "must be 1 or more"),
]


def test_audit_rejects_bad_filters(home: Path) -> None:
    for args, words in BAD_AUDIT_FILTERS:
        result = govchain(home, "audit", *args)
        assert result.returncode == 2, args
        assert words in result.stderr
