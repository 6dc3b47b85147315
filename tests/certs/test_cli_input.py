"""What `govchain cert` does with bad arguments and holder files: clear errors, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.certs.conftest import ISSUER, Runner, Setup, holders

from govchain.certs._handlers import CERT_NS
from govchain.certs.service import MAX_NAME_CHARS, Holder
from govchain.cli._cert import _read_holders
from govchain.errors import ValidationError

HEADER = "holder_id,name,occupation,checkup_date,fit"


def _csv_line(holder: Holder, *, name: str | None = None) -> str:
    claims = holder.claims
    fit = "true" if claims["fit"] else "false"
    shown = holder.name if name is None else name
    return (
        f"{holder.holder_id},{shown},{claims['occupation']},"
        f"{claims['checkup_date']},{fit}"
    )


@pytest.mark.parametrize(
    "argument", ["missing/card.png", "card.png", "cards/3f36", "scan.JPEG", "a.txt"]
)
def test_verify_missing_file_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    govchain: Runner,
    argument: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    done = govchain("cert", "verify", argument)
    assert done.code == 2
    assert f"certificate file {argument} not found" in done.err
    assert "INVALID" not in done.err


def test_verify_directory_exit_2(tmp_path: Path, govchain: Runner) -> None:
    done = govchain("cert", "verify", str(tmp_path))
    assert done.code == 2
    assert f"{tmp_path} is a directory" in done.err


def test_verify_empty_argument_exit_2(govchain: Runner) -> None:
    done = govchain("cert", "verify", "")
    assert done.code == 2
    assert "no certificate given" in done.err


def test_verify_url_stays_text(govchain: Runner) -> None:
    done = govchain("cert", "verify", "https://example.org/card.png")
    # Read as QR text, so the trust source is opened next; without a home that
    # fails with the home error rather than a missing file.
    assert done.code == 2
    assert "not found" not in done.err
    assert "no node home given" in done.err


def test_holders_gb18030_detected(tmp_path: Path, setup: Setup) -> None:
    people = holders(2)
    path = tmp_path / "h_gbk.csv"
    lines = [HEADER, *(_csv_line(p) for p in people)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    read = _read_holders(path)
    assert [h.name for h in read] == [p.name for p in people]
    assert read[0].claims["fit"] is people[0].claims["fit"]
    issued = setup.service.issue(ISSUER, "food-health", read, now=setup.now())
    assert issued[0].claims.claims["name"] == people[0].name


def test_holders_wrong_encoding_named(tmp_path: Path) -> None:
    path = tmp_path / "h_gbk.csv"
    lines = [HEADER, _csv_line(holders(1)[0])]
    path.write_bytes("\n".join(lines).encode("gb18030"))
    with pytest.raises(ValidationError, match="--encoding") as raised:
        _read_holders(path, encoding="utf-8")
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("content", ["", HEADER + "\n", "[]"])
def test_holders_empty_file_rejected(tmp_path: Path, content: str) -> None:
    path = tmp_path / ("h.json" if content == "[]" else "h.csv")
    path.write_text(content, "utf-8")
    with pytest.raises(ValidationError, match="lists no holders") as raised:
        _read_holders(path)
    assert str(path) in str(raised.value)


def test_cli_issue_empty_file_exit_2(tmp_path: Path, govchain: Runner) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "\n", "utf-8")
    done = govchain(
        "cert",
        "issue",
        "--as",
        ISSUER,
        "--type",
        "food-health",
        "--holders",
        str(path),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.code == 2
    assert f"holder file {path} lists no holders" in done.err
    assert not (tmp_path / "out").exists()


def test_holders_long_name_row_number(tmp_path: Path) -> None:
    people = holders(3)
    long_name = "长" * 3000
    path = tmp_path / "h.csv"
    lines = [
        HEADER,
        _csv_line(people[0]),
        _csv_line(people[1]),
        _csv_line(people[2], name=long_name),
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(ValidationError, match="row 4: the name has 3000") as raised:
        _read_holders(path)
    assert "长长" not in str(raised.value)


def test_holders_name_at_limit_accepted(tmp_path: Path) -> None:
    person = holders(1)[0]
    path = tmp_path / "h.csv"
    name = "名" * MAX_NAME_CHARS
    path.write_text(f"{HEADER}\n{_csv_line(person, name=name)}\n", "utf-8")
    assert _read_holders(path)[0].name == name


def test_issue_long_name_rejected(setup: Setup) -> None:
    person = holders(1)[0]
    too_long = Holder(person.holder_id, "x" * (MAX_NAME_CHARS + 1), person.claims)
    with pytest.raises(ValidationError, match="holder 2: the name has 65") as raised:
        setup.service.issue(ISSUER, "food-health", [person, too_long], now=setup.now())
    assert "xxx" not in str(raised.value)
    assert list(setup.node.store.scan(CERT_NS)) == []
