"""The consortium as frozen dataclasses: regions, departments, policy, node.

`config.py` builds these from a consortium file and checks them. Code that gets a
`Consortium` from there can rely on every cross-reference resolving: each
department's region is declared, the operator is a department, region parents form
no cycle and the policy ends with a catch-all rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Literal, get_args

from govchain._types import DeptId
from govchain.errors import ConfigError, ValidationError

#: Position of a department in the administrative hierarchy.
Level = Literal["province", "city", "county"]
#: Sharing type of a data resource: shared without approval, after approval, or never.
SharingType = Literal["unconditional", "conditional", "not_shared"]
#: Position of a consumer department relative to the owner of a resource.
Scope = Literal[
    "same-department", "same-line", "same-level", "cross-level", "cross-region"
]
#: Approver of one step of a sharing request: the resource owner or the operator.
Approver = Literal["owner", "operator"]

LEVELS: tuple[Level, ...] = get_args(Level)
SHARING_TYPES: tuple[SharingType, ...] = get_args(SharingType)
SCOPES: tuple[Scope, ...] = get_args(Scope)
APPROVERS: tuple[Approver, ...] = get_args(Approver)

#: Sensitivity levels run from 1 (public) to 4 (most sensitive).
MIN_SENSITIVITY = 1
MAX_SENSITIVITY = 4


@dataclass(frozen=True)
class Region:
    """An administrative region, usually identified by its GB/T 2260 code."""

    code: str
    name: str
    parent: str | None = None


@dataclass(frozen=True)
class Department:
    """A member of the consortium: one government department."""

    id: DeptId
    name: str
    region: str
    level: Level
    line: str


@dataclass(frozen=True)
class ApprovalStep:
    """One approval a conditional sharing request needs, with its time limit."""

    approver: Approver
    working_days: int


@dataclass(frozen=True)
class PolicyRule:
    """A rule that picks the approval steps for the requests it matches.

    `min_level` of None matches every sensitivity level, and `scope` of None
    matches every consumer position.
    """

    name: str
    sharing: tuple[SharingType, ...]
    steps: tuple[ApprovalStep, ...]
    min_level: int | None = None
    scope: tuple[Scope, ...] | None = None

    def matches(self, sharing: SharingType, level: int, scope: Scope) -> bool:
        """Return whether a request with these properties falls under the rule."""
        if sharing not in self.sharing:
            return False
        if self.min_level is not None and level < self.min_level:
            return False
        return self.scope is None or scope in self.scope

    @property
    def is_catch_all(self) -> bool:
        """Whether the rule matches every conditional request."""
        return (
            "conditional" in self.sharing
            and (self.min_level is None or self.min_level <= MIN_SENSITIVITY)
            and (self.scope is None or set(self.scope) == set(SCOPES))
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "sharing": list(self.sharing)}
        if self.min_level is not None:
            data["min_level"] = self.min_level
        if self.scope is not None:
            data["scope"] = list(self.scope)
        data["steps"] = [
            {"approver": step.approver, "working_days": step.working_days}
            for step in self.steps
        ]
        return data


@dataclass(frozen=True)
class Policy:
    """The sharing rules and the working calendar their deadlines are counted in.

    `working_week` lists ISO weekdays (1 is Monday). A date in `holidays` is never a
    working day, and a date in `extra_working_days` always is; the parser rejects a
    date listed in both. `utc_offset_minutes` places calendar days in time.
    """

    rules: tuple[PolicyRule, ...]
    working_week: tuple[int, ...] = (1, 2, 3, 4, 5)
    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    utc_offset_minutes: int = 8 * 60

    @property
    def utc_offset(self) -> str:
        """The UTC offset in the file's `+HH:MM` form."""
        sign = "-" if self.utc_offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(self.utc_offset_minutes), 60)
        return f"{sign}{hours:02d}:{minutes:02d}"

    def is_working_day(self, day: date) -> bool:
        """Return whether `day` is a working day under this calendar."""
        if day in self.extra_working_days:
            return True
        return day.isoweekday() in self.working_week and day not in self.holidays

    def to_dict(self) -> dict[str, Any]:
        return {
            "working_week": list(self.working_week),
            "holidays": [day.isoformat() for day in sorted(self.holidays)],
            "extra_working_days": [
                day.isoformat() for day in sorted(self.extra_working_days)
            ],
            "utc_offset": self.utc_offset,
            "rules": [rule.to_dict() for rule in self.rules],
        }


@dataclass(frozen=True)
class NodeConfig:
    """Settings of one node: the departments whose signing keys it holds."""

    hosts: tuple[DeptId, ...]


