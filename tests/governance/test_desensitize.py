"""Tests for the desensitization operators on synthetic Chinese personal data."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import random
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govchain.errors import ConfigError, ValidationError
from govchain.governance.desensitize import (
    GeneralizeAddress,
    GeneralizeAge,
    GeneralizeDate,
    GeneralizeNumber,
    GeneralizeRegion,
    Keep,
    Mask,
    MaskName,
    Operator,
    Pseudonymize,
    ScrubText,
    Suppress,
    derive_consumer_key,
    normalize_identifier,
    operator_from_dict,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "desensitize"
MASTER_KEY = bytes(range(32))

# GB 11643: weights of the first 17 digits, and the check character for the
# weighted sum modulo 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_MAP = "10X98765432"
SURNAMES = "王李张刘陈杨黄赵吴周"
COMPOUND = ("欧阳", "司马", "诸葛", "上官")
GIVEN_CHARS = "伟芳娜敏静强磊军洋勇艳杰涛明超霞平刚"
DISTRICTS = ("110101", "110105", "440106", "310115", "510104")


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_MAP[total % 11]


def people(count: int, seed: int = 7) -> pl.DataFrame:
    """Synthetic people: names, valid ID numbers and mobile numbers."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 60))
        first17 = f"{rng.choice(DISTRICTS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        surname = rng.choice(COMPOUND) if rng.random() < 0.2 else rng.choice(SURNAMES)
        given_name = "".join(rng.choices(GIVEN_CHARS, k=rng.choice((1, 2))))
        rows.append(
            {
                "姓名": surname + given_name,
                "身份证号": first17 + check_char(first17),
                "手机号": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                "出生日期": born.isoformat(),
            }
        )
    return pl.DataFrame(rows)


def test_check_char_known_value() -> None:
    # The example number printed in GB 11643-1999.
    assert check_char("11010519491231002") == "X"


def test_people_ids_valid() -> None:
    for number in people(50)["身份证号"]:
        assert check_char(number[:17]) == number[17]


# Mask


def test_mask_id_number_keeps_region_and_last_four() -> None:
    ids = pl.Series("身份证号", ["110101199001019992", "11010519491231002X"])
    masked = Mask.id_number().apply(ids)
    assert masked.to_list() == ["110101********9992", "110105********002X"]
    assert masked.name == "身份证号"


def test_mask_phone_keeps_three_and_four() -> None:
    masked = Mask.phone().apply(pl.Series(["13800138000"]))
    assert masked.to_list() == ["138****8000"]


def test_mask_phone_integer_column() -> None:
    masked = Mask.phone().apply(pl.Series([13800138000, None]))
    assert masked.to_list() == ["138****8000", None]


def test_mask_short_value_fully_masked() -> None:
    mask = Mask(keep_first=3, keep_last=4)
    values = pl.Series(["1380013", "13800138", "1", ""])
    assert mask.apply(values).to_list() == ["*******", "138*0138", "*", ""]


def test_mask_malformed_id_masked_like_valid() -> None:
    # A wrong check digit, a 15-digit legacy number, a truncated number and a
    # number with spaces: none is passed through.
    values = ["110101199001019990", "110101800101999", "1101011990", "110101 199"]
    masked = Mask.id_number().apply(pl.Series(values)).to_list()
    assert masked[0] == "110101********9990"
    assert masked[1] == "110101*****1999"
    assert masked[2] == "**********"
    assert masked[3] == "**********"


def test_mask_people_ids_hide_birth_date() -> None:
    frame = people(200)
    masked = Mask.id_number().apply(frame["身份证号"])
    for original, out in zip(frame["身份证号"], masked, strict=True):
        assert out[:6] == original[:6]
        assert out[-4:] == original[-4:]
        assert out[6:14] == "********"


def test_mask_other_mask_char() -> None:
    assert Mask(1, 1, "$").apply(pl.Series(["abcd"])).to_list() == ["a$$d"]


