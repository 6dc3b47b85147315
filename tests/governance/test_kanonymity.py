"""Tests for k-anonymity measurement and enforcement on small hand-checked tables."""

from __future__ import annotations

import json

import polars as pl
import pytest

from govchain.errors import ValidationError
from govchain.governance import (
    GeneralizeAge,
    GeneralizeDate,
    GeneralizeRegion,
    Operator,
    Suppress,
)
from govchain.governance.kanonymity import (
    EquivalenceClass,
    classes_below,
    enforce_k,
    measure_k,
)
from govchain.ledger.canonical import canonical_json

QI = ["年龄", "性别", "区划"]

# Classes on the raw values, by row number:
#   (34, 男, 510106): 0, 2     (36, 男, 510106): 1
#   (52, 女, 510104): 3        (55, 女, 510104): 4      (23, 女, 510105): 5
# so k = 1, with 5 classes, 4 of them below 2, and rows 1, 3, 4 and 5 at risk.
TABLE = pl.DataFrame(
    {
        "姓名": ["张*", "李*", "王*", "赵*", "钱*", "孙*"],
        "年龄": [34, 36, 34, 52, 55, 23],
        "性别": ["男", "男", "男", "女", "女", "女"],
        "区划": ["510106", "510106", "510106", "510104", "510104", "510105"],
    }
)

# Step 1 bands the ages: (18-34, 男): 0, 2; (35-59, 男): 1; (35-59, 女): 3, 4;
# (18-34, 女): 5, so k stays 1. Step 2 raises the districts to the city 510100,
# which merges nothing. Step 3 replaces the bands with 0-59 and 60+: every
# man is in one class (0, 1, 2) and every woman in another (3, 4, 5), so k = 3.
STEPS: list[dict[str, Operator]] = [
    {"年龄": GeneralizeAge((18, 35, 60))},
    {"区划": GeneralizeRegion("city")},
    {"年龄": GeneralizeAge((60,))},
]


def test_measure_k_hand_computed() -> None:
    report = measure_k(TABLE, QI, target_k=2)
    assert report.k == 1
    assert report.rows == 6
    assert report.classes == 5
    assert report.classes_below_target == 4
    assert report.rows_at_risk == (1, 3, 4, 5)
    assert not report.meets_target


def test_measure_k_target_three() -> None:
    report = measure_k(TABLE, QI, target_k=3)
    assert report.classes_below_target == 5
    assert report.rows_at_risk == (0, 1, 2, 3, 4, 5)


def test_measure_k_fewer_columns() -> None:
    report = measure_k(TABLE, ["性别"], target_k=3)
    assert report.k == 3
    assert report.classes == 2
    assert report.meets_target
    assert report.rows_at_risk == ()


def test_measure_k_target_one_always_met() -> None:
    assert measure_k(TABLE, QI, target_k=1).meets_target


def test_measure_k_nulls_form_one_class() -> None:
    table = pl.DataFrame({"区划": ["510106", None, None, "510106"]})
    report = measure_k(table, ["区划"], target_k=2)
    assert report.k == 2
    assert report.classes == 2
    assert report.meets_target


def test_measure_k_empty_table() -> None:
    report = measure_k(TABLE.clear(), QI, target_k=2)
    assert report.k == 0
    assert report.classes == 0
    assert report.meets_target


def test_measure_k_report_dict() -> None:
    form = measure_k(TABLE, QI, target_k=2).to_dict()
    assert form == {
        "quasi_identifiers": ["年龄", "性别", "区划"],
        "rows": 6,
        "classes": 5,
        "k": 1,
        "target_k": 2,
        "classes_below_target": 4,
        "rows_at_risk": [1, 3, 4, 5],
    }
    canonical_json(form)


def test_measure_k_report_has_no_values() -> None:
    text = json.dumps(measure_k(TABLE, QI, target_k=4).to_dict(), ensure_ascii=False)
    assert "510106" not in text
    assert "男" not in text


def test_measure_k_unknown_column_raises() -> None:
    with pytest.raises(ValidationError, match=r"quasi-identifiers \['籍贯'\]"):
        measure_k(TABLE, ["年龄", "籍贯"])


@pytest.mark.parametrize("target", [0, -1, 2.0, True])
def test_measure_k_bad_target_raises(target: object) -> None:
    with pytest.raises(ValidationError, match="target k must be an integer"):
        measure_k(TABLE, QI, target_k=target)  # type: ignore[arg-type]


@pytest.mark.parametrize("columns", [[], "年龄"])
def test_measure_k_bad_columns_raises(columns: object) -> None:
    with pytest.raises(ValidationError, match="at least one column"):
        measure_k(TABLE, columns)  # type: ignore[arg-type]


