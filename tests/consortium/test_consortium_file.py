"""Tests of the consortium file parser: the demo file and one test per fault."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from govchain.consortium import (
    Consortium,
    build_consortium,
    demo_consortium_text,
    load_consortium,
    load_demo_consortium,
    parse_consortium,
)
from govchain.errors import ConfigError, ValidationError
from govchain.ledger.canonical import canonical_json, parse_canonical_json

SOURCE = "consortium.toml"


def demo_document() -> dict[str, Any]:
    return tomllib.loads(demo_consortium_text())


def problems(document: dict[str, Any]) -> list[str]:
    """Build `document` and return the problem lines of the expected error."""
    with pytest.raises(ConfigError) as caught:
        build_consortium(document, source=SOURCE)
    assert caught.value.path == SOURCE
    lines = str(caught.value).splitlines()
    for line in lines:
        assert line.startswith(f"{SOURCE}: ")
    return lines


def only_problem(document: dict[str, Any]) -> str:
    lines = problems(document)
    assert len(lines) == 1, lines
    return lines[0]


def department(document: dict[str, Any], dept_id: str) -> dict[str, Any]:
    for entry in document["departments"]:
        if entry["id"] == dept_id:
            return dict[str, Any](entry)
    raise AssertionError(dept_id)


# The demo consortium.


def test_demo_members() -> None:
    consortium = load_demo_consortium()
    assert consortium.operator == "city-bdb"
    assert len(consortium.departments) == 9
    assert [r.code for r in consortium.regions] == [
        "440000",
        "440100",
        "440104",
        "440106",
    ]
    assert consortium.department("tianhe-market").level == "county"
    assert consortium.department("city-health").line == "health"
    assert consortium.witness_threshold == 2


def test_demo_node_hosts_every_department() -> None:
    consortium = load_demo_consortium()
    assert consortium.node is not None
    assert set(consortium.node.hosts) == {d.id for d in consortium.departments}


def test_demo_policy() -> None:
    policy = load_demo_consortium().policy
    assert [rule.name for rule in policy.rules] == [
        "most-sensitive",
        "cross-region",
        "default",
    ]
    assert policy.utc_offset_minutes == 480
    assert policy.utc_offset == "+08:00"
    assert len(policy.holidays) == 33
    assert len(policy.extra_working_days) == 6


def test_load_consortium_from_file(tmp_path: Path) -> None:
    path = tmp_path / SOURCE
    path.write_text(demo_consortium_text(), encoding="utf-8")
    assert load_consortium(path) == load_demo_consortium()


def test_load_consortium_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / SOURCE
    path.write_bytes(b"\xef\xbb\xbf" + demo_consortium_text().encode("utf-8"))
    assert load_consortium(path).operator == "city-bdb"


# The genesis form.


def test_to_dict_round_trip() -> None:
    consortium = load_demo_consortium()
    rebuilt = Consortium.from_dict(consortium.to_dict())
    assert rebuilt == consortium
    assert rebuilt.to_dict() == consortium.to_dict()


def test_to_dict_survives_canonical_json() -> None:
    consortium = load_demo_consortium()
    data = parse_canonical_json(canonical_json(consortium.to_dict()))
    assert Consortium.from_dict(data) == consortium


def test_to_dict_leaves_out_node() -> None:
    consortium = load_demo_consortium()
    data = consortium.to_dict()
    assert "node" not in data
    assert Consortium.from_dict(data).node.hosts == ()


def test_to_dict_writes_defaults() -> None:
    document = demo_document()
    del document["consortium"]["block_interval_ms"]
    del document["policy"]["working_week"]
    data = build_consortium(document, source=SOURCE).to_dict()
    assert data["consortium"]["block_interval_ms"] == 200
    assert data["policy"]["working_week"] == [1, 2, 3, 4, 5]
    assert data["policy"]["holidays"][0] == "2026-01-01"


def test_to_dict_json_values_only() -> None:
    def check(value: object) -> None:
        assert isinstance(value, str | int | bool | list | dict)
        assert not isinstance(value, float)
        if isinstance(value, list):
            for item in value:
                check(item)
        if isinstance(value, dict):
            for item in value.values():
                check(item)

    data = load_demo_consortium().to_dict()
    check(data)
    assert json.loads(json.dumps(data)) == data


def test_from_dict_names_source() -> None:
    data = load_demo_consortium().to_dict()
    data["departments"][0]["level"] = "town"
    with pytest.raises(ConfigError, match=r"^genesis: departments\[0\]\.level"):
        Consortium.from_dict(data, source="genesis")


def test_node_excluded_from_equality() -> None:
    document = demo_document()
    other = copy.deepcopy(document)
    other["node"]["hosts"] = ["city-health"]
    first = build_consortium(document, source=SOURCE)
    second = build_consortium(other, source=SOURCE)
    assert first == second
    assert first.node != second.node


# Lookups.


def test_department_unknown() -> None:
    with pytest.raises(ValidationError, match="'city-tax' is not a member") as caught:
        load_demo_consortium().department("city-tax")
    assert caught.value.reason == "unknown-department"


def test_region_unknown() -> None:
    with pytest.raises(ValidationError, match="region '110000' is not declared"):
        load_demo_consortium().region("110000")


def test_region_ancestors() -> None:
    consortium = load_demo_consortium()
    assert consortium.region_ancestors("440106") == ("440100", "440000")
    assert consortium.region_ancestors("440000") == ()


def test_has_department() -> None:
    consortium = load_demo_consortium()
    assert consortium.has_department("yuexiu-health")
    assert not consortium.has_department("yuexiu-market")


# Reading the file.


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="cannot read the consortium file") as caught:
        load_consortium(path)
    assert caught.value.path == str(path)
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_load_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / SOURCE
    path.write_bytes("[consortium]\nname = '广州'\n".encode("gbk"))
    with pytest.raises(ConfigError, match="invalid UTF-8 at byte 21"):
        load_consortium(path)


def test_parse_syntax_error_line() -> None:
    text = demo_consortium_text().replace('level = "city"', "level = city", 1)
    line = text.splitlines().index("level = city") + 1
    with pytest.raises(ConfigError) as caught:
        parse_consortium(text, source=SOURCE)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: line {line}, column 9: invalid TOML: ")
    assert message.endswith("; fix the syntax")
    assert isinstance(caught.value.__cause__, tomllib.TOMLDecodeError)


def test_parse_syntax_error_end_of_document() -> None:
    with pytest.raises(ConfigError, match="end of document: invalid TOML: "):
        parse_consortium("hosts = [", source=SOURCE)


# One test for each kind of fault.


def test_missing_table() -> None:
    document = demo_document()
    del document["consortium"]
    assert only_problem(document) == (
        f"{SOURCE}: consortium: missing table; add a [consortium] table"
    )


def test_missing_field() -> None:
    document = demo_document()
    del document["consortium"]["origin"]
    assert only_problem(document) == (
        f'{SOURCE}: consortium.origin: missing; add origin = "..."'
    )


def test_unknown_field() -> None:
    document = demo_document()
    document["departments"][2]["levl"] = "city"
    assert only_problem(document).startswith(
        f"{SOURCE}: departments[2].levl: unknown field; check the spelling"
    )


def test_wrong_type() -> None:
    document = demo_document()
    document["regions"][1]["code"] = 440100
    lines = problems(document)
    assert lines[0] == (
        f"{SOURCE}: regions[1].code: expected a string, got integer 440100; "
        "quote the value"
    )


def test_bad_level() -> None:
    document = demo_document()
    document["departments"][3]["level"] = "town"
    assert only_problem(document) == (
        f'{SOURCE}: departments[3].level: "town" is not one of province, city, '
        "county; fix the level"
    )


def test_bad_department_id() -> None:
    document = demo_document()
    document["departments"][8]["id"] = "Tianhe Market"
    del document["node"]
    assert only_problem(document).startswith(
        f'{SOURCE}: departments[8].id: "Tianhe Market" is invalid; use 2 to 64'
    )


def test_duplicate_department_id() -> None:
    document = demo_document()
    document["departments"][5]["id"] = "city-health"
    lines = problems(document)
    assert lines[0] == (
        f'{SOURCE}: departments[5].id: "city-health" is already used by '
        "departments[1]; give each department its own id"
    )
    # The department that lost its id is no longer there to host.
    assert lines[1].startswith(f'{SOURCE}: node.hosts[5]: "city-civil-affairs" is not')
    assert len(lines) == 2


def test_duplicate_region_code() -> None:
    document = demo_document()
    document["regions"].append({"code": "440104", "name": "越秀"})
    assert only_problem(document) == (
        f'{SOURCE}: regions[4].code: "440104" is already used by regions[2]; '
        "give each region its own code"
    )


def test_unknown_region() -> None:
    document = demo_document()
    document["departments"][5]["region"] = "440105"
    assert only_problem(document) == (
        f'{SOURCE}: departments[5].region: "440105" is not a declared region; '
        "declare it under [[regions]] or fix the code"
    )


def test_unknown_parent() -> None:
    document = demo_document()
    del document["regions"][0]
    assert only_problem(document) == (
        f'{SOURCE}: regions[0].parent: "440000" is not a declared region; '
        "declare it under [[regions]] or remove parent"
    )


def test_parent_cycle() -> None:
    document = demo_document()
    document["regions"][0]["parent"] = "440104"
    lines = problems(document)
    assert lines[0] == (
        f"{SOURCE}: regions[0].parent: parents form a cycle "
        "440000 -> 440104 -> 440100 -> 440000; remove one of the parents"
    )
    assert len(lines) == 3


def test_unknown_operator() -> None:
    document = demo_document()
    document["consortium"]["operator"] = "city-data"
    assert only_problem(document) == (
        f'{SOURCE}: consortium.operator: "city-data" is not a declared '
        "department; declare it under [[departments]] or fix the id"
    )


def test_faulty_department_still_declared() -> None:
    # A department with a bad level is still known to the operator check.
    document = demo_document()
    document["departments"][0]["level"] = "bureau"
    assert "departments[0].level" in only_problem(document)


def test_unknown_hosted_department() -> None:
    document = demo_document()
    document["node"]["hosts"].append("haizhu-health")
    assert only_problem(document) == (
        f'{SOURCE}: node.hosts[9]: "haizhu-health" is not a declared department; '
        "declare it under [[departments]] or fix the id"
    )


def test_hosted_department_twice() -> None:
    document = demo_document()
    document["node"]["hosts"].append("city-bdb")
    assert only_problem(document).endswith('"city-bdb" is listed twice; remove one')


def test_bad_origin() -> None:
    document = demo_document()
    document["consortium"]["origin"] = "govchain example"
    assert only_problem(document).startswith(
        f'{SOURCE}: consortium.origin: "govchain example" is invalid; use printable'
    )


def test_witness_threshold_above_departments() -> None:
    document = demo_document()
    document["consortium"]["witness_threshold"] = 10
    assert only_problem(document) == (
        f"{SOURCE}: consortium.witness_threshold: 10 is out of range; use 1 to 9 "
        "(the number of departments)"
    )


def test_boolean_for_integer() -> None:
    document = demo_document()
    document["consortium"]["block_interval_ms"] = True
    assert only_problem(document) == (
        f"{SOURCE}: consortium.block_interval_ms: expected an integer, got true"
    )


def test_unknown_sharing_type() -> None:
    document = demo_document()
    document["policy"]["rules"][0]["sharing"] = ["condtional"]
    assert only_problem(document) == (
        f'{SOURCE}: policy.rules[0].sharing[0]: "condtional" is not one of '
        "unconditional, conditional, not_shared"
    )


def test_rule_lists_not_shared() -> None:
    document = demo_document()
    document["policy"]["rules"][1]["sharing"] = ["conditional", "not_shared"]
    assert only_problem(document) == (
        f'{SOURCE}: policy.rules[1].sharing[1]: "not_shared" never reaches the '
        "rules because not-shared resources are always refused; list only "
        '"conditional"'
    )


def test_rule_lists_unconditional() -> None:
    document = demo_document()
    document["policy"]["rules"][1]["sharing"] = ["unconditional"]
    assert "unconditional resources never need approval" in only_problem(document)


def test_unknown_scope() -> None:
    document = demo_document()
    document["policy"]["rules"][1]["scope"] = ["cross-county"]
    assert only_problem(document) == (
        f'{SOURCE}: policy.rules[1].scope[0]: "cross-county" is not one of '
        "same-department, same-line, same-level, cross-level, cross-region"
    )


def test_empty_scope() -> None:
    document = demo_document()
    document["policy"]["rules"][1]["scope"] = []
    assert "policy.rules[1].scope: expected a non-empty array" in (
        only_problem(document)
    )


def test_min_level_out_of_range() -> None:
    document = demo_document()
    document["policy"]["rules"][0]["min_level"] = 5
    assert only_problem(document) == (
        f"{SOURCE}: policy.rules[0].min_level: 5 is out of range; use 1 to 4"
    )


def test_no_catch_all() -> None:
    document = demo_document()
    document["policy"]["rules"].pop()
    assert only_problem(document) == (
        f'{SOURCE}: policy.rules: the last rule "cross-region" has conditions, so '
        "some conditional requests match no rule; end with a rule that has "
        'sharing = ["conditional"] and neither min_level nor scope'
    )


def test_catch_all_covering_every_scope() -> None:
    document = demo_document()
    document["policy"]["rules"][2]["scope"] = [
        "cross-region",
        "cross-level",
        "same-level",
        "same-line",
        "same-department",
    ]
    document["policy"]["rules"][2]["min_level"] = 1
    consortium = build_consortium(document, source=SOURCE)
    assert consortium.policy.rules[2].is_catch_all


def test_rule_after_catch_all() -> None:
    document = demo_document()
    rules = document["policy"]["rules"]
    rules.insert(1, rules[2] | {"name": "early-default"})
    assert only_problem(document) == (
        f'{SOURCE}: policy.rules[2]: rule "cross-region" is never reached because '
        'rule "early-default" before it matches every conditional request; move '
        "the catch-all rule to the end"
    )


def test_duplicate_rule_name() -> None:
    document = demo_document()
    document["policy"]["rules"][1]["name"] = "most-sensitive"
    assert only_problem(document).startswith(
        f'{SOURCE}: policy.rules[1].name: "most-sensitive" is already used by '
        "policy.rules[0]"
    )


def test_zero_working_days() -> None:
    document = demo_document()
    document["policy"]["rules"][2]["steps"][0]["working_days"] = 0
    assert only_problem(document) == (
        f"{SOURCE}: policy.rules[2].steps[0].working_days: 0 is out of range; "
        "use 1 to 365"
    )


def test_negative_working_days() -> None:
    document = demo_document()
    document["policy"]["rules"][0]["steps"][1]["working_days"] = -3
    assert "policy.rules[0].steps[1].working_days: -3 is out of range" in (
        only_problem(document)
    )


def test_unknown_approver() -> None:
    document = demo_document()
    document["policy"]["rules"][2]["steps"][0]["approver"] = "consumer"
    assert only_problem(document) == (
        f'{SOURCE}: policy.rules[2].steps[0].approver: "consumer" is not one of '
        "owner, operator"
    )


def test_approver_twice() -> None:
    document = demo_document()
    document["policy"]["rules"][0]["steps"][1]["approver"] = "operator"
    assert "already approves an earlier step" in only_problem(document)


def test_empty_steps() -> None:
    document = demo_document()
    document["policy"]["rules"][2]["steps"] = []
    assert only_problem(document).startswith(
        f"{SOURCE}: policy.rules[2].steps: expected a non-empty array of steps"
    )


def test_bad_date() -> None:
    document = demo_document()
    document["policy"]["holidays"][3] = "2026-02-30"
    assert only_problem(document) == (
        f'{SOURCE}: policy.holidays[3]: "2026-02-30" is not a date; write it as '
        '"YYYY-MM-DD"'
    )


def test_date_in_other_form() -> None:
    document = demo_document()
    document["policy"]["holidays"][0] = "2026/01/01"
    assert "policy.holidays[0]" in only_problem(document)


def test_toml_dates_accepted() -> None:
    text = demo_consortium_text().replace('"2026-10-07",', "2026-10-07,")
    consortium = parse_consortium(text, source=SOURCE)
    assert consortium == load_demo_consortium()


def test_holiday_twice() -> None:
    document = demo_document()
    document["policy"]["holidays"].append("2026-10-01")
    assert only_problem(document) == (
        f"{SOURCE}: policy.holidays[33]: 2026-10-01 is listed twice; remove one"
    )


def test_extra_day_also_holiday() -> None:
    document = demo_document()
    document["policy"]["extra_working_days"].append("2026-10-03")
    assert only_problem(document) == (
        f"{SOURCE}: policy.extra_working_days[6]: 2026-10-03 is also listed in "
        "holidays; remove it from one of the lists"
    )


def test_extra_day_already_working() -> None:
    document = demo_document()
    document["policy"]["extra_working_days"].insert(0, "2026-09-21")
    assert only_problem(document) == (
        f"{SOURCE}: policy.extra_working_days[0]: 2026-09-21 is a Monday, which "
        "working_week already makes a working day; remove it"
    )


def test_bad_working_week() -> None:
    document = demo_document()
    document["policy"]["working_week"] = [1, 2, 3, 4, 8]
    assert only_problem(document) == (
        f"{SOURCE}: policy.working_week[4]: integer 8 is not an ISO weekday; "
        "use 1 (Monday) to 7 (Sunday)"
    )


def test_empty_working_week() -> None:
    document = demo_document()
    document["policy"]["working_week"] = []
    assert "policy.working_week: expected a non-empty array" in only_problem(document)


def test_bad_utc_offset() -> None:
    document = demo_document()
    document["policy"]["utc_offset"] = "UTC+8"
    assert only_problem(document) == (
        f'{SOURCE}: policy.utc_offset: "UTC+8" is invalid; use +HH:MM or -HH:MM, '
        "such as +08:00"
    )


def test_utc_offset_out_of_range() -> None:
    document = demo_document()
    document["policy"]["utc_offset"] = "+15:00"
    assert "out of range; use -14:00 to +14:00" in only_problem(document)


def test_negative_utc_offset() -> None:
    document = demo_document()
    document["policy"]["utc_offset"] = "-03:30"
    policy = build_consortium(document, source=SOURCE).policy
    assert policy.utc_offset_minutes == -210
    assert policy.utc_offset == "-03:30"


# Several faults at once.


def test_several_faults_reported_together() -> None:
    document = demo_document()
    document["departments"][3]["level"] = "town"
    document["departments"][5]["id"] = "city-health"
    document["node"]["hosts"].append("haizhu-health")
    document["policy"]["holidays"][0] = "2026-13-01"
    document["policy"]["rules"][2]["steps"][0]["working_days"] = 0
    document["policy"]["rules"].append({"name": "late", "steps": []})
    lines = problems(document)
    assert len(lines) == 7, lines
    assert lines[0].startswith(f"{SOURCE}: departments[3].level: ")
    assert lines[1].startswith(f"{SOURCE}: departments[5].id: ")
    assert lines[2].startswith(f"{SOURCE}: policy.holidays[0]: ")
    assert lines[3].startswith(f"{SOURCE}: policy.rules[2].steps[0].working_days: ")
    assert lines[4].startswith(f"{SOURCE}: policy.rules[3].steps: ")
    assert lines[5].startswith(f"{SOURCE}: node.hosts[5]: ")
    assert lines[6].startswith(f"{SOURCE}: node.hosts[9]: ")


def test_empty_document() -> None:
    lines = problems({})
    assert lines == [
        f"{SOURCE}: consortium: missing table; add a [consortium] table",
        f"{SOURCE}: regions: missing; add at least one [[regions]] entry",
        f"{SOURCE}: departments: missing; add at least one [[departments]] entry",
        f"{SOURCE}: policy: missing table; add a [policy] table",
    ]