@given(
    text=st.text(min_size=1, max_size=30).filter(lambda s: set(s) != {"*"}),
    keep_first=st.integers(0, 8),
    keep_last=st.integers(0, 8),
)
def test_mask_never_passes_value_through(
    text: str, keep_first: int, keep_last: int
) -> None:
    out = Mask(keep_first, keep_last).apply(pl.Series([text])).item()
    assert out != text
    assert len(out) == len(text)


@pytest.mark.parametrize(
    "bad", [{"keep_first": -1}, {"keep_last": 1.5}, {"mask_char": "**"}]
)
def test_mask_rejects_bad_parameters(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="mask: "):
        Mask(**bad)  # type: ignore[arg-type]


# MaskName


def test_mask_name_keeps_surname() -> None:
    names = pl.Series(["张三", "张三丰", "欧阳修", "司马相如", "欧阳", "张", None])
    masked = MaskName().apply(names).to_list()
    assert masked == ["张*", "张**", "欧阳*", "司马**", "欧*", "*", None]


def test_mask_name_strips_spaces() -> None:
    assert MaskName().apply(pl.Series([" 李四 "])).to_list() == ["李*"]


def test_mask_name_people() -> None:
    names = people(200)["姓名"]
    for original, out in zip(names, MaskName().apply(names), strict=True):
        keep = 2 if original[:2] in COMPOUND and len(original) > 2 else 1
        assert out == original[:keep] + "*" * (len(original) - keep)
        assert out != original


# ScrubText


def test_scrub_text_masks_invalid_ids_in_remarks() -> None:
    remarks = pl.read_csv(FIXTURES / "remarks.csv")["备注"]
    scrubbed = ScrubText().apply(remarks)
    for original, out in zip(remarks, scrubbed, strict=True):
        assert "******" in out
        assert re.search(r"\d{6}", out) is None
        digits = re.findall(r"\d+", original)
        for run in digits:
            if len(run) >= 6:
                assert run not in out


def test_scrub_text_keeps_surrounding_text() -> None:
    out = ScrubText().apply(pl.Series(["本人身份证号110101199001019992，已核验。"]))
    assert out.item() == "本人身份证号******，已核验。"


@pytest.mark.parametrize(
    "text",
    [
        "电话13800138000",
        "电话+86 138 0013 8000",
        "电话138-0013-8000",
        "号码１１０１０１１９９００１０１９９９２",
        "号码11010519491231002x",
        "信用代码91350100M000100Y43",
        "信用代码91350100m000100y43",
        "少一位1380013800",
    ],
)
def test_scrub_text_masks_identifier_forms(text: str) -> None:
    out = ScrubText().apply(pl.Series([text])).item()
    assert "******" in out
    assert re.search(r"\d{4}", out) is None


def test_scrub_text_keeps_dates_and_amounts() -> None:
    text = "2024-01-01办理，金额12345元，编号ABC"
    assert ScrubText().apply(pl.Series([text])).item() == text


def test_scrub_text_two_ids_in_one_value() -> None:
    text = "110101199001019992,110105198503129981"
    assert ScrubText().apply(pl.Series([text])).item() == "******,******"


def test_scrub_text_rejects_digit_replacement() -> None:
    with pytest.raises(ValidationError, match="replacement"):
        ScrubText(replacement="000")


# Pseudonymize


def test_pseudonymize_stable_within_consumer() -> None:
    ids = people(100)["身份证号"]
    op = Pseudonymize().for_consumer(MASTER_KEY, "city-health")
    first = op.apply(ids)
    again = Pseudonymize().for_consumer(MASTER_KEY, "city-health").apply(ids)
    assert first.to_list() == again.to_list()
    assert first.n_unique() == ids.n_unique()
    assert all(token.startswith("ps_") and len(token) == 23 for token in first)


