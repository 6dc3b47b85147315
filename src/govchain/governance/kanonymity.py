"""Re-identification risk of a delivery, measured as k-anonymity.

Rows that agree on every quasi-identifier (age band, sex, district, ...) form
an equivalence class. A table is k-anonymous when every class has at least k
rows, so each row shares its quasi-identifiers with at least k - 1 others.
`measure_k` reports the smallest class and the rows in classes below a target.
`enforce_k` applies generalization steps until the target is met, or returns a
refusal that names the classes still below it.

Null is treated as one more value: rows whose quasi-identifier was suppressed
form a class together. Row numbers are 0-based positions in the DataFrame.
Reports carry sizes and row numbers, never the quasi-identifier values.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from govchain.errors import ValidationError
from govchain.governance.desensitize import Operator

logger = logging.getLogger(__name__)

#: Row numbers listed in a refusal reason before it is cut with "…".
_REASON_ROWS = 20


@dataclass(frozen=True)
class EquivalenceClass:
    """A class of rows that agree on every quasi-identifier, by row number."""

    size: int
    rows: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "rows": list(self.rows)}


@dataclass(frozen=True)
class KAnonymityReport:
    """The k-anonymity of a table for some quasi-identifiers.

    `k` is the size of the smallest class (0 for an empty table), and
    `rows_at_risk` lists the rows in classes smaller than `target_k`.
    """

    quasi_identifiers: tuple[str, ...]
    rows: int
    classes: int
    k: int
    target_k: int
    classes_below_target: int
    rows_at_risk: tuple[int, ...]

    @property
    def meets_target(self) -> bool:
        """Whether no class is smaller than `target_k`."""
        return self.classes_below_target == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "quasi_identifiers": list(self.quasi_identifiers),
            "rows": self.rows,
            "classes": self.classes,
            "k": self.k,
            "target_k": self.target_k,
            "classes_below_target": self.classes_below_target,
            "rows_at_risk": list(self.rows_at_risk),
        }


def _check_arguments(
    df: pl.DataFrame, quasi_identifiers: Sequence[str], k: int
) -> None:
    if isinstance(quasi_identifiers, str) or not quasi_identifiers:
        raise ValidationError(
            "quasi_identifiers must name at least one column, as a list",
            reason="bad-quasi-identifiers",
        )
    missing = [name for name in quasi_identifiers if name not in df.columns]
    if missing:
        raise ValidationError(
            f"quasi-identifiers {missing} are not columns of the table; "
            f"the columns are {df.columns}",
            reason="bad-quasi-identifiers",
        )
    if type(k) is not int or k < 1:
        raise ValidationError(
            f"target k must be an integer of at least 1, got {k!r}",
            reason="bad-k",
        )


def measure_k(
    df: pl.DataFrame, quasi_identifiers: Sequence[str], *, target_k: int = 2
) -> KAnonymityReport:
    """Measure the k-anonymity of `df` over `quasi_identifiers`.

    Raises `ValidationError` when a quasi-identifier is not a column or
    `target_k` is not a positive integer.
    """
    _check_arguments(df, quasi_identifiers, target_k)
    columns = list(quasi_identifiers)
    if df.height == 0:
        return KAnonymityReport(tuple(columns), 0, 0, 0, target_k, 0, ())
    sizes = df.select(pl.len().over(columns)).to_series()
    small = sizes < target_k
    return KAnonymityReport(
        quasi_identifiers=tuple(columns),
        rows=df.height,
        classes=df.select(columns).n_unique(),
        k=int(sizes.to_frame().min().item()),
        target_k=target_k,
        classes_below_target=df.select(columns).filter(small).n_unique(),
        rows_at_risk=tuple(small.arg_true().to_list()),
    )


def classes_below(
    df: pl.DataFrame, quasi_identifiers: Sequence[str], k: int
) -> list[EquivalenceClass]:
    """Return the classes of `df` with fewer than `k` rows, in first-row order."""
    _check_arguments(df, quasi_identifiers, k)
    columns = list(quasi_identifiers)
    index = "row"
    while index in columns:
        index += "_"
    grouped = (
        df.select(columns)
        .with_row_index(index)
        .group_by(columns, maintain_order=True)
        .agg(pl.col(index))
        .filter(pl.col(index).list.len() < k)
    )
    return [
        EquivalenceClass(size=len(rows), rows=tuple(rows))
        for rows in grouped.get_column(index).to_list()
    ]


@dataclass(frozen=True)
class KEnforcement:
    """The result of `enforce_k`: a generalized table, or a refusal.

    When `met` is true, `frame` is the table to deliver and `steps_applied`
    counts the generalization steps it took (0 when the input already met
    the target). When `met` is false, `frame` is None, `reason` explains the
    refusal and `classes_below` lists the classes still below the target
    after every step. `operators` is the generalization applied to each
    column in the last table measured.
    """

    met: bool
    frame: pl.DataFrame | None
    steps_applied: int
    report: KAnonymityReport
    operators: Mapping[str, Operator]
    classes_below: tuple[EquivalenceClass, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the record of this result for a delivery, without the table."""
        return {
            "met": self.met,
            "steps_applied": self.steps_applied,
            "report": self.report.to_dict(),
            "operators": {name: op.to_dict() for name, op in self.operators.items()},
            "classes_below": [item.to_dict() for item in self.classes_below],
            "reason": self.reason,
        }


