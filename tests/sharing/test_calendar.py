"""Tests of working-day deadlines in the demo calendar (China, 2026, UTC+8)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.consortium import Policy, load_demo_consortium
from govchain.errors import ValidationError
from govchain.sharing import deadline, is_overdue, is_working_day, local_date
from govchain.sharing.calendar import DAY_MS, MAX_START_MS, day_end

POLICY = load_demo_consortium().policy
CHINA = timezone(timedelta(hours=8))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(day: date, hour: int = 0, minute: int = 0, zone: timezone = CHINA) -> int:
    """Return unix milliseconds of `hour:minute` on `day` in `zone`."""
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return (moment - EPOCH) // timedelta(milliseconds=1)


def end_of(day: date, zone: timezone = CHINA) -> int:
    """Return the last millisecond of `day` in `zone`."""
    return ms(day + timedelta(days=1), zone=zone) - 1


# The calendar itself.


def test_is_working_day_kinds() -> None:
    assert is_working_day(POLICY, date(2026, 9, 24))  # a Thursday
    assert not is_working_day(POLICY, date(2026, 9, 19))  # a Saturday
    assert not is_working_day(POLICY, date(2026, 10, 1))  # National Day
    assert not is_working_day(POLICY, date(2026, 9, 25))  # Mid-Autumn, a Friday
    assert is_working_day(POLICY, date(2026, 9, 20))  # a Sunday worked
    assert is_working_day(POLICY, date(2026, 10, 10))  # a Saturday worked


def test_local_date_uses_offset() -> None:
    # 2026-03-05 16:30 UTC is already Friday 2026-03-06 00:30 in China.
    start = ms(date(2026, 3, 5), 16, 30, zone=UTC)
    assert local_date(POLICY, start) == date(2026, 3, 6)
    assert local_date(POLICY, start - 31 * 60_000) == date(2026, 3, 5)


def test_day_end_is_local_midnight() -> None:
    assert day_end(POLICY, date(2026, 10, 9)) == end_of(date(2026, 10, 9))
    assert local_date(POLICY, day_end(POLICY, date(2026, 10, 9)) + 1) == date(
        2026, 10, 10
    )


# Deadlines worked out by hand from the 2026 holiday notice.


def test_deadline_across_national_day() -> None:
    # Friday 2026-09-25 is the Mid-Autumn holiday, and 26-27 its weekend. The
    # working days are then 28, 29 and 30 September, and after the National Day
    # holiday (1-7 October) Thursday 8 and Friday 9 October: the fifth is 9 October.
    start = ms(date(2026, 9, 25), 10)
    assert deadline(POLICY, start, 5) == end_of(date(2026, 10, 9))


def test_deadline_counts_extra_saturday() -> None:
    # Saturday 10 October is worked in exchange for the holiday: the sixth day.
    start = ms(date(2026, 9, 25), 10)
    assert deadline(POLICY, start, 6) == end_of(date(2026, 10, 10))
    assert deadline(POLICY, start, 7) == end_of(date(2026, 10, 12))


def test_deadline_counts_extra_sunday() -> None:
    # Friday 18 September: Saturday 19 is off, Sunday 20 is worked.
    start = ms(date(2026, 9, 18), 15)
    assert deadline(POLICY, start, 1) == end_of(date(2026, 9, 20))
    assert deadline(POLICY, start, 2) == end_of(date(2026, 9, 21))


def test_deadline_skips_weekend() -> None:
    # Monday 2 March 2026: 3, 4, 5, 6 March, then Monday 9 March.
    start = ms(date(2026, 3, 2), 9)
    assert deadline(POLICY, start, 4) == end_of(date(2026, 3, 6))
    assert deadline(POLICY, start, 5) == end_of(date(2026, 3, 9))


def test_deadline_start_day_not_counted() -> None:
    start = ms(date(2026, 3, 2), 0, 1)
    assert deadline(POLICY, start, 1) == end_of(date(2026, 3, 3))


def test_deadline_across_spring_festival() -> None:
    # Friday 13 February; Saturday 14 is worked; 15 to 23 February are off.
    start = ms(date(2026, 2, 13), 17)
    assert deadline(POLICY, start, 1) == end_of(date(2026, 2, 14))
    assert deadline(POLICY, start, 2) == end_of(date(2026, 2, 24))


def test_deadline_start_on_holiday() -> None:
    start = ms(date(2026, 10, 3), 12)
    assert deadline(POLICY, start, 2) == end_of(date(2026, 10, 9))


def test_deadline_uses_local_date() -> None:
    # 16:30 UTC on Thursday 5 March is Friday 6 March in China, so the first
    # working day is Monday 9 March, not Friday 6 March.
    start = ms(date(2026, 3, 5), 16, 30, zone=UTC)
    assert deadline(POLICY, start, 1) == end_of(date(2026, 3, 9))


def test_deadline_chained_steps() -> None:
    # Operator, 2 days from Friday 25 September: 28 and 29 September. Owner, 5
    # days from then: 30 September, 8, 9, 10 (a Saturday worked) and 12 October.
    operator_due = deadline(POLICY, ms(date(2026, 9, 25), 10), 2)
    assert operator_due == end_of(date(2026, 9, 29))
    assert deadline(POLICY, operator_due, 5) == end_of(date(2026, 10, 12))


def test_deadline_other_offset() -> None:
    # A calendar at UTC-05:00 with a Monday-to-Saturday week and no holidays.
    policy = Policy(
        rules=POLICY.rules, working_week=(1, 2, 3, 4, 5, 6), utc_offset_minutes=-300
    )
    zone = timezone(timedelta(hours=-5))
    start = ms(date(2026, 3, 6), 22, zone=zone)  # Friday evening there
    assert deadline(policy, start, 1) == end_of(date(2026, 3, 7), zone=zone)
    assert deadline(policy, start, 2) == end_of(date(2026, 3, 9), zone=zone)


def test_deadline_zero_working_days() -> None:
    with pytest.raises(ValidationError, match="must be 1 or more") as caught:
        deadline(POLICY, ms(date(2026, 3, 2)), 0)
    assert caught.value.reason == "bad-working-days"


def test_deadline_negative_start() -> None:
    with pytest.raises(ValidationError, match="outside 1970 to 9000") as caught:
        deadline(POLICY, -1, 1)
    assert caught.value.reason == "bad-time"


def test_deadline_start_past_limit() -> None:
    with pytest.raises(ValidationError, match="outside 1970 to 9000"):
        deadline(POLICY, MAX_START_MS + 1, 1)


def test_deadline_empty_working_week() -> None:
    policy = replace(POLICY, working_week=(), extra_working_days=frozenset())
    with pytest.raises(ValidationError, match="working week is empty") as caught:
        deadline(policy, ms(date(2026, 3, 2)), 3)
    assert caught.value.reason == "bad-calendar"


def test_is_overdue_at_deadline() -> None:
    due = deadline(POLICY, ms(date(2026, 3, 2), 9), 1)
    assert not is_overdue(due - 1, due - 2)
    assert not is_overdue(due, due)
    assert is_overdue(due, due + 1)


# A property: the deadline is the end of a working day, with exactly the
# requested number of working days after the start day and up to that day.


@settings(deadline=None, database=None)
@given(
    start=st.integers(min_value=ms(date(2025, 12, 1)), max_value=ms(date(2026, 12, 1))),
    working_days=st.integers(min_value=1, max_value=40),
)
def test_deadline_counts_working_days(start: int, working_days: int) -> None:
    due = deadline(POLICY, start, working_days)
    last = local_date(POLICY, due)
    assert (due + 1) % DAY_MS == (-8 * 3_600_000) % DAY_MS
    assert is_working_day(POLICY, last)
    first = local_date(POLICY, start) + timedelta(days=1)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    assert sum(is_working_day(POLICY, day) for day in days) == working_days
