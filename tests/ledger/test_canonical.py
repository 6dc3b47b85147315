"""Canonical JSON: round trips, key order, and every value it rejects."""

from __future__ import annotations

import json
import re
import shutil
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govchain.errors import ValidationError
from govchain.ledger import canonical
from govchain.ledger.canonical import (
    MAX_SAFE_INTEGER,
    _encode_plain,
    _plain_json,
    _plain_json_walk,
    canonical_json,
    parse_canonical_json,
)


def reference_encode(value: Any) -> str:
    """Encode canonical JSON the slow, obvious way, as RFC 8785 describes it."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(reference_encode(item) for item in value) + "]"
    keys = sorted(value, key=lambda key: key.encode("utf-16-be"))
    members = (
        f"{reference_encode(key)}:{reference_encode(value[key])}" for key in keys
    )
    return "{" + ",".join(members) + "}"


# Text without lone surrogates, across every plane (JSON strings are Unicode).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_canonical_round_trip(value: Any) -> None:
    data = canonical_json(value)
    assert parse_canonical_json(data) == value
    assert canonical_json(parse_canonical_json(data)) == data


@given(JSON_VALUES)
def test_canonical_matches_reference(value: Any) -> None:
    assert canonical_json(value) == reference_encode(value).encode("utf-8")


@given(st.dictionaries(TEXT, st.integers(0, 9), min_size=2, max_size=8))
def test_canonical_keys_utf16_order(value: dict[str, int]) -> None:
    parsed = json.loads(canonical_json(value))
    keys = list(parsed)
    assert keys == sorted(keys, key=lambda key: key.encode("utf-16-be"))


def test_canonical_utf16_differs_from_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FF21 although its
    # code point is larger.
    value = {"\uff21": 1, "\U0001f600": 2}
    assert canonical_json(value) == '{"\U0001f600":2,"\uff21":1}'.encode()


def test_canonical_booleans_not_integers() -> None:
    assert canonical_json([True, 1, False, 0]) == b"[true,1,false,0]"


def test_canonical_tuple_as_array() -> None:
    assert canonical_json({"a": (1, "x")}) == b'{"a":[1,"x"]}'


def test_canonical_safe_integer_bounds() -> None:
    assert canonical_json(MAX_SAFE_INTEGER) == b"9007199254740991"
    assert canonical_json(-MAX_SAFE_INTEGER) == b"-9007199254740991"


REJECTED_VALUES = {
    "float": (1.0, "has type float"),
    "nan": (float("nan"), "has type float"),
    "big-integer": (MAX_SAFE_INTEGER + 1, "outside the safe range"),
    "small-integer": (-MAX_SAFE_INTEGER - 1, "outside the safe range"),
    "non-string-key": ({1: "a"}, "object key 1 at $ is not a string"),
    "bytes": (b"raw", "has type bytes"),
    "set": ({1}, "has type set"),
    "nested-float": ({"a": [{"b": 0.5}]}, "value at $.a[0].b has type float"),
    "boolean-key": ({True: 1}, "object key True at $ is not a string"),
    "none-key": ({"a": {None: 1}}, "object key None at $.a is not a string"),
    "nested-big-integer": ({"a": [MAX_SAFE_INTEGER + 1]}, "at $.a[0] is outside"),
    "lone-surrogate": ("\ud800", "surrogate"),
}


class _Text(str):
    pass


class _Number(int):
    pass


PLAIN_VALUES = {
    "record": ({"a": [1, "x", None, True], "b": {"c": []}}, True),
    "safe-integer": ([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER], True),
    "big-integer": ([MAX_SAFE_INTEGER + 1], False),
    "float": ({"a": 1.0}, False),
    "integer-key": ({1: "a"}, False),
    "tuple": ((1, 2), False),
    "str-subclass": ([_Text("a")], False),
    "int-subclass": ({"a": _Number(1)}, False),
    "key-subclass": ({_Text("a"): 1}, False),
    "huge-negative": ({"a": [-(2**70)]}, False),
    "below-safe": ([-MAX_SAFE_INTEGER - 1], False),
    "bytes": ([b"a"], False),
}


# The C module and the Python walk must agree, or a value would encode
# differently on a node where the module was not built.
PLAIN_CHECKS = [
    _plain_json_walk,
    pytest.param(
        _plain_json,
        marks=pytest.mark.skipif(
            _plain_json is _plain_json_walk, reason="_plain is not built"
        ),
    ),
]


@pytest.mark.parametrize("check", PLAIN_CHECKS)
@pytest.mark.parametrize("case", sorted(PLAIN_VALUES))
def test_plain_json_types(case: str, check: Callable[[Any], bool]) -> None:
    value, expected = PLAIN_VALUES[case]
    assert check(value) is expected


MIXED_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | TEXT
    | TEXT.map(_Text),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(TEXT | st.integers(), children, max_size=4)
        | st.tuples(children)
    ),
    max_leaves=20,
)


@given(MIXED_VALUES)
def test_plain_json_module_matches_walk(value: Any) -> None:
    assert _plain_json(value) is _plain_json_walk(value)


def test_plain_json_module_built() -> None:
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    if shutil.which("cc") is None or not headers.exists():
        pytest.skip("no C compiler or Python headers, so setup.py skips _plain")
    assert _plain_json is not _plain_json_walk, (
        "setup.py did not build govchain.ledger._plain; reinstall with a C compiler "
        "and the Python headers"
    )


def test_plain_json_deep_nesting_raises() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(RecursionError):
        _plain_json(value)


needs_encoder = pytest.mark.skipif(_encode_plain is None, reason="_plain is not built")


def _has_astral_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            max(map(ord, key), default=0) > 0xFFFF or _has_astral_key(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_has_astral_key(item) for item in value)
    return False


@needs_encoder
@given(MIXED_VALUES)
def test_plain_encoder_matches_reference(value: Any) -> None:
    assert _encode_plain is not None
    encoded = _encode_plain(value)
    if not _plain_json_walk(value) or _has_astral_key(value):
        assert encoded is None
    else:
        assert encoded == reference_encode(value).encode("utf-8")


@needs_encoder
def test_plain_encoder_escapes_like_rfc8785() -> None:
    assert _encode_plain is not None
    # Every ASCII character and a few beyond: control characters take the
    # escapes of RFC 8785, section 3.2.2.2; DEL, U+2028 and the rest stay as
    # they are.
    text = "".join(map(chr, range(0x80))) + "\u2028\u00e9\U0001f600"
    assert _encode_plain([text]) == f"[{json.dumps(text, ensure_ascii=False)}]".encode()
    assert _encode_plain("\x1f\b") == b'"\\u001f\\b"'


@needs_encoder
@pytest.mark.parametrize(
    "value", [{"\U0001f600": 1}, "\ud800", {"a": ["\udfff"]}, 2**53, 1.5, (1,)]
)
def test_plain_encoder_declines(value: Any) -> None:
    assert _encode_plain is not None
    assert _encode_plain(value) is None


@needs_encoder
def test_plain_encoder_deep_nesting_raises() -> None:
    assert _encode_plain is not None
    value: Any = []
    for _ in range(100_000):
        value = {"a": value}
    with pytest.raises(RecursionError):
        _encode_plain(value)


def test_canonical_encodes_non_plain_values() -> None:
    assert canonical_json({"a": (1, _Text("b"))}) == b'{"a":[1,"b"]}'


@pytest.mark.parametrize("case", sorted(REJECTED_VALUES))
def test_canonical_rejects_value(case: str) -> None:
    value, fragment = REJECTED_VALUES[case]
    with pytest.raises(ValidationError, match=re.escape(fragment)) as caught:
        canonical_json(value)
    assert caught.value.reason == "bad-encoding"


REJECTED_BYTES = {
    "whitespace": (b"[1, 2]", "not in canonical form"),
    "unsorted": (b'{"b":1,"a":1}', "not in canonical form"),
    "code-point-order": ('{"\uff21":1,"\U0001f600":2}'.encode(), "not in canonical"),
    "duplicate-key": (b'{"a":1,"a":2}', "not in canonical form"),
    "escaped-ascii": (b'"\\u0041"', "not in canonical form"),
    "float": (b"[2.5]", "2.5 is not an integer"),
    "big-integer": (b"[9007199254740992]", "outside the safe range"),
    "huge-integer": (b"9" * 5000, "outside the safe range"),
    "truncated": (b'{"a":', "not valid UTF-8 JSON"),
    "latin-1": (b'"caf\xe9"', "not valid UTF-8"),
    "empty": (b"", "not valid UTF-8 JSON"),
}


@pytest.mark.parametrize("case", sorted(REJECTED_BYTES))
def test_parse_canonical_rejects(case: str) -> None:
    data, fragment = REJECTED_BYTES[case]
    with pytest.raises(ValidationError, match=re.escape(fragment)) as caught:
        parse_canonical_json(data)
    assert caught.value.reason == "bad-encoding"


def test_parse_canonical_deep_nesting() -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValidationError) as caught:
        parse_canonical_json(data)
    assert caught.value.reason == "bad-encoding"


def test_parse_canonical_keeps_non_ascii() -> None:
    data = '{"dept":"衛生局","note":"\u2028"}'.encode()
    assert parse_canonical_json(data) == {"dept": "衛生局", "note": "\u2028"}


# JSON texts near canonical form: floats, big integers, spaces, unsorted keys.
NEAR_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=20,
)
NEAR_CANONICAL = st.builds(
    lambda value, sort, space: json.dumps(
        value,
        ensure_ascii=False,
        sort_keys=sort,
        separators=(", ", ": ") if space else (",", ":"),
    ).encode("utf-8", "surrogatepass"),
    NEAR_VALUES,
    st.booleans(),
    st.booleans(),
)


def _outcome(parse: Callable[[bytes], Any], data: bytes) -> tuple[str, Any]:
    try:
        return "value", parse(data)
    except ValidationError as exc:
        return "error", str(exc)


@given(NEAR_CANONICAL | st.binary(max_size=40))
def test_parse_fast_path_matches_json_module(data: bytes) -> None:
    # orjson's path must give what the json module's path gives, value or error.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(canonical, "_parse_plain", lambda data: canonical._NOT_PLAIN)
        expected = _outcome(parse_canonical_json, data)
    assert _outcome(parse_canonical_json, data) == expected
