"""Fixtures of the certificate tests: a node with a template, an issuer and a key."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from govchain.certs.service import CertificateService, Holder
from govchain.cli import main
from govchain.demo.people import synthetic_people
from govchain.demo.scenarios import DemoClock
from govchain.node import HOME_ENV, Node

ISSUER = "city-health"
OTHER = "city-market"
TEMPLATE = {
    "id": "food-health",
    "title": "食品从业人员健康证明",
    "validity_days": 365,
    "claims": [
        {"name": "occupation", "type": "string", "label": "从业类别"},
        {"name": "checkup_date", "type": "date", "label": "体检日期"},
        {"name": "fit", "type": "boolean", "label": "体检合格"},
        {"name": "note", "type": "string", "label": "备注", "required": False},
    ],
}


@dataclass
class Setup:
    node: Node
    service: CertificateService
    clock: DemoClock
    kid: str

    def now(self) -> int:
        return self.clock.now // 1000


def holders(count: int, *, seed: int = 7) -> list[Holder]:
    people = synthetic_people(count, seed=seed)
    return [
        Holder(
            holder_id=p["身份证号"],
            name=p["姓名"],
            claims={
                "occupation": p["从业类别"],
                "checkup_date": p["体检日期"],
                "fit": p["体检结论"] == "合格",
            },
        )
        for p in people
    ]


@pytest.fixture
def setup(node: Node, clock: DemoClock) -> Iterator[Setup]:
    service = CertificateService(node)
    service.define_template(TEMPLATE)
    service.authorize_issuer(ISSUER, ["food-health"])
    kid = service.create_key(ISSUER, not_before=clock.now // 1000 - 60)
    try:
        yield Setup(node, service, clock, kid)
    finally:
        service.close()


@dataclass
class Run:
    """Exit code and output of one CLI command."""

    code: int
    out: str
    err: str


Runner = Callable[..., Run]


@pytest.fixture
def govchain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    """Run `govchain ARGS` in this process through `main`, as a shell would.

    `main` maps errors to exit codes, so the codes and messages are the ones a
    user gets. GOVCHAIN_HOME is unset unless a test passes --home.
    """
    monkeypatch.delenv(HOME_ENV, raising=False)

    def run(*args: str) -> Run:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["govchain", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        code = exited.value.code
        return Run(code if isinstance(code, int) else 1, captured.out, captured.err)

    return run
