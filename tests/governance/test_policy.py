"""Tests for desensitization policies and `apply_policy`."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import polars as pl
import pytest

from govchain.errors import ConfigError, PolicyError, ValidationError
from govchain.governance import (
    DEFAULT_POLICY,
    FieldContext,
    GeneralizeAddress,
    GeneralizeAge,
    GeneralizeDate,
    Keep,
    Mask,
    MaskName,
    Policy,
    Pseudonymize,
    Rule,
    ScrubText,
    Suppress,
    apply_policy,
    plan_policy,
)

MASTER_KEY = bytes(range(100, 132))
# The digest of DEFAULT_POLICY. A change to the default policy changes it, and
# such a change needs a new policy version because deliveries record the digest.
DEFAULT_DIGEST = "a153256f8fa156eae25db52d061400ebd9dc22f9d80638eb325fdbc6906f980d"

# Synthetic people. The ID numbers carry valid GB 11643 check characters.
PEOPLE = pl.DataFrame(
    {
        "姓名": ["张三丰", "欧阳修", "李四", "王五"],
        "身份证号": [
            "110101199001019992",
            "11010519491231002X",
            "110105198503129981",
            "11010119900101995X",
        ],
        "手机号": ["13800138000", "13900139000", "13800138001", "13800138002"],
        "出生日期": ["1990-01-01", "1949-12-31", "1985-03-12", "1990-01-01"],
        "年龄": [36, 76, 41, 36],
        "住址": [
            "广东省广州市天河区天河路385号",
            "北京市朝阳区建国路88号",
            "北京市东城区东华门街道1号",
            "北京市东城区王府井大街2号",
        ],
        "备注": ["身份证110101199001019992", None, "电话13800138001", "无"],
        "体检结论": ["合格", "合格", "不合格", "合格"],
    }
)
PERSONAL_VALUES = [
    *PEOPLE["姓名"],
    *PEOPLE["身份证号"],
    *PEOPLE["手机号"],
    *PEOPLE["住址"],
]


def levels(level: int) -> dict[str, int]:
    return dict.fromkeys(PEOPLE.columns, level)


def deliver(level: int, consumer: str = "city-health", **options) -> pl.DataFrame:
    return apply_policy(
        PEOPLE,
        DEFAULT_POLICY,
        field_levels=options.pop("field_levels", levels(level)),
        consumer=consumer,
        master_key=options.pop("master_key", MASTER_KEY),
        allowed=options.pop("allowed", set()),
        **options,
    )


def cells(frame: pl.DataFrame) -> str:
    return "\n".join(str(value) for row in frame.rows() for value in row)


# Default policy by level


def test_default_level1_passes_through() -> None:
    assert deliver(1).equals(PEOPLE)


def test_default_level2_masks_partially() -> None:
    out = deliver(2)
    assert out["姓名"].to_list() == ["张**", "欧阳*", "李*", "王*"]
    assert out["身份证号"][1] == "110105********002X"
    assert out["手机号"][0] == "138****8000"
    assert out["出生日期"][0] == "1990-01"
    assert out["年龄"].to_list() == ["35-59", "60+", "35-59", "35-59"]
    assert out["住址"][0] == "广东省广州市天河区"
    assert out["备注"].to_list() == ["身份证******", None, "电话******", "无"]
    assert out["体检结论"].to_list() == ["**", "**", "不*格", "**"]


def test_default_level2_hides_personal_values() -> None:
    text = cells(deliver(2))
    for value in PERSONAL_VALUES:
        assert value not in text


def test_default_level3_pseudonymizes_identifiers() -> None:
    out = deliver(3)
    for column in ("姓名", "身份证号", "手机号", "体检结论"):
        assert all(value.startswith("ps_") for value in out[column])
    assert out["出生日期"].to_list() == ["1990", "1949", "1985", "1990"]
    assert out["年龄"].to_list() == ["18-59", "60+", "18-59", "18-59"]
    assert out["住址"][1] == "北京市朝阳区"
    assert out["备注"].to_list() == [None] * 4


def test_default_level3_hides_personal_values() -> None:
    text = cells(deliver(3))
    for value in PERSONAL_VALUES:
        assert value not in text


def test_default_level4_suppresses() -> None:
    out = deliver(4)
    assert out.columns == PEOPLE.columns
    assert out.dtypes == PEOPLE.dtypes
    for column in out.columns:
        assert out[column].null_count() == len(out)


def test_default_level4_allowed_pseudonymized() -> None:
    out = deliver(4, allowed={"身份证号", "出生日期"})
    assert all(value.startswith("ps_") for value in out["身份证号"])
    assert all(value.startswith("ps_") for value in out["出生日期"])
    assert out["姓名"].null_count() == 4


def test_default_allowed_ignored_below_level4() -> None:
    assert deliver(2, allowed={"身份证号"})["身份证号"][0] == "110101********9992"


def test_default_mixed_levels() -> None:
    field_levels = {**levels(1), "姓名": 2, "身份证号": 3, "手机号": 4}
    out = deliver(0, field_levels=field_levels)
    assert out["姓名"][0] == "张**"
    assert out["身份证号"][0].startswith("ps_")
    assert out["手机号"][0] is None
    assert out["住址"][0] == PEOPLE["住址"][0]


def test_default_kinds_by_field_name() -> None:
    assert DEFAULT_POLICY.kind_of("身份证号") == "id_number"
    assert DEFAULT_POLICY.kind_of("公民身份号码") == "id_number"
    assert DEFAULT_POLICY.kind_of("联系电话") == "phone"
    assert DEFAULT_POLICY.kind_of("家庭住址") == "address"
    assert DEFAULT_POLICY.kind_of("体检结论") == "other"


def test_apply_policy_field_kinds_override() -> None:
    frame = PEOPLE.rename({"身份证号": "证件"})
    field_levels = {**levels(2), "证件": 2}
    out = apply_policy(
        frame,
        DEFAULT_POLICY,
        field_levels=field_levels,
        consumer="city-health",
        master_key=MASTER_KEY,
        allowed=set(),
        field_kinds={"证件": "id_number"},
    )
    assert out["证件"][0] == "110101********9992"


# Pseudonyms per consumer


def test_apply_policy_consumers_get_different_tokens() -> None:
    health = deliver(3, consumer="city-health")
    police = deliver(3, consumer="city-police")
    assert set(health["身份证号"]).isdisjoint(set(police["身份证号"]))


def test_apply_policy_same_consumer_stable() -> None:
    first = deliver(3)["身份证号"]
    second = deliver(3)["身份证号"]
    assert first.to_list() == second.to_list()


def test_apply_policy_missing_master_key_raises() -> None:
    with pytest.raises(ConfigError, match="master key is 0 bytes"):
        deliver(3, master_key=b"")


def test_apply_policy_no_key_needed_without_pseudonyms() -> None:
    assert deliver(2, master_key=b"")["手机号"][0] == "138****8000"


# Checks on the input


def test_apply_policy_ungraded_field_raises() -> None:
    field_levels = levels(2)
    del field_levels["备注"]
    with pytest.raises(ValidationError, match=r"fields \['备注'\] have no sensitivity"):
        deliver(2, field_levels=field_levels)


@pytest.mark.parametrize("level", [0, 5, "2", True])
def test_apply_policy_bad_level_raises(level: object) -> None:
    field_levels: dict[str, object] = {**levels(2), "手机号": level}
    with pytest.raises(ValidationError, match="not integers from 1 to 4") as info:
        deliver(2, field_levels=field_levels)
    assert "13800138000" not in str(info.value)


def test_apply_policy_not_shared_raises() -> None:
    with pytest.raises(PolicyError, match="never delivered"):
        deliver(2, sharing="not_shared")


def test_apply_policy_unknown_sharing_raises() -> None:
    with pytest.raises(ValidationError, match="sharing type 'open' is unknown"):
        deliver(2, sharing="open")


def test_apply_policy_unknown_kind_raises() -> None:
    with pytest.raises(ValidationError, match="field kinds"):
        deliver(2, field_kinds={"备注": "secret"})


def test_apply_policy_warns_on_pass_through(caplog: pytest.LogCaptureFixture) -> None:
    policy = Policy(name="open-data", version=1, rules=(Rule(Keep()),))
    with caplog.at_level(logging.WARNING, logger="govchain.governance.policy"):
        apply_policy(
            PEOPLE,
            policy,
            field_levels=levels(3),
            consumer="city-health",
            master_key=MASTER_KEY,
            allowed=set(),
        )
    assert len(caplog.records) == len(PEOPLE.columns)
    assert "passes field '姓名' at sensitivity level 3" in caplog.records[0].message
    for value in PERSONAL_VALUES:
        assert value not in caplog.text


# Custom rules


def test_rule_matches_purpose_and_consumer() -> None:
    policy = Policy(
        name="outbreak",
        version=2,
        rules=(
            Rule(GeneralizeDate("month"), purposes=("epidemic-tracing",)),
            Rule(MaskName(), consumers=("city-cdc",)),
            Rule(Suppress()),
        ),
    )
    context = FieldContext(
        field="出生日期",
        level=3,
        kind="birth_date",
        sharing="conditional",
        consumer="city-health",
        purpose="epidemic-tracing",
    )
    assert policy.operator_for(context) == GeneralizeDate("month")
    other = FieldContext(
        field="姓名",
        level=3,
        kind="name",
        sharing="conditional",
        consumer="city-cdc",
        purpose="audit",
    )
    assert policy.operator_for(other) == MaskName()


def test_rule_matches_sharing_field_and_allowed() -> None:
    rule = Rule(
        Keep(),
        sharing=("unconditional",),
        fields=("住址",),
        allowed=False,
    )
    context = FieldContext(
        field="住址",
        level=2,
        kind="address",
        sharing="unconditional",
        consumer="city-health",
    )
    assert rule.matches(context)
    assert not rule.matches(FieldContext(**{**context.__dict__, "allowed": True}))
    assert not rule.matches(
        FieldContext(**{**context.__dict__, "sharing": "conditional"})
    )
    assert not rule.matches(FieldContext(**{**context.__dict__, "field": "地址"}))


def test_plan_policy_records_operators() -> None:
    plan = plan_policy(
        DEFAULT_POLICY,
        ["姓名", "身份证号", "住址"],
        field_levels={"姓名": 2, "身份证号": 4, "住址": 3},
        consumer="city-health",
        allowed={"身份证号"},
    )
    assert list(plan) == ["姓名", "身份证号", "住址"]
    assert plan["姓名"] == MaskName()
    assert plan["身份证号"] == Pseudonymize()
    assert plan["住址"] == GeneralizeAddress()
    assert plan["身份证号"].to_dict()["mac"] == "hmac-sha256"


# Canonical form and digest


def test_policy_digest_pinned() -> None:
    assert DEFAULT_POLICY.digest == DEFAULT_DIGEST


def test_policy_digest_stable_across_processes() -> None:
    code = (
        "from govchain.governance import DEFAULT_POLICY; print(DEFAULT_POLICY.digest)"
    )
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == DEFAULT_DIGEST


def test_policy_round_trip() -> None:
    data = json.loads(DEFAULT_POLICY.canonical_bytes())
    rebuilt = Policy.from_dict(data)
    assert rebuilt == DEFAULT_POLICY
    assert rebuilt.digest == DEFAULT_POLICY.digest


def test_policy_digest_changes_with_version() -> None:
    data = DEFAULT_POLICY.to_dict()
    data["version"] = 2
    assert Policy.from_dict(data).digest != DEFAULT_DIGEST


def test_policy_digest_changes_with_operator() -> None:
    one = Policy("p", 1, (Rule(Mask(1, 1), levels=(2,)), Rule(Suppress())))
    two = Policy("p", 1, (Rule(Mask(1, 2), levels=(2,)), Rule(Suppress())))
    assert one.digest != two.digest


def test_rule_value_order_does_not_change_digest() -> None:
    one = Policy(
        "p", 1, (Rule(Keep(), levels=(1, 2), kinds=("age", "name")), Rule(Suppress()))
    )
    two = Policy(
        "p",
        1,
        (Rule(Keep(), levels=(2, 1, 2), kinds=("name", "age")), Rule(Suppress())),
    )
    assert one.digest == two.digest


def test_policy_kinds_cannot_change() -> None:
    kinds = {"证件": "id_number"}
    policy = Policy("p", 1, (Rule(Suppress()),), kinds=kinds)  # type: ignore[arg-type]
    kinds["证件"] = "other"
    assert policy.kind_of("证件") == "id_number"
    with pytest.raises(TypeError):
        policy.kinds["证件"] = "other"  # type: ignore[index]


def test_policy_canonical_bytes_sorted() -> None:
    text = DEFAULT_POLICY.canonical_bytes().decode()
    assert text.startswith('{"kinds":')
    assert " " not in text


# Malformed policies


def test_policy_without_catch_all_raises() -> None:
    with pytest.raises(ValidationError, match="last rule must match every field"):
        Policy("p", 1, (Rule(Keep(), levels=(1,)),))


@pytest.mark.parametrize("version", [0, "1", 1.0])
def test_policy_bad_version_raises(version: object) -> None:
    with pytest.raises(ValidationError, match="version must be an integer"):
        Policy("p", version, (Rule(Suppress()),))  # type: ignore[arg-type]


def test_policy_unknown_kind_raises() -> None:
    with pytest.raises(ValidationError, match="has kind 'secret'"):
        Policy("p", 1, (Rule(Suppress()),), kinds={"x": "secret"})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"levels": (5,)}, "levels contains 5"),
        ({"levels": (True,)}, "levels contains True"),
        ({"kinds": ("secret",)}, "kinds contains 'secret'"),
        ({"sharing": ("open",)}, "sharing contains 'open'"),
        ({"fields": ("",)}, "fields contains ''"),
        ({"levels": ()}, "non-empty list"),
        ({"purposes": "tracing"}, "non-empty list"),
    ],
)
def test_rule_bad_condition_raises(condition: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Rule(Keep(), **condition)  # type: ignore[arg-type]


def test_policy_from_dict_unknown_operator() -> None:
    data = DEFAULT_POLICY.to_dict()
    data["rules"][0]["operator"] = {"op": "sha256"}
    with pytest.raises(ValidationError, match="operator 'sha256' is unknown"):
        Policy.from_dict(data)


def test_policy_from_dict_missing_key() -> None:
    data = DEFAULT_POLICY.to_dict()
    del data["kinds"]
    with pytest.raises(ValidationError, match="policy: form has keys"):
        Policy.from_dict(data)


def test_rule_from_dict_bad_condition_type() -> None:
    form = Rule(Keep()).to_dict()
    form["levels"] = 2
    with pytest.raises(ValidationError, match="levels must be a list or null"):
        Rule.from_dict(form)


def test_default_policy_operators_present() -> None:
    ops = {type(rule.operator) for rule in DEFAULT_POLICY.rules}
    assert {Keep, Mask, MaskName, ScrubText, Pseudonymize, Suppress} <= ops
    assert {GeneralizeDate, GeneralizeAge, GeneralizeAddress} <= ops


def test_package_exports_public_names() -> None:
    import govchain.governance as governance

    public = {
        name
        for name, value in vars(governance).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("govchain.governance.")
    }
    assert public <= set(governance.__all__)
    for name in governance.__all__:
        assert hasattr(governance, name)