def enforce_k(
    df: pl.DataFrame,
    quasi_identifiers: Sequence[str],
    k: int,
    generalizers: Sequence[Mapping[str, Operator]],
) -> KEnforcement:
    """Generalize `df` step by step until it is k-anonymous, or refuse.

    Each step maps columns to operators, and steps are cumulative. Step n
    applies to each original column the operator from the latest of steps 1
    to n that names it. So a later step can replace a finer generalization of
    a column (birth month) with a coarser one (birth year). The input is
    measured first and each step after it. The first table that meets `k` is
    returned. Raises `ValidationError` for bad arguments or a step naming a
    column that is not in `df`.
    """
    _check_arguments(df, quasi_identifiers, k)
    for number, step in enumerate(generalizers, start=1):
        unknown = [name for name in step if name not in df.columns]
        if unknown:
            raise ValidationError(
                f"generalization step {number} names columns {unknown} that are "
                "not in the table",
                reason="bad-generalizer",
            )

    operators: dict[str, Operator] = {}
    frame = df
    report = measure_k(frame, quasi_identifiers, target_k=k)
    steps = 0
    while not report.meets_target and steps < len(generalizers):
        operators.update(generalizers[steps])
        steps += 1
        frame = df.with_columns(
            [op.apply(df.get_column(name)) for name, op in operators.items()]
        )
        report = measure_k(frame, quasi_identifiers, target_k=k)
        logger.debug("k-anonymity step %d: k=%d, target %d", steps, report.k, k)

    if report.meets_target:
        return KEnforcement(True, frame, steps, report, dict(operators))
    small = classes_below(frame, quasi_identifiers, k)
    return KEnforcement(
        met=False,
        frame=None,
        steps_applied=steps,
        report=report,
        operators=dict(operators),
        classes_below=tuple(small),
        reason=_refusal_reason(report, small, steps),
    )


def _refusal_reason(
    report: KAnonymityReport, small: list[EquivalenceClass], steps: int
) -> str:
    rows = report.rows_at_risk
    listed = ", ".join(str(row) for row in rows[:_REASON_ROWS])
    if len(rows) > _REASON_ROWS:
        listed += ", …"
    sizes = sorted({item.size for item in small})
    return (
        f"k is {report.k} after {steps} generalization steps, below the target "
        f"{report.target_k}: {len(small)} classes of sizes {sizes} remain, "
        f"covering rows {listed}; add a coarser generalization step or leave "
        "these rows out"
    )
