"""Canonical JSON: the one byte encoding that is hashed and signed.

The encoding is the JSON Canonicalization Scheme of RFC 8785 restricted to the
values the ledger needs: objects, arrays, strings, integers, booleans and null.
Floats are rejected because their text form is where implementations disagree.
Object keys are sorted by their UTF-16 code units (RFC 8785, section 3.2.3), no
whitespace is written, and strings keep their characters as UTF-8 except for the
escapes JSON requires. docs/formats.md describes it with examples.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from govchain.errors import ValidationError

#: Integers outside this range lose precision in JavaScript and most JSON parsers.
MAX_SAFE_INTEGER = 2**53 - 1


def _utf16_key(key: str) -> bytes:
    # An unpaired surrogate must not stop the sort: the UTF-8 encoding at the
    # end rejects it with a ValidationError.
    return key.encode("utf-16-be", "surrogatepass")


def _encode(value: Any, out: list[str], path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValidationError(
                f"integer at {path} is outside the safe range of +-(2**53 - 1); "
                "encode it as a string",
                reason="bad-encoding",
            )
        out.append(str(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Mapping):
        _encode_object(value, out, path)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, f"{path}[{i}]")
        out.append("]")
    else:
        raise ValidationError(
            f"value at {path} has type {type(value).__name__}, which canonical JSON "
            "does not encode; use a string, integer, boolean, null, list or object",
            reason="bad-encoding",
        )


def _encode_object(value: Mapping[Any, Any], out: list[str], path: str) -> None:
    for key in value:
        if not isinstance(key, str):
            raise ValidationError(
                f"object key {key!r} at {path} is not a string", reason="bad-encoding"
            )
    out.append("{")
    for i, key in enumerate(sorted(value, key=_utf16_key)):
        if i:
            out.append(",")
        out.append(json.dumps(key, ensure_ascii=False))
        out.append(":")
        _encode(value[key], out, f"{path}.{key}")
    out.append("}")


def canonical_json(value: Any) -> bytes:
    """Encode `value` as canonical JSON bytes (UTF-8).

    Raises `ValidationError` for floats, non-string keys, integers beyond
    2**53 - 1, strings that are not valid Unicode and types JSON has no form for.
    """
    if _encode_plain is not None:
        data = _encode_plain(value)
        if data is not None:
            return data
    text = _fast_encode(value)
    if text is None:
        out: list[str] = []
        _encode(value, out, "$")
        text = "".join(out)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"a string holds an unpaired surrogate at offset {exc.start}; "
            "encode the text as valid Unicode",
            reason="bad-encoding",
        ) from exc


# The fast path leaves the work to the C encoder and decoder of the json module,
# which is about ten times quicker than the walk above. Its output is canonical
# when three things hold: decoding it gives a value equal to the input (so the
# input held only str keys, lists, dicts, str, int, bool and None, and no
# float), every integer is in the safe range, and no character lies outside
# the Basic Multilingual Plane, where code-point order (what sort_keys uses)
# and UTF-16 order (what RFC 8785 uses) can differ. Anything else takes the walk.
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    sort_keys=True,
    separators=(",", ":"),
    allow_nan=False,
    check_circular=False,
)
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")


class _NotCanonical(Exception):
    pass


def _no_float(text: str) -> Any:
    raise _NotCanonical


def _fast_int(text: str) -> int:
    # Called by the decoder for each integer. 2**53 - 1 has 16 digits, so a
    # shorter one is in range; the walk checks longer ones and names their path.
    if len(text) < 16:
        return int(text)
    raise _NotCanonical


# Decoders built once: json.loads with keyword arguments builds a new decoder on
# every call, which costs as much as decoding a short object.
_CHECKING_DECODER = json.JSONDecoder(parse_float=_no_float, parse_int=_fast_int)


def _fast_encode(value: Any) -> str | None:
    try:
        text = _FAST_ENCODER.encode(value)
    except (TypeError, ValueError):
        return None
    if not text.isascii() and _NON_BMP.search(text):
        return None
    if _plain_json(value):
        return text
    try:
        decoded = _CHECKING_DECODER.decode(text)
    except _NotCanonical:
        return None
    return text if decoded == value else None


def _plain_json_walk(value: Any) -> bool:
    """Return whether `value` contains only dicts with str keys, lists, str, safe
    integers, booleans and None, each of exactly that type.

    The C encoder writes such a value in canonical form, except for characters
    outside the BMP, which the caller checks. The check costs about a third of
    decoding the output again and comparing (a state record of 16 fields:
    1.9 us against 5.2, CPython 3.11), and the C module `_plain` does the
    same walk in about a tenth of that. A subclass or any other type makes it
    return False, and the caller then decodes the output to compare.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not _plain_json_walk(item):
                return False
        return True
    if kind is list:
        return all(_plain_json_walk(item) for item in value)
    return False


