"""Desensitization operators: masking, keyed pseudonyms, generalization, suppression.

Every operator is a small frozen dataclass with `apply(series) -> series`, which
works column-wise with Polars expressions, and `to_dict()` / `from_dict()`, which
give the JSON form recorded on the ledger with each delivery. `operator_from_dict`
rebuilds any operator from that form.

Two rules hold for every operator:

- A malformed value (a wrong check digit, a value too short to mask partially, an
  unparsable date) is desensitized like a valid one or replaced with null. No
  operator other than `Keep` returns an input value unchanged.
- Null stays null: there is nothing to hide.

Error messages name the operator, column and parameter, never a cell value. The
rules for Chinese names and addresses, and their limits, are in
docs/desensitization.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal, TypeAlias

import polars as pl
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from govchain.crypto import bulk
from govchain.errors import ConfigError, ValidationError

logger = logging.getLogger(__name__)

#: Minimum length of the master secret that consumer keys are derived from.
MIN_MASTER_KEY_BYTES = 32
#: HKDF salt that separates pseudonym keys from other keys derived from one secret.
_PSEUDONYM_SALT = b"govchain/governance/pseudonym/v1"

#: Two-character Chinese surnames (复姓) that `MaskName` keeps whole.
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "司空",
    "夏侯",
    "令狐",
    "端木",
    "澹台",
    "呼延",
    "独孤",
    "南宫",
    "西门",
    "轩辕",
    "钟离",
    "闻人",
    "万俟",
    "百里",
    "东郭",
    "公冶",
    "太史",
    "申屠",
    "拓跋",
    "赫连",
    "单于",
    "濮阳",
    "淳于",
    "左丘",
    "宗政",
    "第五",
    "公羊",
    "谷梁",
)
_COMPOUND_SURNAME_RE = "^(?:" + "|".join(COMPOUND_SURNAMES) + ")"

# A run of 10 or more digits, optionally split by single spaces or hyphens and
# optionally ending in X. It covers resident ID numbers (18 and 15 digits, and
# mistyped ones of 16 or 17), mobile numbers with or without +86, and a mobile
# number missing one digit. `\d` matches full-width digits too.
_DIGIT_RUN_RE = r"\d(?:[ \u3000\-]?\d){9,}(?:[ \u3000\-]?[XxＸｘ])?"
# An 18-character unified social credit code: registration authority and kind
# (2), region code (6 digits), organisation code (9) and check character (1),
# over the code's alphabet, which leaves out I, O, S, V and Z.
_USCC_RE = r"(?i)[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}"

# The district-level part of a Chinese address: an optional province (…省,
# …自治区 or a municipality), an optional prefecture (…市, …自治州, …地区, …盟),
# then the first district-level unit (…区, …县, …市, …旗). After their first
# character, names may not contain 镇, 乡, 街, 路 or 号, which start the street
# part, so a later "…小区" or "…市场" is never taken for the district while
# 镇江市 and 路桥区 still are units. 乡 may appear in 东乡族, an ethnic group
# named in autonomous county names.
_ADDRESS_RE = (
    r"^(?:[^省市区县]{2,3}省|[^省市区县]{2,6}?自治区|北京市|天津市|上海市|重庆市)?"
    r"(?:[^省市区县][^省市区县镇乡街路号]{0,9}?(?:市|自治州|地区|盟))?"
    r"[^省市区县旗](?:[^省市区县旗镇乡街路号]|乡族){0,14}?(?:区|县|市|旗)"
)


def _run(series: pl.Series, build: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """Evaluate `build(column)` over `series` and keep the series name."""
    column = pl.col(series.name)
    return series.to_frame().select(build(column).alias(series.name)).to_series()


def _as_text(series: pl.Series, operator: str) -> pl.Series:
    """Return `series` as strings, raising `ValidationError` for nested types."""
    if series.dtype == pl.String:
        return series
    if series.dtype.is_nested() or series.dtype == pl.Object:
        raise ValidationError(
            f"{operator}: column {series.name!r} has type {series.dtype}, which "
            "has no text form; flatten the column before desensitizing it",
            reason="bad-column-type",
        )
    return series.cast(pl.String, strict=False)


def _fold_width(text: pl.Series) -> pl.Series:
    """Return `text` in Unicode NFKC form, which turns full-width digits to ASCII.

    A column with only ASCII text is returned as it is, because NFKC changes
    nothing there and costs about as much as the rest of an operator.
    """
    if not text.str.contains(r"[^\x00-\x7f]").any():
        return text
    return text.str.normalize("NFKC")


def _mask_all(text: pl.Expr, mask_char: str) -> pl.Expr:
    """Replace every character of `text` with `mask_char`."""
    # `$` starts a group reference in a Polars replacement string.
    return text.str.replace_all("(?s).", mask_char.replace("$", "$$"))


def _check_mask_char(operator: str, mask_char: str) -> None:
    if len(mask_char) != 1:
        raise ValidationError(
            f"{operator}: mask_char must be one character, got {mask_char!r}",
            reason="bad-operator",
        )


def _check_count(operator: str, name: str, value: object, minimum: int) -> None:
    if type(value) is not int or value < minimum:
        raise ValidationError(
            f"{operator}: {name} must be an integer of at least {minimum}, "
            f"got {value!r}",
            reason="bad-operator",
        )


@dataclass(frozen=True)
class Keep:
    """Pass the column through unchanged; for public (level 1) fields."""

    kind: ClassVar[str] = "keep"

    def apply(self, series: pl.Series) -> pl.Series:
        return series

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Keep:
        _check_keys(data, cls.kind, ())
        return cls()


@dataclass(frozen=True)
class Mask:
    """Keep the first `keep_first` and last `keep_last` characters, mask the rest.

    Values are read as text, whatever the column type, and characters are
    Unicode code points. A value shorter than `keep_first + keep_last + 1` is
    masked whole, so at least one character is always hidden. Use `Mask.id_number()`
    (`110101********9992`) and `Mask.phone()` (`138****8000`) for the usual forms.
    """

    keep_first: int = 0
    keep_last: int = 0
    mask_char: str = "*"
    kind: ClassVar[str] = "mask"

    def __post_init__(self) -> None:
        _check_count(self.kind, "keep_first", self.keep_first, 0)
        _check_count(self.kind, "keep_last", self.keep_last, 0)
        _check_mask_char(self.kind, self.mask_char)

    @classmethod
    def id_number(cls) -> Mask:
        """Mask a resident ID number except its region code and last four."""
        return cls(keep_first=6, keep_last=4)

    @classmethod
    def phone(cls) -> Mask:
        """Mask a mobile number except its first three and last four digits."""
        return cls(keep_first=3, keep_last=4)

    def apply(self, series: pl.Series) -> pl.Series:
        text = _as_text(series, self.kind)
        first, last, char = self.keep_first, self.keep_last, self.mask_char

        def build(value: pl.Expr) -> pl.Expr:
            length = value.str.len_chars()
            middle = value.str.slice(first, length - first - last)
            partial = pl.concat_str(
                [value.str.head(first), _mask_all(middle, char), value.str.tail(last)]
            )
            whole = _mask_all(value, char)
            return pl.when(length > first + last).then(partial).otherwise(whole)

        return _run(text, build)

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.kind,
            "keep_first": self.keep_first,
            "keep_last": self.keep_last,
            "mask_char": self.mask_char,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Mask:
        _check_keys(data, cls.kind, ("keep_first", "keep_last", "mask_char"))
        return cls(
            keep_first=data["keep_first"],
            keep_last=data["keep_last"],
            mask_char=data["mask_char"],
        )


@dataclass(frozen=True)
class MaskName:
    """Keep a person's surname and mask the given name: 张** and 欧阳*.

    The surname is the first character, or the first two when they are one of
    `COMPOUND_SURNAMES` and the name is longer than two characters. A name no
    longer than its surname (such as a lone 张) is masked whole. Names in other
    scripts keep their first character only.
    """

    mask_char: str = "*"
    kind: ClassVar[str] = "mask_name"

    def __post_init__(self) -> None:
        _check_mask_char(self.kind, self.mask_char)

    def apply(self, series: pl.Series) -> pl.Series:
        text = _as_text(series, self.kind)
        char = self.mask_char

        def build(value: pl.Expr) -> pl.Expr:
            value = value.str.strip_chars()
            length = value.str.len_chars()
            compound = value.str.contains(_COMPOUND_SURNAME_RE) & (length > 2)
            keep = pl.when(compound).then(2).otherwise(1)
            partial = pl.concat_str(
                [value.str.head(keep), _mask_all(value.str.slice(keep), char)]
            )
            whole = _mask_all(value, char)
            return pl.when(length > keep).then(partial).otherwise(whole)

        return _run(text, build)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind, "mask_char": self.mask_char}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MaskName:
        _check_keys(data, cls.kind, ("mask_char",))
        return cls(mask_char=data["mask_char"])


@dataclass(frozen=True)
class ScrubText:
    """Replace identifier-like substrings of free text with `replacement`.

    Two patterns are replaced, whatever their check digits. The first is a run
    of 10 or more digits, optionally split by single spaces or hyphens and
    optionally ending in X: ID numbers of 15 to 18 characters, mobile numbers
    and mistyped forms of both. The second is an 18-character unified social
    credit code. Every match becomes the same fixed `replacement`, which hides
    the length as well. Other long numbers,
    such as bank card or order numbers, are replaced too. Names and addresses
    in the text are not found: a text field that may contain them needs
    suppression.
    """

    replacement: str = "******"
    kind: ClassVar[str] = "scrub_text"

    def __post_init__(self) -> None:
        if not isinstance(self.replacement, str) or any(
            ch.isdigit() for ch in self.replacement
        ):
            raise ValidationError(
                f"{self.kind}: replacement must be text without digits, "
                f"got {self.replacement!r}",
                reason="bad-operator",
            )

    def apply(self, series: pl.Series) -> pl.Series:
        text = _as_text(series, self.kind)
        literal = self.replacement.replace("$", "$$")

        def build(value: pl.Expr) -> pl.Expr:
            # Codes go first: their digits would otherwise be split off by the
            # digit-run pattern and leave the letters behind.
            value = value.str.replace_all(_USCC_RE, literal)
            return value.str.replace_all(_DIGIT_RUN_RE, literal)

        return _run(text, build)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind, "replacement": self.replacement}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScrubText:
        _check_keys(data, cls.kind, ("replacement",))
        return cls(replacement=data["replacement"])


def derive_consumer_key(master_key: bytes, consumer: str) -> bytes:
    """Derive the 32-byte pseudonym key of one consumer department.

    HKDF-SHA256 over `master_key`, with the department id as `info`, so each
    consumer gets its own key and tokens cannot be joined across consumers.
    Raises `ConfigError` when the master key is shorter than
    `MIN_MASTER_KEY_BYTES` and `ValidationError` when `consumer` is empty.
    """
    if not isinstance(master_key, bytes) or len(master_key) < MIN_MASTER_KEY_BYTES:
        size = len(master_key) if isinstance(master_key, bytes) else 0
        raise ConfigError(
            f"pseudonym master key is {size} bytes, needs at least "
            f"{MIN_MASTER_KEY_BYTES}; load a random key from the key store"
        )
    if not consumer:
        raise ValidationError(
            "consumer department id is empty; pass the id of the department "
            "that receives the data",
            reason="bad-consumer",
        )
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_PSEUDONYM_SALT,
        info=consumer.encode("utf-8"),
    )
    return hkdf.derive(master_key)


def normalize_identifier(series: pl.Series) -> pl.Series:
    """Return identifiers in the form `Pseudonymize` hashes.

    Full-width characters are folded to ASCII (NFKC), whitespace and hyphens
    are removed and letters are upper-cased, so `11010519851111996x`, `110105 19851111 996X` and
    `138-0013-8000` normalize like their plain forms. A value that is empty
    afterwards becomes null.
    """
    text = _fold_width(_as_text(series, "pseudonymize"))

    def build(value: pl.Expr) -> pl.Expr:
        value = value.str.replace_all(r"[\s\-]", "")
        value = value.str.to_uppercase()
        return pl.when(value.str.len_bytes() > 0).then(value)

    return _run(text, build)


Encoding = Literal["base32", "hex"]
_ENCODING_CHARS: dict[str, int] = {"base32": 52, "hex": 64}


@dataclass(frozen=True)
class Pseudonymize:
    """Replace identifiers with keyed tokens: `prefix` + HMAC-SHA256, truncated.

    The HMAC key is one consumer's key from `derive_consumer_key`, bound with
    `for_consumer`. Within one key the same identifier (after
    `normalize_identifier`) always gives the same token, so the consumer can
    join its own deliveries. Two consumers get unrelated tokens. `apply`
    raises `ConfigError` when no key is bound: there is no unkeyed fallback.

    `length` counts token characters after the prefix: lower-case base32 (5
    bits each, at most 52) or hex (4 bits each, at most 64). The default, 20
    base32 characters, keeps 100 bits of the HMAC. The key is left out of
    `to_dict`, `repr` and comparisons.
    """

    prefix: str = "ps_"
    length: int = 20
    encoding: Encoding = "base32"
    key: bytes | None = field(default=None, repr=False, compare=False)
    kind: ClassVar[str] = "pseudonymize"

    def __post_init__(self) -> None:
        if self.encoding not in _ENCODING_CHARS:
            raise ValidationError(
                f"{self.kind}: encoding must be 'base32' or 'hex', "
                f"got {self.encoding!r}",
                reason="bad-operator",
            )
        _check_count(self.kind, "length", self.length, 16)
        if self.length > _ENCODING_CHARS[self.encoding]:
            raise ValidationError(
                f"{self.kind}: length {self.length} exceeds the "
                f"{_ENCODING_CHARS[self.encoding]} {self.encoding} characters of "
                "an HMAC-SHA256",
                reason="bad-operator",
            )
        if not isinstance(self.prefix, str) or len(self.prefix) > 16:
            raise ValidationError(
                f"{self.kind}: prefix must be text of at most 16 characters, "
                f"got {self.prefix!r}",
                reason="bad-operator",
            )
        if self.key is not None and len(self.key) < 32:
            raise ConfigError(
                f"{self.kind}: key is {len(self.key)} bytes, needs at least 32; derive it "
                "with derive_consumer_key"
            )

    def for_consumer(self, master_key: bytes, consumer: str) -> Pseudonymize:
        """Return a copy bound to the key of `consumer` derived from `master_key`."""
        return replace(self, key=derive_consumer_key(master_key, consumer))

    def apply(self, series: pl.Series) -> pl.Series:
        if self.key is None:
            raise ConfigError(
                f"{self.kind}: no key is bound for column {series.name!r}; bind a "
                "consumer key with for_consumer(master_key, consumer)"
            )
        normalized = normalize_identifier(series)
        present = normalized.drop_nulls()
        distinct = present.unique()
        if distinct.len() * 5 > present.len() * 4:
            # Mostly distinct values (ID numbers, phones): hashing each present
            # value in place is cheaper than a lookup table as large as the column.
            positions = normalized.is_not_null().arg_true()
            empty = pl.Series(series.name, [None] * series.len(), dtype=pl.String)
            return empty.scatter(positions, self._tokens(present, self.key))
        return normalized.replace_strict(
            distinct,
            self._tokens(distinct, self.key),
            default=None,
            return_dtype=pl.String,
        )

    def _tokens(self, values: pl.Series, key: bytes) -> pl.Series:
        """Return `prefix` + the first `length` characters of each value's HMAC text."""
        data, lengths, gap = bulk.column_messages(values)
        if self.encoding == "hex":
            size = -(-self.length // 2)
            text = bulk.hmac_sha256_each(key, data, lengths, gap, size).hex()
            return self._cut(text.encode("ascii"), 2 * size)
        # RFC 4648 base32 turns each 5 bytes into 8 characters, so the first
        # `length` characters come from the first `width` bytes of the MAC,
        # zero-padded past 32 as base64.b32encode pads. One call encodes every
        # value's bytes, laid end to end.
        groups = -(-self.length // 8)
        width = 5 * groups
        macs = bulk.hmac_sha256_each(key, data, lengths, gap, min(width, 32))
        if width > 32:
            pad = bytes(width - 32)
            macs = b"".join(macs[i : i + 32] + pad for i in range(0, len(macs), 32))
        return self._cut(bulk.b32encode(macs).lower(), 8 * groups)

    def _cut(self, text: bytes, step: int) -> pl.Series:
        """Split ASCII `text` into `step`-character pieces and keep `length` of each."""
        pieces = [text[i : i + self.length] for i in range(0, len(text), step)]
        return self.prefix + pl.Series(pieces, dtype=pl.Binary).cast(pl.String)

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.kind,
            "prefix": self.prefix,
            "length": self.length,
            "encoding": self.encoding,
            "mac": "hmac-sha256",
            "key_derivation": "hkdf-sha256",
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pseudonymize:
        keys = ("prefix", "length", "encoding", "mac", "key_derivation")
        _check_keys(data, cls.kind, keys)
        if data["mac"] != "hmac-sha256" or data["key_derivation"] != "hkdf-sha256":
            raise ValidationError(
                f"{cls.kind}: mac {data['mac']!r} with key derivation "
                f"{data['key_derivation']!r} is not supported; use hmac-sha256 "
                "with hkdf-sha256",
                reason="bad-operator",
            )
        return cls(
            prefix=data["prefix"], length=data["length"], encoding=data["encoding"]
        )


DatePrecision = Literal["year", "month"]
_DATE_FORMATS: dict[str, str] = {"year": "%Y", "month": "%Y-%m"}
# Dates such as 1990-01-02, 1990/1/2, 1990.01.02 and 1990年1月2日, with an
# optional time part, and compact 19900102.
_SEPARATED_DATE_RE = r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$"
_COMPACT_DATE_RE = r"^(\d{4})(\d{2})(\d{2})$"


@dataclass(frozen=True)
class GeneralizeDate:
    """Reduce a date, such as a birth date, to its year (`1990`) or month (`1990-01`).

    Date and datetime columns are used as they are. Text is read in the forms
    `1990-01-02`, `1990/1/2`, `1990.01.02`, `1990年1月2日` (each with an optional
    time part) and `19900102`. A value that is not a real date in one of these
    forms becomes null. The output is text.
    """

    precision: DatePrecision = "year"
    kind: ClassVar[str] = "generalize_date"

    def __post_init__(self) -> None:
        if self.precision not in _DATE_FORMATS:
            raise ValidationError(
                f"{self.kind}: precision must be 'year' or 'month', "
                f"got {self.precision!r}",
                reason="bad-operator",
            )

    def apply(self, series: pl.Series) -> pl.Series:
        if series.dtype in (pl.Date, pl.Datetime):
            dates = series.cast(pl.Date)
        else:
            dates = _run(_fold_width(_as_text(series, self.kind)), _parse_date)
        return dates.dt.strftime(_DATE_FORMATS[self.precision])

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind, "precision": self.precision}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeneralizeDate:
        _check_keys(data, cls.kind, ("precision",))
        return cls(precision=data["precision"])


def _parse_date(value: pl.Expr) -> pl.Expr:
    """Parse the date forms `GeneralizeDate` reads, with null for the rest."""
    value = value.str.strip_chars()
    separated = value.str.extract_groups(_SEPARATED_DATE_RE).struct
    compact = value.str.extract_groups(_COMPACT_DATE_RE).struct
    year, month, day = (
        pl.coalesce(separated.field(name), compact.field(name))
        for name in ("1", "2", "3")
    )
    iso = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    return iso.str.to_date("%Y-%m-%d", strict=False)


def _as_number(series: pl.Series, operator: str) -> pl.Series:
    """Return `series` as floats, with null for text that is not a number."""
    if series.dtype.is_numeric():
        return series.cast(pl.Float64)
    text = _fold_width(_as_text(series, operator))
    return _run(
        text, lambda value: value.str.strip_chars().cast(pl.Float64, strict=False)
    )


@dataclass(frozen=True)
class GeneralizeAge:
    """Replace an age in years with its band: `0-17`, `18-34`, `35-59`, `60+`.

    `edges` are the first ages of each band after the one starting at 0, in
    increasing order. Fractional ages are rounded down. Negative and
    unparsable ages become null. The output is text.
    """

    edges: tuple[int, ...] = (18, 35, 60)
    kind: ClassVar[str] = "generalize_age"

    def __post_init__(self) -> None:
        previous = 0
        for edge in self.edges:
            if type(edge) is not int or edge <= previous:
                raise ValidationError(
                    f"{self.kind}: edges must be increasing integers above 0, "
                    f"got {list(self.edges)!r}",
                    reason="bad-operator",
                )
            previous = edge
        if not self.edges:
            raise ValidationError(
                f"{self.kind}: edges is empty; give at least one band boundary",
                reason="bad-operator",
            )

    def labels(self) -> list[str]:
        """Return the band labels from youngest to oldest."""
        starts = (0, *self.edges)
        bands = [f"{lo}-{hi - 1}" for lo, hi in zip(starts, self.edges, strict=False)]
        return [*bands, f"{self.edges[-1]}+"]

    def apply(self, series: pl.Series) -> pl.Series:
        ages = _as_number(series, self.kind)
        labels = self.labels()

        def build(value: pl.Expr) -> pl.Expr:
            age = value.floor()
            band: pl.Expr = pl.lit(labels[-1])
            for edge, label in reversed(list(zip(self.edges, labels, strict=False))):
                band = pl.when(age < edge).then(pl.lit(label)).otherwise(band)
            return pl.when(age.is_finite() & (age >= 0)).then(band)

        return _run(ages, build)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind, "edges": list(self.edges)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeneralizeAge:
        _check_keys(data, cls.kind, ("edges",))
        edges = data["edges"]
        if not isinstance(edges, list):
            raise ValidationError(
                f"{cls.kind}: edges must be a list of integers",
                reason="bad-operator",
            )
        return cls(edges=tuple(edges))


@dataclass(frozen=True)
class GeneralizeAddress:
    """Cut a Chinese address after its district-level unit.

    `广东省广州市天河区天河路385号` becomes `广东省广州市天河区`, and
    `海南省儋州市那大镇…`, whose city has no districts, becomes `海南省儋州市`.
    The province and prefecture parts are optional. Spaces are removed first.
    An address in which no district-level unit is found becomes null. The
    rule and its limits are in docs/desensitization.md.
    """

    kind: ClassVar[str] = "generalize_address"

    def apply(self, series: pl.Series) -> pl.Series:
        text = _fold_width(_as_text(series, self.kind))

        def build(value: pl.Expr) -> pl.Expr:
            value = value.str.replace_all(r"\s", "")
            return value.str.extract(_ADDRESS_RE, 0)

        return _run(text, build)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeneralizeAddress:
        _check_keys(data, cls.kind, ())
        return cls()


RegionLevel = Literal["city", "province"]
_REGION_DIGITS: dict[str, int] = {"city": 4, "province": 2}


@dataclass(frozen=True)
class GeneralizeRegion:
    """Raise a GB/T 2260 region code to its city or province: 440106 → 440100.

    The output keeps six digits, so it is the code of the enclosing region.
    Nine- and twelve-digit statistical codes are read by their first six
    digits. Any other value becomes null.
    """

    level: RegionLevel = "city"
    kind: ClassVar[str] = "generalize_region"

    def __post_init__(self) -> None:
        if self.level not in _REGION_DIGITS:
            raise ValidationError(
                f"{self.kind}: level must be 'city' or 'province', got {self.level!r}",
                reason="bad-operator",
            )

    def apply(self, series: pl.Series) -> pl.Series:
        text = _fold_width(_as_text(series, self.kind))
        digits = _REGION_DIGITS[self.level]

        def build(value: pl.Expr) -> pl.Expr:
            value = value.str.strip_chars()
            code = value.str.extract(r"^([0-9]{6})(?:[0-9]{3}|[0-9]{6})?$", 1)
            return code.str.head(digits).str.pad_end(6, "0")

        return _run(text, build)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind, "level": self.level}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeneralizeRegion:
        _check_keys(data, cls.kind, ("level",))
        return cls(level=data["level"])