def test_pseudonymize_differs_between_consumers() -> None:
    ids = people(100)["身份证号"]
    health = Pseudonymize().for_consumer(MASTER_KEY, "city-health").apply(ids)
    police = Pseudonymize().for_consumer(MASTER_KEY, "city-police").apply(ids)
    assert set(health).isdisjoint(set(police))


def test_pseudonymize_differs_between_master_keys() -> None:
    ids = pl.Series(["110101199001019992"])
    one = Pseudonymize().for_consumer(MASTER_KEY, "city-health").apply(ids)
    two = Pseudonymize().for_consumer(bytes(32), "city-health").apply(ids)
    assert one.item() != two.item()


def test_pseudonymize_normalizes_identifier() -> None:
    forms = [
        "11010519491231002X",
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",
    ]
    op = Pseudonymize().for_consumer(MASTER_KEY, "city-health")
    tokens = op.apply(pl.Series(forms))
    assert tokens.n_unique() == 1


def test_pseudonymize_phone_hyphens() -> None:
    op = Pseudonymize().for_consumer(MASTER_KEY, "city-health")
    text = op.apply(pl.Series(["138-0013-8000", "13800138000"]))
    number = op.apply(pl.Series([13800138000]))
    assert text.n_unique() == 1
    assert text[0] == number[0]


def test_pseudonymize_null_and_empty_stay_null() -> None:
    op = Pseudonymize().for_consumer(MASTER_KEY, "city-health")
    assert op.apply(pl.Series([None, "", "  "], dtype=pl.String)).to_list() == [
        None,
        None,
        None,
    ]


def test_pseudonymize_hex_encoding() -> None:
    op = Pseudonymize(prefix="h-", length=32, encoding="hex")
    token = op.for_consumer(MASTER_KEY, "city-health").apply(pl.Series(["x1"]))
    assert re.fullmatch(r"h-[0-9a-f]{32}", token.item())


def test_pseudonymize_without_key_raises() -> None:
    with pytest.raises(ConfigError, match="no key is bound"):
        Pseudonymize().apply(pl.Series("身份证号", ["110101199001019992"]))


def test_pseudonymize_short_master_key_raises() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        Pseudonymize().for_consumer(b"secret", "city-health")


def test_pseudonymize_empty_consumer_raises() -> None:
    with pytest.raises(ValidationError, match="consumer department id is empty"):
        derive_consumer_key(MASTER_KEY, "")


def test_pseudonymize_key_not_in_repr_or_dict() -> None:
    op = Pseudonymize().for_consumer(MASTER_KEY, "city-health")
    assert op.key is not None
    assert op.key.hex() not in repr(op)
    assert "key" not in op.to_dict()
    assert op == Pseudonymize()


@pytest.mark.parametrize("bad", [{"length": 8}, {"length": 60}, {"encoding": "b64"}])
def test_pseudonymize_rejects_bad_parameters(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="pseudonymize: "):
        Pseudonymize(**bad)  # type: ignore[arg-type]


def _dictionary() -> list[str]:
    lines = (FIXTURES / "plain_hash_dictionary.tsv").read_text().splitlines()
    return [line.split("\t")[2] for line in lines[1:]]


def _plain_digests(value: str) -> list[str]:
    names = ["md5", "sha1", "sha256", "sha512", "sm3"]
    return [hashlib.new(name, value.encode()).hexdigest() for name in names]


def _forms_of(digest_hex: str) -> list[str]:
    raw = bytes.fromhex(digest_hex)
    return [
        digest_hex[:16],
        digest_hex[:16].upper(),
        base64.b64encode(raw).decode()[:16],
        base64.b32encode(raw).decode()[:16].lower(),
    ]


