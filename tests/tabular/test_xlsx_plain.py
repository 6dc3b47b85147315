"""The regular-expression sheet reader gives what the ElementTree reader gives."""

from __future__ import annotations

from pathlib import Path

import pytest

import govchain.data
import govchain.tabular._xlsx as xlsx
from govchain.demo.governance import write_register
from govchain.demo.people import synthetic_people
from govchain.errors import ValidationError
from govchain.tabular import Table, read_table

ROOTS = [
    Path(__file__).parent.parent / "fixtures",
    Path(govchain.data.__file__).parent,
]
WORKBOOKS = sorted(
    p
    for root in ROOTS
    for p in root.rglob("*")
    if p.suffix.lower() in (".xlsx", ".xlsm")
)


def _read(
    path: Path, *, plain: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[Table | str, bool]:
    """Read `path` by one reader; return the table or error, and whether plain ran."""
    used: list[bool] = []
    original = xlsx._read_plain

    def spy(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        used.append(result is not None)
        return result

    with monkeypatch.context() as patch:
        patch.setattr(xlsx, "_read_plain", spy if plain else lambda *a, **k: None)
        try:
            return read_table(path, strict=False), any(used)
        except ValidationError as exc:
            return f"{type(exc).__name__}: {exc}", any(used)


def _same(plain: Table | str, general: Table | str) -> None:
    if isinstance(plain, str) or isinstance(general, str):
        assert plain == general
        return
    assert plain.header == general.header
    assert plain.rows == general.rows
    assert list(plain.row_numbers) == list(general.row_numbers)
    assert plain.notes == general.notes
    assert (plain.header_row, plain.header_rows) == (
        general.header_row,
        general.header_rows,
    )


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.name)
def test_plain_matches_general(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, _ = _read(path, plain=True, monkeypatch=monkeypatch)
    general, _ = _read(path, plain=False, monkeypatch=monkeypatch)
    _same(plain, general)


def test_plain_reader_used_by_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    used = [_read(p, plain=True, monkeypatch=monkeypatch)[1] for p in WORKBOOKS]
    assert sum(used) >= 5
    assert not all(used)


def test_plain_reader_demo_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for numeric_id in (False, True):
        path = tmp_path / f"register-{numeric_id}.xlsx"
        write_register(path, synthetic_people(8, seed=33), numeric_id=numeric_id)
        plain, used = _read(path, plain=True, monkeypatch=monkeypatch)
        assert used
        _same(plain, _read(path, plain=False, monkeypatch=monkeypatch)[0])
