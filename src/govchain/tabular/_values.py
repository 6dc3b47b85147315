"""Turn typed workbook values into text: numbers, Excel serial dates, durations.

A spreadsheet stores a number as an IEEE 754 double, and Excel keeps only 15
significant digits of what is typed. An 18-digit resident ID typed into a General
cell is stored as `110101199001020000` (the last three digits are gone), and no
reader can bring them back. Such cells are withheld with an error note. Dates are
numbers too ("serials": days since an epoch), distinguished only by the cell's
number format.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Literal

from govchain.tabular._raw import CellNote

#: Kind of number format: how a numeric cell with that format is read.
FormatClass = Literal["date", "datetime", "time", "duration"]

#: A whole number from 10**15 up has more than the 15 significant digits that a
#: spreadsheet keeps, so its last digits cannot be trusted.
PRECISION_LIMIT = 10**15
#: Whole numbers from 10**11 (12 digits) up are identifier-like: they get a
#: warning. 11-digit mobile numbers stay below and are read without one.
LONG_NUMBER = 10**11

#: Built-in number formats of ECMA-376 Part 1, 18.8.30, that show dates or times.
#: 27 to 36 and 50 to 58 are the East Asian formats. In the zh-CN table 32 to 35,
#: 55 and 56 are times such as `h"时"mm"分"`, and the rest are dates such as
#: `yyyy"年"m"月"d"日"`.
BUILTIN_FORMATS: dict[int, FormatClass] = {
    **dict.fromkeys([14, 15, 16, 17, 27, 28, 29, 30, 31, 36], "date"),
    **dict.fromkeys([50, 51, 52, 53, 54, 57, 58], "date"),
    **dict.fromkeys([18, 19, 20, 21, 32, 33, 34, 35, 45, 47, 55, 56], "time"),
    22: "datetime",
    46: "duration",
}

#: Largest serial a spreadsheet can show as a date: 9999-12-31.
MAX_SERIAL = 2958465

_QUOTED = re.compile(r'"[^"]*"|\\.|_.|\*.')
_ELAPSED = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)
_BRACKETED = re.compile(r"\[[^\]]*\]")
_AM_PM = re.compile(r"AM/PM|A/P|上午/下午", re.IGNORECASE)


def classify_format(code: str) -> FormatClass | None:
    """Return how a custom number format code shows a number, `None` for a number.

    Only the first section (before `;`) counts. Quoted text, escaped characters,
    colours and locale tags are ignored. `[h]`, `[m]` or `[s]` mean elapsed time.
    Otherwise `y` or `d` mean a date and `h` or `s` a time. An `m` is a month
    unless the code also has hours or seconds.
    """
    section = _QUOTED.sub("", code).split(";", 1)[0]
    if _ELAPSED.search(section):
        return "duration"
    section = _AM_PM.sub("h", _BRACKETED.sub("", section)).lower()
    section = section.replace("general", "")
    has_date = "y" in section or "d" in section
    has_time = "h" in section or "s" in section
    if has_date and has_time:
        return "datetime"
    if has_date or (not has_time and "m" in section):
        return "date"
    if has_time:
        return "time"
    return None


def number_text(value: float | int) -> str:
    """Return a number as a spreadsheet shows it with the General format.

    Whole numbers lose the `.0` of float storage (`123`), and other numbers get at
    most 15 significant digits (`29.02`, not `29.020000000000003`).
    """
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer():
        return str(int(value))
    return format(value, ".15g")


def number_cell(
    value: float | int, *, row: int, column: int
) -> tuple[str | None, CellNote | None]:
    """Return the text of a numeric cell and a note when it contains a long number.

    A number of 16 or more digits is withheld (`None`) with an error note, and a
    whole number of 12 to 15 digits is kept with a warning.
    """
    if not math.isfinite(value) or abs(value) >= PRECISION_LIMIT:
        return None, CellNote(
            "precision-lost",
            "error",
            row,
            column,
            "number with 16 or more digits is stored as a spreadsheet number, "
            "which keeps only 15 significant digits, so its last digits are lost "
            "and cannot be recovered; if it is an identifier, format the column "
            "as text and enter the values again from the source",
        )
    text = number_text(value)
    if abs(value) >= LONG_NUMBER and float(value).is_integer():
        digits = len(text.lstrip("-"))
        return text, CellNote(
            "long-number",
            "warning",
            row,
            column,
            f"whole number with {digits} digits is stored as a number, not as "
            "text; it was read exactly, but if it is an identifier format the "
            "column as text so that leading zeros and further digits survive",
        )
    return text, None


def serial_cell(
    serial: float, format_class: FormatClass, *, date1904: bool, row: int, column: int
) -> tuple[str | None, CellNote | None]:
    """Return the ISO 8601 text of a date-formatted numeric cell, with any note.

    In the 1900 date system serial 1 is 1900-01-01, and serial 60 is 1900-02-29,
    a day that never existed: Excel counts it to stay compatible with Lotus 1-2-3.
    Serial 60 is withheld with an error note, serials below 60 are converted on
    the real calendar with a warning, and from 61 on the epoch is 1899-12-30.
    In the 1904 date system serial 0 is 1904-01-01.
    """
    if format_class == "duration":
        return duration_text(datetime.timedelta(days=serial)), None
    if format_class == "time" and 0 <= serial < 1:
        return _split_serial(serial)[1].time().isoformat(), None
    if serial < (0 if date1904 else 1) or serial > MAX_SERIAL:
        return None, CellNote(
            "date-out-of-range",
            "error",
            row,
            column,
            "date cell holds a serial number outside the dates a spreadsheet can "
            "show; enter the date again as text in the form YYYY-MM-DD",
        )
    if not date1904 and 60 <= serial < 61:
        return None, CellNote(
            "phantom-date",
            "error",
            row,
            column,
            "date serial 60 is 1900-02-29, a day that does not exist: the 1900 "
            "date system counts it only for compatibility with Lotus 1-2-3, so "
            "the intended date is unknown; enter the date again as text in the "
            "form YYYY-MM-DD",
        )
    if date1904:
        epoch = datetime.datetime(1904, 1, 1)
    elif serial < 60:
        epoch = datetime.datetime(1899, 12, 31)
    else:
        epoch = datetime.datetime(1899, 12, 30)
    days, time_of_day = _split_serial(serial)
    moment = epoch + datetime.timedelta(days=days) + (time_of_day - _MIDNIGHT)
    if format_class == "date" and moment.time() == datetime.time(0):
        text = moment.date().isoformat()
    else:
        text = moment.isoformat()
    if not date1904 and serial < 61:
        return text, CellNote(
            "early-date",
            "warning",
            row,
            column,
            "date before 1900-03-01 in the 1900 date system; it was converted on "
            "the real calendar, but spreadsheets count a day 1900-02-29 that "
            "never existed, so check the date against the source",
        )
    return text, None


_MIDNIGHT = datetime.datetime(2000, 1, 1)


def _split_serial(serial: float) -> tuple[int, datetime.datetime]:
    """Return the whole days of a serial and its time of day on 2000-01-01.

    The time is rounded to the millisecond, as spreadsheets store it.
    """
    days = math.floor(serial)
    milliseconds = round((serial - days) * 86_400_000)
    if milliseconds >= 86_400_000:
        days, milliseconds = days + 1, 0
    return days, _MIDNIGHT + datetime.timedelta(milliseconds=milliseconds)


def duration_text(value: datetime.timedelta) -> str:
    """Return a duration in ISO 8601 form with hours, such as `PT255H10M10S`."""
    sign = "-" if value < datetime.timedelta(0) else ""
    millisecond = datetime.timedelta(milliseconds=1)
    total = round(abs(value) / millisecond) * millisecond
    hours, rest = divmod(total, datetime.timedelta(hours=1))
    minutes, rest = divmod(rest, datetime.timedelta(minutes=1))
    seconds = rest.total_seconds()
    seconds_text = str(int(seconds)) if seconds.is_integer() else format(seconds, "g")
    return f"{sign}PT{hours}H{minutes}M{seconds_text}S"