@dataclass(frozen=True)
class GeneralizeNumber:
    """Replace a number with the half-open range of `width` that contains it.

    With `width=10`, 23 and 29.5 become `[20,30)` and -3 becomes `[-10,0)`.
    Ranges start at `origin` plus a multiple of `width`. Text that is not a
    number, NaN and infinities become null. The output is text.
    """

    width: int = 10
    origin: int = 0
    kind: ClassVar[str] = "generalize_number"

    def __post_init__(self) -> None:
        _check_count(self.kind, "width", self.width, 1)
        if type(self.origin) is not int:
            raise ValidationError(
                f"{self.kind}: origin must be an integer, got {self.origin!r}",
                reason="bad-operator",
            )

    def apply(self, series: pl.Series) -> pl.Series:
        numbers = _as_number(series, self.kind)
        width, origin = self.width, self.origin

        def build(value: pl.Expr) -> pl.Expr:
            steps = ((value - origin) / width).floor()
            low = (steps * width + origin).cast(pl.Int64, strict=False)
            label = pl.format("[{},{})", low, low + width)
            return pl.when(value.is_finite()).then(label)

        return _run(numbers, build)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind, "width": self.width, "origin": self.origin}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeneralizeNumber:
        _check_keys(data, cls.kind, ("width", "origin"))
        return cls(width=data["width"], origin=data["origin"])