@dataclass(frozen=True)
class Consortium:
    """The members of a consortium and the rules they share data under.

    `node` describes the machine that read the file, and its `hosts` is empty when
    the file has no [node] table. Each node has its own, so `node` is left out of
    `to_dict()` and out of equality: two nodes of one consortium have equal
    `Consortium` values.

    `invalid_departments` maps the id of each department whose ledger record
    breaks a rule of the consortium file to the problem found. Only
    `Consortium.from_ledger` fills it, and `department` rejects those ids.
    """

    name: str
    origin: str
    operator: DeptId
    regions: tuple[Region, ...]
    departments: tuple[Department, ...]
    policy: Policy
    block_interval_ms: int = 200
    witness_threshold: int = 1
    node: NodeConfig = field(default=NodeConfig(hosts=()), compare=False)
    invalid_departments: Mapping[str, str] = field(default_factory=dict, compare=False)

    @cached_property
    def _departments_by_id(self) -> dict[str, Department]:
        return {department.id: department for department in self.departments}

    @cached_property
    def _regions_by_code(self) -> dict[str, Region]:
        return {region.code: region for region in self.regions}

    def has_department(self, dept_id: str) -> bool:
        """Return whether `dept_id` names a member department."""
        return dept_id in self._departments_by_id

    def department(self, dept_id: str) -> Department:
        """Return the member department `dept_id`.

        Raises `ValidationError` with reason `unknown-department` when there is none,
        and with reason `invalid-department` when its ledger record breaks a rule.
        """
        problem = self.invalid_departments.get(dept_id)
        if problem is not None:
            raise ValidationError(
                f"{problem}; transactions that involve department {dept_id!r} are "
                "rejected until the operator admits it again with valid fields",
                reason="invalid-department",
            )
        try:
            return self._departments_by_id[dept_id]
        except KeyError:
            raise ValidationError(
                f"department {dept_id!r} is not a member of consortium "
                f"{self.origin}; use an id declared under [[departments]]",
                reason="unknown-department",
            ) from None

    def region(self, code: str) -> Region:
        """Return the declared region `code`.

        Raises `ValidationError` with reason `unknown-region` when there is none.
        """
        try:
            return self._regions_by_code[code]
        except KeyError:
            raise ValidationError(
                f"region {code!r} is not declared in consortium {self.origin}; "
                "use a code declared under [[regions]]",
                reason="unknown-region",
            ) from None

    def region_ancestors(self, code: str) -> tuple[str, ...]:
        """Return the codes of the parents of region `code`, nearest first."""
        ancestors: list[str] = []
        parent = self.region(code).parent
        while parent is not None:
            ancestors.append(parent)
            parent = self.region(parent).parent
        return tuple(ancestors)

    def to_dict(self) -> dict[str, Any]:
        """Return the consortium as JSON values in the layout of the file.

        The result contains only strings, integers, lists and dicts, with every default
        written out, so it can be carried in the genesis transaction. `node` is left
        out. `Consortium.from_dict` rebuilds an equal value.
        """
        header = {
            "name": self.name,
            "origin": self.origin,
            "operator": self.operator,
            "block_interval_ms": self.block_interval_ms,
            "witness_threshold": self.witness_threshold,
        }
        regions = []
        for region in self.regions:
            entry = {"code": region.code, "name": region.name}
            if region.parent is not None:
                entry["parent"] = region.parent
            regions.append(entry)
        departments = [
            {
                "id": department.id,
                "name": department.name,
                "region": department.region,
                "level": department.level,
                "line": department.line,
            }
            for department in self.departments
        ]
        return {
            "consortium": header,
            "regions": regions,
            "departments": departments,
            "policy": self.policy.to_dict(),
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "consortium record"
    ) -> Consortium:
        """Build a consortium from the output of `to_dict`, checking it in full.

        `source` names the data in error messages. Raises `ConfigError` listing
        every problem found.
        """
        # Imported here because the parser imports this module.
        from govchain.consortium.config import build_consortium

        return build_consortium(data, source=source)

    @classmethod
    def from_ledger(cls, data: Mapping[str, Any]) -> Consortium:
        """Build the consortium recorded in ledger state, as the handlers read it.

        `data` has the layout of `to_dict`, with the departments' current records.
        A department whose record breaks a rule is left out of `departments` and
        listed in `invalid_departments`, so only transactions that involve it
        fail. Raises `ValidationError` with reason `invalid-consortium` when the
        rest breaks a rule: the ledger rejects a transaction whose handler raises
        `ValidationError`, but any other error stops the whole block.
        """
        # NOTE: the sharing.request handler (govchain.sharing._handlers) still reads
        # state with `from_dict`, which raises ConfigError on a bad record.
        from govchain.consortium.config import build_consortium

        try:
            return build_consortium(
                data, source="ledger state", set_aside_departments=True
            )
        except ConfigError as exc:
            raise ValidationError(
                f"the consortium recorded on the ledger is invalid: {exc}",
                reason="invalid-consortium",
            ) from exc
