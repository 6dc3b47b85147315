"""The demo's certificate step: food-service workers' health certificates.

1. The operator admits a hospital, defines the health certificate type and
   authorizes the hospital to issue it; the hospital registers a signing key.
2. The hospital issues certificates to the workers whose check-up passed
   (synthetic people from `govchain.demo.people`) and prints one card.
3. An inspector of market regulation verifies one certificate offline from its
   QR image, against a trust list the operator signed, and looks another up by
   ID number (seeing a masked name only).
4. The hospital revokes one certificate; the inspector's offline check fails
   with the reason once the revocation list is downloaded.
5. Market regulation lists the statuses from the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from govchain.certs import (
    CertificateService,
    Holder,
    card_pdf,
    certificate_status,
    decode_image_file,
    qr_png,
    read_revocation_list,
    read_trust_list,
    verify_text,
)
from govchain.certs.service import operator_of
from govchain.demo.people import synthetic_people
from govchain.node import Node

HOSPITAL = "yuexiu-demo-hospital"
INSPECTOR = "city-market"
TYPE = "food-health"
TEMPLATE: dict[str, Any] = {
    "id": TYPE,
    "title": "食品从业人员健康证明",
    "validity_days": 365,
    "holder_id": "cn-resident-id",
    "claims": [
        {"name": "occupation", "type": "string", "label": "从业类别"},
        {"name": "checkup_date", "type": "date", "label": "体检日期"},
        {"name": "result", "type": "string", "label": "体检结论"},
    ],
}
WORKERS = 12


def _admit_hospital(node: Node) -> None:
    if node.store.get("dept", HOSPITAL) is not None:
        return
    key = node.host_department(HOSPITAL)
    admission = {
        "department": {
            "id": HOSPITAL,
            "name": "越秀区示范医院（演示）",
            "region": "440104",
            "level": "county",
            "line": "health",
        },
        "public_key": key.public_key.to_b64(),
    }
    receipt = node.act(operator_of(node), "consortium.admit", admission)
    assert receipt.applied, receipt.message


def play_certificates(node: Node, console: Console, now: Callable[[], int]) -> str:
    """Play the health-certificate flow and return a one-line outcome.

    `now` returns the demo clock in unix seconds.
    """
    console.rule("electronic certificates: food-service workers' health certificates")
    service = CertificateService(node)
    try:
        return _play(node, service, console, now)
    finally:
        service.close()


def _play(
    node: Node, service: CertificateService, console: Console, now: Callable[[], int]
) -> str:
    say = console.print
    # 1. Registry: hospital, certificate type, authorization, signing key.
    _admit_hospital(node)
    version = service.define_template(TEMPLATE)
    service.authorize_issuer(HOSPITAL, [TYPE])
    kid = service.create_key(HOSPITAL, not_before=now() - 60)
    say(
        f"operator defined {TEMPLATE['id']} v{version} and authorized {HOSPITAL}; "
        f"its signing key {kid} is on the ledger"
    )

    # 2. Issue to the workers whose check-up passed.
    people = [p for p in synthetic_people(WORKERS, seed=55) if p["体检结论"] == "合格"]
    holders = [
        Holder(
            p["身份证号"],
            p["姓名"],
            {
                "occupation": p["从业类别"],
                "checkup_date": p["体检日期"],
                "result": p["体检结论"],
            },
        )
        for p in people
    ]
    issued = service.issue(HOSPITAL, TYPE, holders, now=now())
    folder = node.home.path / "certs" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    first = issued[0]
    image = folder / f"{first.id}.png"
    image.write_bytes(qr_png(first.qr_text))
    dept = node.store.get("dept", HOSPITAL) or {}
    (folder / f"{first.id}.pdf").write_bytes(
        card_pdf(first, issuer_name=dept.get("name", ""))
    )
    say(
        f"{HOSPITAL} issued {len(issued)} certificates (QR text of {len(first.qr_text)} "
        f"characters); card and QR image of the first in {folder}"
    )

    # 3. Inspector: offline check from the QR image, then a lookup by ID number.
    trust_list = service.trust_list()
    operator = node.store.get("dept", operator_of(node)) or {}
    trust = read_trust_list(trust_list, operator_key=operator.get("public_key"))
    verdict = verify_text(decode_image_file(image), trust, at=now())
    say(f"inspector scans {image.name}: {'VALID' if verdict.valid else 'INVALID'}")
    found = service.lookup(people[1]["身份证号"], requester=INSPECTOR, client="demo")
    for entry in found:
        say(
            f"inspector looks up a worker by ID number: {entry.masked_name}, "
            f"{entry.type} by {entry.issuer}, certificate {entry.cert_id}"
        )

    # 4. The hospital revokes one; the offline check fails once the list is fetched.
    revoked = issued[-1]
    service.set_status(HOSPITAL, revoked.id, "revoked", "holder-unfit")
    trust.apply_revocations(
        read_revocation_list(
            service.revocation_list(), operator_key=operator.get("public_key")
        )
    )
    refused = verify_text(revoked.qr_text, trust, at=now())
    # The message names the status, date and reason, so the summary is left out.
    say(
        f"after revocation the inspector's check says: INVALID ({refused.code}): "
        f"{refused.message}"
    )

    # 5. Market regulation reads the statuses from the ledger.
    table = RichTable(title="certificate statuses seen by market regulation")
    for column in ("certificate", "type", "issuer", "status"):
        table.add_column(column)
    statuses: dict[str, int] = {}
    for cert in issued:
        record = certificate_status(node.store, cert.id, now=now())
        statuses[record["status"]] = statuses.get(record["status"], 0) + 1
        table.add_row(cert.id, record["type"], record["issuer"], record["status"])
    console.print(table)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    return (
        f"{len(issued)} issued ({counts}); QR image check "
        f"{'valid' if verdict.valid else 'invalid'}; {len(found)} found by ID number; "
        f"revoked certificate rejected offline: {refused.code}"
    )