@dataclass(frozen=True)
class Suppress:
    """Replace every value with null.

    The column stays, with its name and type, so a delivery keeps the schema the
    grant names and a consumer can tell a suppressed field from a missing one.
    """

    kind: ClassVar[str] = "suppress"

    def apply(self, series: pl.Series) -> pl.Series:
        return series.clear(len(series))

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.kind}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suppress:
        _check_keys(data, cls.kind, ())
        return cls()


#: Any desensitization operator.
Operator: TypeAlias = (
    Keep
    | Mask
    | MaskName
    | ScrubText
    | Pseudonymize
    | GeneralizeDate
    | GeneralizeAge
    | GeneralizeAddress
    | GeneralizeRegion
    | GeneralizeNumber
    | Suppress
)

_OPERATORS: dict[str, Callable[[Mapping[str, Any]], Operator]] = {
    cls.kind: cls.from_dict
    for cls in (
        Keep,
        Mask,
        MaskName,
        ScrubText,
        Pseudonymize,
        GeneralizeDate,
        GeneralizeAge,
        GeneralizeAddress,
        GeneralizeRegion,
        GeneralizeNumber,
        Suppress,
    )
}


def operator_from_dict(data: Mapping[str, Any]) -> Operator:
    """Rebuild an operator from its `to_dict()` form.

    Raises `ValidationError` for an unknown `op`, missing or unexpected keys and
    parameters the operator rejects.
    """
    kind = data.get("op") if isinstance(data, Mapping) else None
    build = _OPERATORS.get(kind) if isinstance(kind, str) else None
    if build is None:
        raise ValidationError(
            f"operator {kind!r} is unknown; use one of {sorted(_OPERATORS)}",
            reason="bad-operator",
        )
    return build(data)


def _check_keys(data: Mapping[str, Any], kind: str, keys: tuple[str, ...]) -> None:
    """Raise `ValidationError` unless `data` has exactly `op` and `keys`."""
    expected = {"op", *keys}
    missing = sorted(expected - set(data))
    unexpected = sorted(set(data) - expected)
    if data.get("op") != kind or missing or unexpected:
        raise ValidationError(
            f"operator {kind!r}: form has op {data.get('op')!r}, missing keys "
            f"{missing}, unexpected keys {unexpected}; expected keys "
            f"{sorted(expected)}",
            reason="bad-operator",
        )
