"""Check the [policy] table of a consortium file: the calendar and the rules.

Rules decide only conditional sharing. Not-shared resources are always refused and
unconditional ones always granted without approval, so a rule that lists either
type is a mistake and is reported. The last rule must match every conditional
request, and a rule after such a catch-all could never apply, so it is reported as
well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from govchain.consortium._model import (
    APPROVERS,
    MAX_SENSITIVITY,
    MIN_SENSITIVITY,
    SCOPES,
    SHARING_TYPES,
    ApprovalStep,
    Policy,
    PolicyRule,
    Scope,
    SharingType,
)
from govchain.consortium._reading import (
    MISSING,
    Report,
    check_fields,
    read_choices,
    read_dates,
    read_integer,
    read_string,
    read_tables,
    show,
)

#: Upper bound on one approval step, about a year of working days.
MAX_WORKING_DAYS = 365
#: Real UTC offsets run from -12:00 to +14:00.
MAX_UTC_OFFSET_MINUTES = 14 * 60

_POLICY_FIELDS = (
    "working_week",
    "holidays",
    "extra_working_days",
    "utc_offset",
    "rules",
)
_RULE_FIELDS = ("name", "sharing", "min_level", "scope", "steps")
_STEP_FIELDS = ("approver", "working_days")
_RULE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_UTC_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


def build_policy(report: Report, table: Mapping[str, Any]) -> Policy | None:
    """Check the [policy] table and return the policy, or None after a problem."""
    check_fields(report, "policy", table, _POLICY_FIELDS)
    week = _build_working_week(report, table)
    holidays = read_dates(report, table, "policy", "holidays")
    extra = read_dates(report, table, "policy", "extra_working_days")
    offset = _build_utc_offset(report, table)
    rules = _build_rules(report, table)
    if week is not None:
        _check_extra_days(report, table, week, holidays, extra)
    if week is None or offset is None or rules is None:
        return None
    return Policy(
        rules=rules,
        working_week=week,
        holidays=holidays,
        extra_working_days=extra,
        utc_offset_minutes=offset,
    )


def _build_working_week(
    report: Report, table: Mapping[str, Any]
) -> tuple[int, ...] | None:
    value = table.get("working_week", [1, 2, 3, 4, 5])
    where = "policy.working_week"
    if not isinstance(value, list) or not value:
        report.add(
            where,
            f"expected a non-empty array of ISO weekdays, got {show(value)}; "
            "write it as [1, 2, 3, 4, 5] for Monday to Friday",
        )
        return None
    days: set[int] = set()
    valid = True
    for index, day in enumerate(value):
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
            report.add(
                f"{where}[{index}]",
                f"{show(day)} is not an ISO weekday; use 1 (Monday) to 7 (Sunday)",
            )
            valid = False
        elif day in days:
            report.add(f"{where}[{index}]", f"{day} is listed twice; remove one")
            valid = False
        days.add(day)
    return tuple(sorted(days)) if valid else None


def _check_extra_days(
    report: Report,
    table: Mapping[str, Any],
    week: tuple[int, ...],
    holidays: frozenset[Any],
    extra: frozenset[Any],
) -> None:
    listed = table.get("extra_working_days", [])
    for index, day in enumerate(sorted(extra)):
        where = f"policy.extra_working_days[{_index_of(listed, day, index)}]"
        if day in holidays:
            report.add(
                where,
                f"{day} is also listed in holidays; remove it from one of the lists",
            )
        elif day.isoweekday() in week:
            report.add(
                where,
                f"{day} is a {_WEEKDAYS[day.isoweekday() - 1]}, which working_week "
                "already makes a working day; remove it",
            )


def _index_of(listed: object, day: Any, fallback: int) -> int:
    # Dates may be written as TOML dates or as strings; find the entry either way.
    if isinstance(listed, list):
        for index, item in enumerate(listed):
            if item == day or item == day.isoformat():
                return index
    return fallback


def _build_utc_offset(report: Report, table: Mapping[str, Any]) -> int | None:
    value = read_string(
        report,
        table,
        "policy",
        "utc_offset",
        required=False,
        pattern=_UTC_OFFSET,
        hint="+HH:MM or -HH:MM, such as +08:00",
    )
    if value is None:
        return None if "utc_offset" in table else 8 * 60
    match = cast(re.Match[str], _UTC_OFFSET.fullmatch(value))
    hours, minutes = int(match.group(2)), int(match.group(3))
    total = hours * 60 + minutes
    if minutes >= 60 or total > MAX_UTC_OFFSET_MINUTES:
        report.add(
            "policy.utc_offset",
            f"{show(value)} is out of range; use -14:00 to +14:00",
        )
        return None
    return -total if match.group(1) == "-" else total


def _build_rules(
    report: Report, table: Mapping[str, Any]
) -> tuple[PolicyRule, ...] | None:
    entries = read_tables(report, table, "policy", "rules")
    rules: list[PolicyRule] = []
    first_path: dict[str, str] = {}
    valid = bool(entries)
    for path, entry in entries:
        rule = _build_rule(report, path, entry)
        if rule is None:
            valid = False
            continue
        if rule.name in first_path:
            report.add(
                f"{path}.name",
                f"{show(rule.name)} is already used by {first_path[rule.name]}; "
                "give each rule its own name",
            )
            valid = False
            continue
        first_path[rule.name] = path
        rules.append(rule)
    if not valid:
        return None
    _check_catch_all(report, rules, [path for path, _ in entries])
    return tuple(rules)


def _check_catch_all(report: Report, rules: list[PolicyRule], paths: list[str]) -> None:
    for index, rule in enumerate(rules[:-1]):
        if rule.is_catch_all:
            report.add(
                paths[index + 1],
                f"rule {show(rules[index + 1].name)} is never reached because rule "
                f"{show(rule.name)} before it matches every conditional request; "
                "move the catch-all rule to the end",
            )
            return
    if not rules[-1].is_catch_all:
        report.add(
            "policy.rules",
            f"the last rule {show(rules[-1].name)} has conditions, so some "
            "conditional requests match no rule; end with a rule that has "
            'sharing = ["conditional"] and neither min_level nor scope',
        )


def _build_rule(
    report: Report, path: str, entry: Mapping[str, Any]
) -> PolicyRule | None:
    check_fields(report, path, entry, _RULE_FIELDS)
    name = read_string(
        report,
        entry,
        path,
        "name",
        pattern=_RULE_NAME,
        hint='1 to 64 characters of a-z, 0-9 and "-"',
    )
    sharing = _build_sharing(report, path, entry)
    min_level = None
    if "min_level" in entry:
        min_level = read_integer(
            report, entry, path, "min_level", low=MIN_SENSITIVITY, high=MAX_SENSITIVITY
        )
    scope = read_choices(report, entry, path, "scope", SCOPES)
    steps = _build_steps(report, path, entry)
    faulty = ("min_level" in entry and min_level is None) or (
        "scope" in entry and scope is None
    )
    if name is None or sharing is None or steps is None or faulty:
        return None
    return PolicyRule(
        name=name,
        sharing=sharing,
        steps=steps,
        min_level=min_level,
        scope=cast(tuple[Scope, ...] | None, scope),
    )


def _build_sharing(
    report: Report, path: str, entry: Mapping[str, Any]
) -> tuple[SharingType, ...] | None:
    if "sharing" not in entry:
        return ("conditional",)
    chosen = read_choices(report, entry, path, "sharing", SHARING_TYPES)
    if chosen is None:
        return None
    valid = True
    for index, kind in enumerate(chosen):
        if kind == "conditional":
            continue
        cause = (
            "not-shared resources are always refused"
            if kind == "not_shared"
            else "unconditional resources never need approval"
        )
        report.add(
            f"{path}.sharing[{index}]",
            f"{show(kind)} never reaches the rules because {cause}; "
            'list only "conditional"',
        )
        valid = False
    return cast(tuple[SharingType, ...], chosen) if valid else None


def _build_steps(
    report: Report, path: str, entry: Mapping[str, Any]
) -> tuple[ApprovalStep, ...] | None:
    value = entry.get("steps", MISSING)
    where = f"{path}.steps"
    if value is MISSING or not isinstance(value, list) or not value:
        got = "nothing" if value is MISSING else show(value)
        report.add(
            where,
            f"expected a non-empty array of steps, got {got}; conditional sharing "
            "needs at least one approval, such as "
            '[{ approver = "owner", working_days = 5 }]',
        )
        return None
    steps: list[ApprovalStep] = []
    for index, item in enumerate(value):
        step_path = f"{where}[{index}]"
        if not isinstance(item, dict):
            report.add(step_path, f"expected a table, got {show(item)}")
            continue
        check_fields(report, step_path, item, _STEP_FIELDS)
        approver = read_string(report, item, step_path, "approver")
        if approver is not None and approver not in APPROVERS:
            report.add(
                f"{step_path}.approver",
                f"{show(approver)} is not one of {', '.join(APPROVERS)}",
            )
            approver = None
        elif approver is not None and any(s.approver == approver for s in steps):
            report.add(
                f"{step_path}.approver",
                f"{show(approver)} already approves an earlier step; remove one",
            )
            approver = None
        days = read_integer(
            report, item, step_path, "working_days", low=1, high=MAX_WORKING_DAYS
        )
        if approver is not None and days is not None:
            steps.append(ApprovalStep(approver=approver, working_days=days))
    return tuple(steps) if len(steps) == len(value) else None
