"""The public surface of govchain.identifiers and its documented examples."""

from __future__ import annotations

import doctest
import importlib

import pytest

import govchain.identifiers as identifiers
from govchain.errors import ValidationError
from govchain.identifiers import FORMATS, InvalidFormat, InvalidLength

MODULES = [
    "govchain.identifiers.cn.ric",
    "govchain.identifiers.cn.uscc",
    "govchain.identifiers.cn.phone",
    "govchain.identifiers.cn.postal",
    "govchain.identifiers.cn.region",
    "govchain.identifiers.vectorised",
]


def test_api_all_sorted_and_exported():
    # Constants first, then the rest, each in alphabetical order (ruff RUF022).
    order = sorted(identifiers.__all__, key=lambda name: (not name.isupper(), name))
    assert identifiers.__all__ == order
    for name in identifiers.__all__:
        assert hasattr(identifiers, name)


def test_api_format_names():
    assert sorted(FORMATS) == [
        "cn-mobile",
        "cn-phone",
        "cn-postal-code",
        "cn-region-code",
        "cn-resident-id",
        "cn-uscc",
    ]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_api_validators_share_shape(name: str):
    validator = FORMATS[name]
    assert not validator.is_valid("")
    with pytest.raises(InvalidFormat):
        validator.validate("")
    assert validator.compact(" - ") == ""


def test_api_error_tree():
    assert issubclass(InvalidLength, InvalidFormat)
    for error in (
        InvalidFormat,
        identifiers.InvalidChecksum,
        identifiers.InvalidComponent,
    ):
        assert issubclass(error, ValidationError)
        assert issubclass(error, ValueError)


@pytest.mark.parametrize("module", MODULES)
def test_api_doctests(module: str):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0
