"""Cell value conversion: number formats, date serials and long numbers."""

import pytest

from govchain.tabular._values import classify_format, number_cell, serial_cell


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("General", None),
        ("[DBNum1][$-804]General", None),
        ("0.00E+00", None),
        ("#,##0.00;[Red]-#,##0.00", None),
        ("@", None),
        ("yyyy-mm-dd", "date"),
        ("yyyy\\-mm\\-dd", "date"),
        ('yyyy"年"m"月"d"日"', "date"),
        ('mmm"-"yy', "date"),
        ("[$-F800]dddd, mmmm dd, yyyy", "date"),
        ("yyyy-mm-dd h:mm:ss", "datetime"),
        ("h:mm AM/PM", "time"),
        ('上午/下午h"时"mm"分"', "time"),
        ("mm:ss", "time"),
        ("[hh]:mm:ss", "duration"),
        ("[h]:mm", "duration"),
    ],
)
def test_classify_format(code: str, expected: str | None) -> None:
    assert classify_format(code) == expected


@pytest.mark.parametrize(
    ("serial", "expected", "note"),
    [
        (1, "1900-01-01", "early-date"),
        (59, "1900-02-28", "early-date"),
        (60, None, "phantom-date"),
        (60.5, None, "phantom-date"),
        (61, "1900-03-01", None),
        (32874, "1990-01-01", None),
        (45351, "2024-02-29", None),
        (2958465, "9999-12-31", None),
        (2958466, None, "date-out-of-range"),
        (0, None, "date-out-of-range"),
        (-1, None, "date-out-of-range"),
    ],
)
def test_serial_cell_1900(
    serial: float, expected: str | None, note: str | None
) -> None:
    text, result_note = serial_cell(serial, "date", date1904=False, row=2, column=0)
    assert text == expected
    assert (result_note.kind if result_note else None) == note


@pytest.mark.parametrize(
    ("serial", "expected"),
    [(0, "1904-01-01"), (31412, "1990-01-01"), (42735, "2021-01-01")],
)
def test_serial_cell_1904(serial: float, expected: str) -> None:
    assert serial_cell(serial, "date", date1904=True, row=2, column=0) == (
        expected,
        None,
    )


def test_serial_cell_datetime_rounds_to_second() -> None:
    text, note = serial_cell(
        43497.000717593, "datetime", date1904=False, row=2, column=0
    )
    assert text == "2019-02-01T00:01:02"
    assert note is None


def test_serial_cell_date_keeps_time_of_day() -> None:
    text, _ = serial_cell(44197.5, "date", date1904=False, row=2, column=0)
    assert text == "2021-01-01T12:00:00"


def test_serial_cell_time_only() -> None:
    assert serial_cell(0.5, "time", date1904=False, row=2, column=0) == (
        "12:00:00",
        None,
    )


def test_serial_cell_duration() -> None:
    text, _ = serial_cell(10.6320601851852, "duration", date1904=False, row=2, column=0)
    assert text == "PT255H10M10S"
    text, _ = serial_cell(-0.25, "duration", date1904=False, row=2, column=0)
    assert text == "-PT6H0M0S"


@pytest.mark.parametrize(
    ("value", "expected", "note"),
    [
        (13800138000.0, "13800138000", None),
        (99999999999.0, "99999999999", None),
        (100000000000.0, "100000000000", "long-number"),
        (110101800101999.0, "110101800101999", "long-number"),
        (999999999999999.0, "999999999999999", "long-number"),
        (1e15, None, "precision-lost"),
        (1.1010119900102e17, None, "precision-lost"),
        (-1.1010119900102e17, None, "precision-lost"),
        (float("inf"), None, "precision-lost"),
        (29.020000000000003, "29.02", None),
        (123456789012.5, "123456789012.5", None),
        (7, "7", None),
    ],
)
def test_number_cell(value: float, expected: str | None, note: str | None) -> None:
    text, result_note = number_cell(value, row=2, column=2)
    assert text == expected
    assert (result_note.kind if result_note else None) == note


def test_number_cell_note_place() -> None:
    _, note = number_cell(1.1010119900102e17, row=2, column=2)
    assert note is not None
    assert (note.severity, note.row, note.column) == ("error", 2, 2)