@pytest.mark.parametrize(
    "op",
    [Pseudonymize(), Pseudonymize(prefix="", length=64, encoding="hex")],
)
def test_pseudonymize_dictionary_attack_finds_nothing(op: Pseudonymize) -> None:
    ledger = pl.read_csv(FIXTURES / "ledger.csv", infer_schema=False)
    bound = op.for_consumer(MASTER_KEY, "city-health")
    tokens = [
        *bound.apply(ledger["身份证号"]),
        *bound.apply(ledger["身份证号"].str.to_lowercase()),
        *bound.apply(ledger["手机号"]),
    ]
    output = "\n".join(tokens)
    dictionary = _dictionary()
    assert len(dictionary) == 36
    for digest in dictionary:
        for form in _forms_of(digest):
            assert form not in output
    # The same with digests computed here, SHA-512 included.
    for value in [*ledger["身份证号"], *ledger["手机号"]]:
        for digest in _plain_digests(value):
            for form in _forms_of(digest):
                assert form not in output


def test_pseudonymize_dictionary_matches_fixture() -> None:
    # Guards the attack test above: the dictionary contains the plain digests of
    # the ledger values, so a plain hash would have been found.
    ledger = pl.read_csv(FIXTURES / "ledger.csv", infer_schema=False)
    dictionary = set(_dictionary())
    for value in [*ledger["身份证号"], *ledger["手机号"]]:
        assert hashlib.sha256(value.encode()).hexdigest() in dictionary


def test_pseudonymize_lowercase_x_same_token() -> None:
    ledger = pl.read_csv(FIXTURES / "ledger.csv", infer_schema=False)
    op = Pseudonymize().for_consumer(MASTER_KEY, "city-health")
    upper = op.apply(ledger["身份证号"])
    lower = op.apply(ledger["身份证号"].str.to_lowercase())
    assert upper.to_list() == lower.to_list()


def test_normalize_identifier_forms() -> None:
    values = pl.Series([" 11010519491231002x ", "138-0013-8000", "", None])
    assert normalize_identifier(values).to_list() == [
        "11010519491231002X",
        "13800138000",
        None,
        None,
    ]


# Generalization


def test_generalize_date_year_and_month() -> None:
    dates = pl.Series(["1990-01-02", "1990/1/2", "1990.01.02", "1990年1月2日"])
    assert GeneralizeDate().apply(dates).to_list() == ["1990"] * 4
    assert GeneralizeDate("month").apply(dates).to_list() == ["1990-01"] * 4


def test_generalize_date_compact_and_time() -> None:
    dates = pl.Series(["19900102", "1990-01-02 08:30:00", "1990-01-02T08:30"])
    assert GeneralizeDate("month").apply(dates).to_list() == ["1990-01"] * 3


def test_generalize_date_typed_column() -> None:
    dates = pl.Series([dt.date(1985, 3, 12), None])
    assert GeneralizeDate().apply(dates).to_list() == ["1985", None]
    stamps = pl.Series([dt.datetime(1985, 3, 12, 8, 0)])
    assert GeneralizeDate("month").apply(stamps).to_list() == ["1985-03"]


def test_generalize_date_unparsable_becomes_null() -> None:
    dates = pl.Series(["1990-02-30", "unknown", "1990-13-01", "90-1-2", "", None])
    assert GeneralizeDate().apply(dates).to_list() == [None] * 6


def test_generalize_date_people() -> None:
    frame = people(100)
    years = GeneralizeDate().apply(frame["出生日期"])
    assert years.to_list() == [d[:4] for d in frame["出生日期"]]


def test_generalize_age_bands() -> None:
    ages = pl.Series([0, 17, 18, 34.9, 35, 59, 60, 103, -1, None], strict=False)
    assert GeneralizeAge().apply(ages).to_list() == [
        "0-17",
        "0-17",
        "18-34",
        "18-34",
        "35-59",
        "35-59",
        "60+",
        "60+",
        None,
        None,
    ]


def test_generalize_age_text_and_custom_edges() -> None:
    ages = pl.Series(["17", " 40 ", "unknown", "nan", "inf"])
    assert GeneralizeAge(edges=(18, 60)).apply(ages).to_list() == [
        "0-17",
        "18-59",
        None,
        None,
        None,
    ]


