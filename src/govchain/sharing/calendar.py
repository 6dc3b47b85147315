"""Working-day deadlines, counted in the consortium's calendar.

Times are unix milliseconds, as in block times. A policy places them on calendar
days through its fixed UTC offset (China has one offset and no daylight saving
time). The functions read no clock and no time-zone database, so every node
computes the same deadline from the same block time.
"""

from __future__ import annotations

from datetime import date, timedelta

from govchain.consortium import Policy
from govchain.errors import ValidationError

#: Milliseconds in a calendar day.
DAY_MS = 86_400_000
#: Start times must fall between 1970 and 9000 (unix milliseconds).
MAX_START_MS = 221_845_392_000_000
_EPOCH = date(1970, 1, 1)


def local_date(policy: Policy, time_ms: int) -> date:
    """Return the calendar day that `time_ms` falls on at the policy's UTC offset."""
    local_ms = time_ms + policy.utc_offset_minutes * 60_000
    return _EPOCH + timedelta(days=local_ms // DAY_MS)


def day_end(policy: Policy, day: date) -> int:
    """Return the last millisecond of `day` at the policy's UTC offset."""
    next_midnight = (day - _EPOCH).days * DAY_MS + DAY_MS
    return next_midnight - policy.utc_offset_minutes * 60_000 - 1


def is_working_day(policy: Policy, day: date) -> bool:
    """Return whether `day` is a working day in the policy's calendar."""
    return policy.is_working_day(day)


def deadline(policy: Policy, start_ms: int, working_days: int) -> int:
    """Return the end of the `working_days`-th working day after `start_ms`.

    Counting starts on the day after the start's local date, whatever kind of day
    the start falls on, so the rest of the start day never counts as a whole
    working day. A weekday in the policy's working week counts unless it is a
    holiday, and an extra working day always counts. The result is the last
    millisecond of the final day, in unix milliseconds: a decision at or before it
    is in time.

    Raises `ValidationError` when `working_days` is below 1 or `start_ms` lies
    outside the years 1970 to 9000.
    """
    if isinstance(working_days, bool) or working_days < 1:
        raise ValidationError(
            f"working days must be 1 or more, got {working_days!r}",
            reason="bad-working-days",
        )
    if not 0 <= start_ms <= MAX_START_MS:
        raise ValidationError(
            f"start time {start_ms} ms is outside 1970 to 9000; pass unix milliseconds",
            reason="bad-time",
        )
    day = local_date(policy, start_ms)
    # Every seven days contain each day of the working week once, and each holiday
    # removes at most one of them, so this many days always suffice.
    limit = 7 * (working_days + len(policy.holidays) + 1)
    counted = 0
    for _ in range(limit):
        day += timedelta(days=1)
        if policy.is_working_day(day):
            counted += 1
            if counted == working_days:
                return day_end(policy, day)
    raise ValidationError(
        f"found only {counted} of {working_days} working days within {limit} days; "
        "the policy's working week is empty",
        reason="bad-calendar",
    )


def is_overdue(deadline_ms: int, now_ms: int) -> bool:
    """Return whether a step due at `deadline_ms` is overdue at `now_ms`."""
    return now_ms > deadline_ms
