"""The sharing policy engine: which approvals a sharing request needs.

The engine is a pure function of the consortium and the request, so every node
that applies a request picks the same approval path:

- a not-shared resource is refused, whatever rules the policy contains;
- an unconditional resource is granted at once, with no approval step;
- a conditional resource gets the steps of the first policy rule that matches
  its sensitivity level and the consumer's scope (see `consumer_scope`).

The deadlines of the steps are counted in working days by
`govchain.sharing.calendar.deadline`.
"""

from __future__ import annotations

from dataclasses import dataclass

from govchain.consortium import (
    MAX_SENSITIVITY,
    MIN_SENSITIVITY,
    SHARING_TYPES,
    ApprovalStep,
    Consortium,
    Scope,
    SharingType,
)
from govchain.errors import ConfigError, ValidationError

#: Rule name recorded for the built-in refusal of not-shared resources.
NOT_SHARED_RULE = "built-in:not-shared"
#: Rule name recorded for the built-in grant of unconditional resources.
UNCONDITIONAL_RULE = "built-in:unconditional"


@dataclass(frozen=True)
class ApprovalPath:
    """The approvals a sharing request needs, and the rule that chose them.

    `rule` is a policy rule name, or `NOT_SHARED_RULE` or `UNCONDITIONAL_RULE`
    for the built-in cases. A refused path has no steps, and so does a path
    granted at once. `reason` is a short English sentence for the record.
    """

    rule: str
    steps: tuple[ApprovalStep, ...]
    refused: bool
    reason: str
    scope: Scope

    @property
    def granted_at_once(self) -> bool:
        """Whether the request is granted without any approval step."""
        return not self.refused and not self.steps


def consumer_scope(consortium: Consortium, owner_id: str, consumer_id: str) -> Scope:
    """Return where the consumer department sits relative to the resource owner.

    The first case that applies wins:

    1. `same-department`: the consumer is the owner.
    2. `cross-region`: neither department's region is the other's region or one
       of its ancestors, as two districts of one city are.
    3. `cross-level`: the departments have different levels, such as a city
       bureau and a district bureau of that city, even within one line.
    4. `same-line`: same level and the same line, such as a health commission
       and a disease control centre of one city.
    5. `same-level`: same level and different lines.

    Raises `ValidationError` with reason `unknown-department` when either id is
    not a member.
    """
    owner = consortium.department(owner_id)
    consumer = consortium.department(consumer_id)
    if owner.id == consumer.id:
        return "same-department"
    if not _regions_related(consortium, owner.region, consumer.region):
        return "cross-region"
    if owner.level != consumer.level:
        return "cross-level"
    if owner.line == consumer.line:
        return "same-line"
    return "same-level"


def _regions_related(consortium: Consortium, first: str, second: str) -> bool:
    return (
        first == second
        or first in consortium.region_ancestors(second)
        or second in consortium.region_ancestors(first)
    )


def approval_path(
    consortium: Consortium,
    *,
    owner_id: str,
    consumer_id: str,
    sharing: SharingType,
    level: int,
) -> ApprovalPath:
    """Return the approval path for a request to share a resource.

    `owner_id` owns the resource, `consumer_id` requests it, `sharing` is the
    resource's sharing type and `level` its sensitivity level (1 to 4). The
    values usually come from ledger state, so they are checked here: raises
    `ValidationError` with reason `unknown-department`, `bad-sharing-type` or
    `bad-level` when one is invalid. A not-shared resource gives a refused path
    rather than an error.
    """
    if sharing not in SHARING_TYPES:
        raise ValidationError(
            f"sharing type {sharing!r} is not one of {', '.join(SHARING_TYPES)}",
            reason="bad-sharing-type",
        )
    if (
        isinstance(level, bool)
        or not isinstance(level, int)
        or not MIN_SENSITIVITY <= level <= MAX_SENSITIVITY
    ):
        raise ValidationError(
            f"sensitivity level {level!r} is not an integer from "
            f"{MIN_SENSITIVITY} to {MAX_SENSITIVITY}",
            reason="bad-level",
        )
    scope = consumer_scope(consortium, owner_id, consumer_id)

    if sharing == "not_shared":
        return ApprovalPath(
            rule=NOT_SHARED_RULE,
            steps=(),
            refused=True,
            reason="not-shared resources are never delivered",
            scope=scope,
        )
    if sharing == "unconditional":
        return ApprovalPath(
            rule=UNCONDITIONAL_RULE,
            steps=(),
            refused=False,
            reason="unconditional resources are granted without approval",
            scope=scope,
        )
    for rule in consortium.policy.rules:
        if rule.matches(sharing, level, scope):
            return ApprovalPath(
                rule=rule.name,
                steps=rule.steps,
                refused=False,
                reason=(
                    f"rule {rule.name!r} matches conditional sharing at level "
                    f"{level} with a {scope} consumer"
                ),
                scope=scope,
            )
    # The parser demands a final catch-all rule, so only a policy built in code
    # without one gets here.
    raise ConfigError(
        f"no policy rule matches conditional sharing at level {level} with a "
        f"{scope} consumer; end the rules with a catch-all rule"
    )
