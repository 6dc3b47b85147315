"""ID and mobile numbers in a consortium file, whose text goes into the genesis.

Problems name the entry and the field, never the number. The ID number belongs
to a made-up person: a synthetic body with its GB 11643 check character.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from govchain.consortium import build_consortium, demo_consortium_text
from govchain.errors import ConfigError
from govchain.identifiers.cn import ric

ID_BODY = "11010219770415321"
ID_NUMBER = ID_BODY + ric.calc_check_char(ID_BODY)
MOBILE = "13912345678"


def problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_consortium(document, source="consortium.toml")
    message = str(caught.value)
    assert ID_NUMBER not in message
    assert MOBILE not in message
    return message.splitlines()


def test_department_name_with_id_number() -> None:
    document = tomllib.loads(demo_consortium_text())
    document["departments"][2]["name"] = f"联系人 {ID_NUMBER}"
    assert problems(document) == [
        "consortium.toml: departments[2].name: contains a resident ID number; "
        "personal data must not be recorded on the ledger, so remove it"
    ]


def test_department_id_is_id_number() -> None:
    document = tomllib.loads(demo_consortium_text())
    document["departments"][2]["id"] = ID_NUMBER
    lines = problems(document)
    assert lines[0].startswith(
        "consortium.toml: departments[2].id: contains a resident"
    )


def test_department_line_with_mobile() -> None:
    document = tomllib.loads(demo_consortium_text())
    document["departments"][1]["line"] = MOBILE
    lines = problems(document)
    assert lines == [
        "consortium.toml: departments[1].line: contains a mobile number; "
        "personal data must not be recorded on the ledger, so remove it"
    ]


def test_region_and_consortium_names_checked() -> None:
    document = tomllib.loads(demo_consortium_text())
    document["regions"][0]["name"] = f"广东省 {MOBILE}"
    document["consortium"]["name"] = f"联盟 {ID_NUMBER}"
    lines = problems(document)
    assert "consortium.toml: consortium.name: contains a resident ID number" in lines[0]
    assert "consortium.toml: regions[0].name: contains a mobile number" in lines[1]
