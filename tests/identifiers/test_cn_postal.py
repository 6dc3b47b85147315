"""Postal codes: one value at a time."""

from __future__ import annotations

import pytest

from govchain.identifiers import InvalidComponent, InvalidFormat, InvalidLength
from govchain.identifiers.cn import postal


@pytest.mark.parametrize("value", ["100080", "010010", "266033", "850000", "137000"])
def test_postal_valid(value: str):
    assert postal.validate(value) == value


def test_postal_separators_noted():
    assert postal.check("100 080").notes == ("separators",)


def test_postal_strict_rejects_full_width():
    with pytest.raises(InvalidFormat) as caught:
        postal.validate("１０００８０", strict=True)
    assert caught.value.reason == "full-width"


@pytest.mark.parametrize("value", ["000123", "999077", "900000", "140000", "870000"])
def test_postal_unknown_zone(value: str):
    with pytest.raises(InvalidComponent) as caught:
        postal.validate(value)
    assert caught.value.reason == "unknown-postal-zone"


def test_postal_length():
    with pytest.raises(InvalidLength):
        postal.validate("10008")


def test_postal_letters():
    with pytest.raises(InvalidFormat):
        postal.validate("10008O")


def test_postal_zones_count():
    assert len(postal.ZONES) == 60