def test_classes_below_rows() -> None:
    assert classes_below(TABLE, QI, 2) == [
        EquivalenceClass(1, (1,)),
        EquivalenceClass(1, (3,)),
        EquivalenceClass(1, (4,)),
        EquivalenceClass(1, (5,)),
    ]


def test_classes_below_column_named_row() -> None:
    table = pl.DataFrame({"row": [1, 1, 2]})
    assert classes_below(table, ["row"], 2) == [EquivalenceClass(1, (2,))]


def test_enforce_k_already_met() -> None:
    result = enforce_k(TABLE, ["性别"], 3, STEPS)
    assert result.met
    assert result.steps_applied == 0
    assert result.frame is not None
    assert result.frame.equals(TABLE)
    assert result.operators == {}


def test_enforce_k_reaches_target() -> None:
    result = enforce_k(TABLE, QI, 2, STEPS)
    assert result.met
    assert result.steps_applied == 3
    assert result.report.k == 3
    assert result.reason is None
    assert result.frame is not None
    assert result.frame["年龄"].to_list() == ["0-59"] * 6
    assert result.frame["区划"].to_list() == ["510100"] * 6
    assert result.frame["姓名"].to_list() == TABLE["姓名"].to_list()


def test_enforce_k_stops_at_first_step_meeting() -> None:
    table = TABLE.with_columns(pl.lit("510106").alias("区划"))
    # With one district and no sex column, step 1 leaves two classes of three:
    # 18-34 (rows 0, 2, 5) and 35-59 (rows 1, 3, 4).
    result = enforce_k(table, ["年龄", "区划"], 2, STEPS)
    assert result.met
    assert result.steps_applied == 1
    assert result.report.k == 3
    assert result.frame is not None
    assert result.frame["年龄"].to_list() == [
        "18-34",
        "35-59",
        "18-34",
        "35-59",
        "35-59",
        "18-34",
    ]


def test_enforce_k_refuses_with_reason() -> None:
    result = enforce_k(TABLE, QI, 4, STEPS)
    assert not result.met
    assert result.frame is None
    assert result.steps_applied == 3
    assert result.report.k == 3
    assert result.classes_below == (
        EquivalenceClass(3, (0, 1, 2)),
        EquivalenceClass(3, (3, 4, 5)),
    )
    assert result.reason is not None
    assert "k is 3 after 3 generalization steps, below the target 4" in result.reason
    assert "covering rows 0, 1, 2, 3, 4, 5" in result.reason


def test_enforce_k_refusal_without_steps() -> None:
    result = enforce_k(TABLE, QI, 2, [])
    assert not result.met
    assert result.steps_applied == 0
    assert len(result.classes_below) == 4
    assert result.reason is not None
    assert "after 0 generalization steps" in result.reason


def test_enforce_k_refusal_dict_has_no_values() -> None:
    form = enforce_k(TABLE, QI, 4, STEPS).to_dict()
    canonical_json(form)
    assert form["met"] is False
    assert form["classes_below"] == [
        {"size": 3, "rows": [0, 1, 2]},
        {"size": 3, "rows": [3, 4, 5]},
    ]
    assert form["operators"] == {
        "年龄": {"op": "generalize_age", "edges": [60]},
        "区划": {"op": "generalize_region", "level": "city"},
    }
    text = json.dumps(form, ensure_ascii=False)
    for value in ("510106", "510100", "男", "0-59", "张*"):
        assert value not in text


def test_enforce_k_reason_cuts_long_row_list() -> None:
    table = pl.DataFrame({"出生日期": [f"19{year:02d}-01-01" for year in range(50)]})
    steps: list[dict[str, Operator]] = [{"出生日期": GeneralizeDate("year")}]
    result = enforce_k(table, ["出生日期"], 2, steps)
    assert not result.met
    assert result.reason is not None
    assert "covering rows 0, 1, 2" in result.reason
    assert result.reason.count(",") < 30
    assert "…" in result.reason


def test_enforce_k_suppression_step() -> None:
    steps: list[dict[str, Operator]] = [{"年龄": Suppress(), "区划": Suppress()}]
    result = enforce_k(TABLE, QI, 6, steps)
    assert not result.met
    assert result.classes_below == (
        EquivalenceClass(3, (0, 1, 2)),
        EquivalenceClass(3, (3, 4, 5)),
    )


def test_enforce_k_unknown_step_column_raises() -> None:
    with pytest.raises(ValidationError, match=r"step 2 names columns \['籍贯'\]"):
        enforce_k(TABLE, QI, 2, [STEPS[0], {"籍贯": Suppress()}])