_plain_json: Callable[[Any], bool]
#: The C module's encoder of plain values: canonical bytes, or None for a value
#: that is not plain or has an object key outside the BMP.
_encode_plain: Callable[[Any], bytes | None] | None
try:
    from govchain.ledger._plain import encode as _encode_plain
    from govchain.ledger._plain import is_plain as _plain_json
except ImportError:  # not built: no C compiler or Python headers at install
    _plain_json = _plain_json_walk
    _encode_plain = None


def parse_canonical_json(data: bytes) -> Any:
    """Parse canonical JSON bytes and check that they are in canonical form.

    Raises `ValidationError` when the bytes are not UTF-8 JSON or when encoding
    the parsed value again gives different bytes (extra whitespace, unsorted
    keys, floats, duplicate keys).
    """
    value = _parse_plain(data)
    if value is not _NOT_PLAIN:
        return value
    try:
        text = data.decode("utf-8")
        value = _DECODER.decode(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            f"not valid UTF-8 JSON: {exc}", reason="bad-encoding"
        ) from exc
    except RecursionError as exc:
        raise ValidationError(
            "JSON is nested too deeply", reason="bad-encoding"
        ) from exc
    if not _is_canonical_text(value, data):
        raise ValidationError(
            "JSON is not in canonical form (RFC 8785: sorted keys, no whitespace)",
            reason="bad-encoding",
        )
    return value


_NOT_PLAIN = object()


def _parse_plain(data: bytes) -> Any:
    """Return the value of canonical bytes that hold a plain value, else `_NOT_PLAIN`.

    orjson parses in a third of the json module's time. When its value is plain
    and encodes back to `data`, the json module would have parsed the same
    value, so the result is the same. Anything else (invalid JSON, floats, big
    integers, keys outside the BMP, bytes not in canonical form) takes the
    json module's path, whose errors name the problem.
    """
    if _encode_plain is None:
        return _NOT_PLAIN
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _NOT_PLAIN
    return value if _encode_plain(value) == data else _NOT_PLAIN


def _is_canonical_text(value: Any, data: bytes) -> bool:
    # The value came from json.loads, so it holds only JSON types and the C
    # encoder gives canonical text unless a character outside the BMP makes
    # code-point and UTF-16 key order differ.
    if _encode_plain is not None:
        encoded = _encode_plain(value)
        if encoded is not None:
            return encoded == data
    try:
        text = _FAST_ENCODER.encode(value)
    except ValueError:
        return False
    if not text.isascii() and _NON_BMP.search(text):
        return canonical_json(value) == data
    try:
        return text.encode("utf-8") == data
    except UnicodeEncodeError:
        return False


def _safe_int(text: str) -> int:
    # 2**53 has 16 digits; longer text is out of range, and Python refuses to
    # parse integers of more than 4300 digits at all.
    if len(text) < 16:
        return int(text)
    if len(text.lstrip("-")) > 16:
        raise ValidationError(
            f"integer {text[:20]}... is outside the safe range of +-(2**53 - 1)",
            reason="bad-encoding",
        )
    number = int(text)
    if not -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        raise ValidationError(
            f"integer {text[:20]} is outside the safe range of +-(2**53 - 1)",
            reason="bad-encoding",
        )
    return number


def _reject_float(text: str) -> Any:
    raise ValidationError(
        f"number {text} is not an integer; canonical JSON carries no floats",
        reason="bad-encoding",
    )


# Calling `_safe_int` for each integer costs less than searching the whole text
# for long runs of digits first.
_DECODER = json.JSONDecoder(parse_float=_reject_float, parse_int=_safe_int)