def test_generalize_age_labels() -> None:
    assert GeneralizeAge(edges=(10, 20)).labels() == ["0-9", "10-19", "20+"]


@pytest.mark.parametrize("edges", [(), (0, 18), (35, 18), (18, 18)])
def test_generalize_age_rejects_bad_edges(edges: tuple[int, ...]) -> None:
    with pytest.raises(ValidationError, match="edges"):
        GeneralizeAge(edges=edges)


@pytest.mark.parametrize(
    ("address", "district"),
    [
        ("广东省广州市天河区天河路385号", "广东省广州市天河区"),
        ("北京市朝阳区建国路88号", "北京市朝阳区"),
        ("上海市浦东新区张江路1号", "上海市浦东新区"),
        ("重庆市云阳县双江街道", "重庆市云阳县"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放路", "新疆维吾尔自治区乌鲁木齐市天山区"),
        ("吉林省延边朝鲜族自治州延吉市河南街", "吉林省延边朝鲜族自治州延吉市"),
        ("内蒙古自治区呼和浩特市新城区", "内蒙古自治区呼和浩特市新城区"),
        ("海南省儋州市那大镇人民路1号", "海南省儋州市"),
        ("广东省东莞市南城街道", "广东省东莞市"),
        ("江苏省昆山市玉山镇某某小区", "江苏省昆山市"),
        ("广州市越秀区某某市场2楼", "广州市越秀区"),
        ("浙江省 杭州市 西湖区 文三路", "浙江省杭州市西湖区"),
        ("西湖区文三路", "西湖区"),
        ("江苏省镇江市京口区正东路1号", "江苏省镇江市京口区"),
        ("浙江省台州市路桥区路桥街道", "浙江省台州市路桥区"),
        ("山西省临汾市乡宁县昌宁镇", "山西省临汾市乡宁县"),
        ("云南省昭通市镇雄县乌峰街道", "云南省昭通市镇雄县"),
        (
            "甘肃省临夏回族自治州积石山保安族东乡族撒拉族自治县",
            "甘肃省临夏回族自治州积石山保安族东乡族撒拉族自治县",
        ),
    ],
)
def test_generalize_address_cuts_at_district(address: str, district: str) -> None:
    assert GeneralizeAddress().apply(pl.Series([address])).item() == district


def test_generalize_address_without_district_becomes_null() -> None:
    values = pl.Series(["天河路385号", "unknown", "", None])
    assert GeneralizeAddress().apply(values).to_list() == [None] * 4


def test_generalize_region_city_and_province() -> None:
    codes = pl.Series(["440106", "440106001", "440106001002", 510104], strict=False)
    assert GeneralizeRegion().apply(codes).to_list() == ["440100"] * 3 + ["510100"]
    assert GeneralizeRegion("province").apply(codes).to_list() == [
        "440000",
        "440000",
        "440000",
        "510000",
    ]


def test_generalize_region_malformed_becomes_null() -> None:
    codes = pl.Series(["4401", "44010A", "4401060", "", None])
    assert GeneralizeRegion().apply(codes).to_list() == [None] * 5


def test_generalize_number_ranges() -> None:
    values = pl.Series([23, 29.5, 30, -3, None, float("nan"), 1e300], strict=False)
    assert GeneralizeNumber().apply(values).to_list() == [
        "[20,30)",
        "[20,30)",
        "[30,40)",
        "[-10,0)",
        None,
        None,
        None,
    ]


def test_generalize_number_origin_and_text() -> None:
    values = pl.Series(["7", "not a number", " 1 "])
    out = GeneralizeNumber(width=5, origin=2).apply(values)
    assert out.to_list() == ["[7,12)", None, "[-3,2)"]


# Suppress and Keep


def test_suppress_keeps_name_and_type() -> None:
    out = Suppress().apply(pl.Series("年龄", [34, 35]))
    assert out.name == "年龄"
    assert out.dtype == pl.Int64
    assert out.to_list() == [None, None]


def test_keep_returns_same_values() -> None:
    values = pl.Series("从业类别", ["餐饮服务", None])
    assert Keep().apply(values).to_list() == ["餐饮服务", None]


# Serialized form

ALL_OPERATORS: list[Operator] = [
    Keep(),
    Mask(2, 3, "#"),
    MaskName("○"),
    ScrubText("[已脱敏]"),
    Pseudonymize(prefix="p", length=24, encoding="hex"),
    GeneralizeDate("month"),
    GeneralizeAge((18, 60)),
    GeneralizeAddress(),
    GeneralizeRegion("province"),
    GeneralizeNumber(100, 50),
    Suppress(),
]


@pytest.mark.parametrize("op", ALL_OPERATORS, ids=lambda op: op.kind)
def test_operator_dict_round_trip(op: Operator) -> None:
    form = op.to_dict()
    assert form["op"] == op.kind
    assert operator_from_dict(form) == op
    assert type(op).from_dict(form) == op


def test_operator_from_dict_unknown_op() -> None:
    with pytest.raises(ValidationError, match="operator 'sha256' is unknown"):
        operator_from_dict({"op": "sha256"})


def test_operator_from_dict_unexpected_key() -> None:
    form = {**Mask.phone().to_dict(), "salt": "x"}
    with pytest.raises(ValidationError, match=r"unexpected keys \['salt'\]"):
        operator_from_dict(form)


def test_operator_from_dict_missing_key() -> None:
    with pytest.raises(ValidationError, match=r"missing keys \['keep_last'\]"):
        operator_from_dict({"op": "mask", "keep_first": 1, "mask_char": "*"})


def test_pseudonymize_from_dict_rejects_other_mac() -> None:
    form = {**Pseudonymize().to_dict(), "mac": "sha256"}
    with pytest.raises(ValidationError, match="is not supported"):
        operator_from_dict(form)


def test_operator_nested_column_raises_without_values() -> None:
    column = pl.Series("身份证号", [["110101199001019992"]])
    with pytest.raises(ValidationError, match="has no text form") as info:
        Mask.id_number().apply(column)
    assert "110101199001019992" not in str(info.value)


@pytest.mark.parametrize(
    ("encoding", "length"),
    [("base32", 16), ("base32", 20), ("base32", 41), ("base32", 52), ("hex", 64)],
)
def test_pseudonymize_token_is_hmac_of_normalized(encoding: str, length: int) -> None:
    op = Pseudonymize(prefix="t", length=length, encoding=encoding)  # type: ignore[arg-type]
    bound = op.for_consumer(MASTER_KEY, "city-health")
    token = bound.apply(pl.Series([" 11010519491231002x"])).item()
    key = derive_consumer_key(MASTER_KEY, "city-health")
    digest = hmac.digest(key, b"11010519491231002X", "sha256")
    text = digest.hex() if encoding == "hex" else base64.b32encode(digest).decode()
    assert token == "t" + text.lower()[:length]


@pytest.mark.parametrize("length", [16, 20, 33, 51, 52])
@pytest.mark.parametrize("encoding", ["base32", "hex"])
def test_pseudonym_tokens_of_many_values(length: int, encoding: str) -> None:
    op = Pseudonymize(length=length, encoding=encoding)  # type: ignore[arg-type]
    values = [f"A{i:05d}" for i in range(50)]
    tokens = op.for_consumer(MASTER_KEY, "city-health").apply(pl.Series(values))
    key = derive_consumer_key(MASTER_KEY, "city-health")
    digests = [hmac.digest(key, v.encode(), "sha256") for v in values]
    text = [
        d.hex() if encoding == "hex" else base64.b32encode(d).decode() for d in digests
    ]
    assert tokens.to_list() == ["ps_" + t.lower()[:length] for t in text]
