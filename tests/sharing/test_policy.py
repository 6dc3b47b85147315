"""Tests of the sharing policy engine against the demo consortium."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import Any

import pytest

from govchain.consortium import (
    ApprovalStep,
    Consortium,
    build_consortium,
    demo_consortium_text,
    load_demo_consortium,
)
from govchain.errors import ConfigError, ValidationError
from govchain.sharing import (
    NOT_SHARED_RULE,
    UNCONDITIONAL_RULE,
    approval_path,
    consumer_scope,
)

DEMO = load_demo_consortium()

OPERATOR_THEN_OWNER = (
    ApprovalStep(approver="operator", working_days=2),
    ApprovalStep(approver="owner", working_days=5),
)
OWNER_ONLY = (ApprovalStep(approver="owner", working_days=5),)

# One owner and consumer pair for each scope in the demo consortium.
PAIRS = {
    "same-department": ("city-health", "city-health"),
    "same-line": ("city-health", "city-cdc"),
    "same-level": ("city-health", "city-market"),
    "cross-level": ("city-health", "yuexiu-health"),
    "cross-region": ("yuexiu-health", "tianhe-health"),
}


# Scopes.


@pytest.mark.parametrize("scope", sorted(PAIRS))
def test_consumer_scope_demo_pairs(scope: str) -> None:
    owner, consumer = PAIRS[scope]
    assert consumer_scope(DEMO, owner, consumer) == scope


def test_consumer_scope_county_to_city() -> None:
    # A district asking its city is within one region tree: cross-level.
    assert consumer_scope(DEMO, "tianhe-market", "city-market") == "cross-level"


def test_consumer_scope_same_county_other_line() -> None:
    assert consumer_scope(DEMO, "tianhe-health", "tianhe-market") == "same-level"


def test_consumer_scope_cross_region_other_line() -> None:
    # Two districts: cross-region wins over the different lines.
    assert consumer_scope(DEMO, "yuexiu-health", "tianhe-market") == "cross-region"


def test_consumer_scope_symmetric() -> None:
    for owner, consumer in PAIRS.values():
        forward = consumer_scope(DEMO, owner, consumer)
        assert consumer_scope(DEMO, consumer, owner) == forward


def test_consumer_scope_unknown_department() -> None:
    with pytest.raises(ValidationError, match="'city-tax' is not a member") as caught:
        consumer_scope(DEMO, "city-health", "city-tax")
    assert caught.value.reason == "unknown-department"


def test_consumer_scope_ancestor_region_same_level() -> None:
    # A city-level department placed in the province region is not cross-region
    # to one in the city region, because the province contains the city.
    document = tomllib.loads(demo_consortium_text())
    document["departments"].append(
        {
            "id": "province-health",
            "name": "广东省卫生健康委员会",
            "region": "440000",
            "level": "city",
            "line": "health",
        }
    )
    consortium = build_consortium(document, source="test")
    assert consumer_scope(consortium, "province-health", "city-health") == "same-line"


# Approval paths: every scope, level and sharing type of the demo policy.


def expected_conditional(scope: str, level: int) -> tuple[str, tuple[Any, ...]]:
    if level == 4:
        return "most-sensitive", OPERATOR_THEN_OWNER
    if scope == "cross-region":
        return "cross-region", OPERATOR_THEN_OWNER
    return "default", OWNER_ONLY


@pytest.mark.parametrize("level", [1, 2, 3, 4])
@pytest.mark.parametrize("scope", sorted(PAIRS))
def test_approval_path_conditional(scope: str, level: int) -> None:
    owner, consumer = PAIRS[scope]
    path = approval_path(
        DEMO, owner_id=owner, consumer_id=consumer, sharing="conditional", level=level
    )
    rule, steps = expected_conditional(scope, level)
    assert path.rule == rule
    assert path.steps == steps
    assert not path.refused
    assert not path.granted_at_once
    assert path.scope == scope


@pytest.mark.parametrize("level", [1, 2, 3, 4])
@pytest.mark.parametrize("scope", sorted(PAIRS))
def test_approval_path_unconditional(scope: str, level: int) -> None:
    owner, consumer = PAIRS[scope]
    path = approval_path(
        DEMO, owner_id=owner, consumer_id=consumer, sharing="unconditional", level=level
    )
    assert path.rule == UNCONDITIONAL_RULE
    assert path.steps == ()
    assert not path.refused
    assert path.granted_at_once


@pytest.mark.parametrize("level", [1, 2, 3, 4])
@pytest.mark.parametrize("scope", sorted(PAIRS))
def test_approval_path_not_shared(scope: str, level: int) -> None:
    owner, consumer = PAIRS[scope]
    path = approval_path(
        DEMO, owner_id=owner, consumer_id=consumer, sharing="not_shared", level=level
    )
    assert path.rule == NOT_SHARED_RULE
    assert path.steps == ()
    assert path.refused
    assert not path.granted_at_once
    assert path.reason == "not-shared resources are never delivered"


def test_approval_path_reason_names_rule() -> None:
    path = approval_path(
        DEMO,
        owner_id="yuexiu-health",
        consumer_id="tianhe-health",
        sharing="conditional",
        level=2,
    )
    assert path.reason == (
        "rule 'cross-region' matches conditional sharing at level 2 with a "
        "cross-region consumer"
    )


def test_approval_path_first_match_wins() -> None:
    # Level 4 across regions matches both leading rules; the first one wins.
    path = approval_path(
        DEMO,
        owner_id="yuexiu-health",
        consumer_id="tianhe-health",
        sharing="conditional",
        level=4,
    )
    assert path.rule == "most-sensitive"


@pytest.mark.parametrize("level", [0, 5, -1, True, "3", None])
def test_approval_path_bad_level(level: Any) -> None:
    with pytest.raises(ValidationError, match="sensitivity level") as caught:
        approval_path(
            DEMO,
            owner_id="city-health",
            consumer_id="city-cdc",
            sharing="conditional",
            level=level,
        )
    assert caught.value.reason == "bad-level"


@pytest.mark.parametrize("sharing", ["open", "Conditional", "", None])
def test_approval_path_bad_sharing_type(sharing: Any) -> None:
    with pytest.raises(ValidationError, match="is not one of") as caught:
        approval_path(
            DEMO,
            owner_id="city-health",
            consumer_id="city-cdc",
            sharing=sharing,
            level=2,
        )
    assert caught.value.reason == "bad-sharing-type"


def test_approval_path_unknown_owner() -> None:
    with pytest.raises(ValidationError) as caught:
        approval_path(
            DEMO,
            owner_id="city-tax",
            consumer_id="city-cdc",
            sharing="not_shared",
            level=1,
        )
    assert caught.value.reason == "unknown-department"


def test_approval_path_without_catch_all() -> None:
    rules = DEMO.policy.rules[:1]
    consortium: Consortium = replace(DEMO, policy=replace(DEMO.policy, rules=rules))
    with pytest.raises(ConfigError, match="no policy rule matches"):
        approval_path(
            consortium,
            owner_id="city-health",
            consumer_id="city-cdc",
            sharing="conditional",
            level=1,
        )


def test_approval_path_after_round_trip() -> None:
    rebuilt = Consortium.from_dict(DEMO.to_dict())
    for scope, (owner, consumer) in PAIRS.items():
        for level in (1, 4):
            kwargs: dict[str, Any] = {
                "owner_id": owner,
                "consumer_id": consumer,
                "sharing": "conditional",
                "level": level,
            }
            assert approval_path(rebuilt, **kwargs) == approval_path(DEMO, **kwargs), (
                scope
            )
