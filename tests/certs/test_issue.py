"""Issuance, status and lookup on a real node, and verification of what it issued."""

from __future__ import annotations

import json

import pytest
from tests.certs.conftest import ISSUER, OTHER, Setup, holders

from govchain.certs import card_pdf, decode_image_bytes, qr_png, qr_svg
from govchain.certs.cose import sign1
from govchain.certs.cwt import encode_claims
from govchain.certs.qrtext import pack
from govchain.certs.registry import (
    certificate_status,
    operator_key_of,
    trust_from_state,
)
from govchain.certs.revocation import read_revocation_list
from govchain.certs.service import Holder
from govchain.certs.trust import read_trust_list
from govchain.certs.verify import verify_text
from govchain.errors import PolicyError, ValidationError, VerificationError


def _ledger_bytes(setup: Setup) -> bytes:
    db = setup.node.store.reader
    rows = db.execute("SELECT data FROM txs").fetchall()
    state = db.execute("SELECT value FROM state").fetchall()
    return b"".join(bytes(r[0]) for r in rows) + b"".join(bytes(r[0]) for r in state)


def test_issue_verifies_offline(setup: Setup) -> None:
    issued = setup.service.issue(ISSUER, "food-health", holders(3), now=setup.now())
    trust = trust_from_state(setup.node.store)
    for cert in issued:
        verdict = verify_text(cert.qr_text, trust, at=setup.now())
        assert verdict.valid, verdict.message
        assert verdict.claims is not None
        assert verdict.claims.type == "food-health"


def test_issue_keeps_personal_data_off_ledger(setup: Setup) -> None:
    people = holders(3)
    setup.service.issue(ISSUER, "food-health", people, now=setup.now())
    ledger = _ledger_bytes(setup)
    for person in people:
        assert person.holder_id.encode() not in ledger
        assert json.dumps(person.name).encode() not in ledger
        assert person.name.encode() not in ledger


def test_issue_bad_holder_records_nothing(setup: Setup) -> None:
    people = holders(3)
    broken = Holder("110101199003070000", "王某", people[0].claims)
    before = setup.node.store.log_size()
    with pytest.raises(ValidationError) as caught:
        setup.service.issue(ISSUER, "food-health", [*people, broken], now=setup.now())
    assert "holder 4" in str(caught.value)
    assert "110101199003070000" not in str(caught.value)
    assert setup.node.store.log_size() == before


def test_issue_claim_mismatch_rejected(setup: Setup) -> None:
    person = holders(1)[0]
    bad = Holder(person.holder_id, person.name, {**person.claims, "fit": "yes"})
    with pytest.raises(ValidationError) as caught:
        setup.service.issue(ISSUER, "food-health", [bad], now=setup.now())
    assert "claim fit is not a valid boolean" in str(caught.value)


def test_issue_unauthorized_issuer_rejected(setup: Setup) -> None:
    with pytest.raises(PolicyError):
        setup.service.create_key(OTHER, not_before=setup.now())


def test_status_revoke_fails_verification(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    setup.service.set_status(ISSUER, cert.id, "revoked", "holder-unfit")
    status = certificate_status(setup.node.store, cert.id, now=setup.now())
    assert status["status"] == "revoked"
    assert status["reason"] == "holder-unfit"
    verdict = verify_text(
        cert.qr_text, trust_from_state(setup.node.store), at=setup.now()
    )
    assert verdict.code == "revoked"
    with pytest.raises(PolicyError):
        setup.service.set_status(ISSUER, cert.id, "valid", "review-cleared")


def test_status_suspend_and_reinstate(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    setup.service.set_status(ISSUER, cert.id, "suspended", "under-review")
    trust = trust_from_state(setup.node.store)
    assert verify_text(cert.qr_text, trust, at=setup.now()).code == "suspended"
    setup.service.set_status(ISSUER, cert.id, "valid", "review-cleared")
    trust = trust_from_state(setup.node.store)
    assert verify_text(cert.qr_text, trust, at=setup.now()).valid


def test_status_other_department_rejected(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    with pytest.raises(PolicyError):
        setup.service.set_status(OTHER, cert.id, "revoked", "fraud")


def test_status_free_text_reason_rejected(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    with pytest.raises(ValidationError):
        setup.service.set_status(ISSUER, cert.id, "revoked", "王某 failed")


def test_status_expired_after_validity(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    later = cert.claims.expires_at + 1
    assert (
        certificate_status(setup.node.store, cert.id, now=later)["status"] == "expired"
    )
    verdict = verify_text(
        cert.qr_text, trust_from_state(setup.node.store), at=later + 600
    )
    assert verdict.code == "expired"
    assert "valid until" in verdict.message
    within_skew = verify_text(
        cert.qr_text, trust_from_state(setup.node.store), at=later
    )
    assert within_skew.valid


def test_lookup_masked_and_recorded(setup: Setup) -> None:
    person = holders(1)[0]
    cert = setup.service.issue(ISSUER, "food-health", [person], now=setup.now())[0]
    found = setup.service.lookup(
        person.holder_id.lower(), requester=OTHER, client="test"
    )
    assert [e.cert_id for e in found] == [cert.id]
    assert found[0].masked_name != person.name
    assert found[0].masked_name[0] == person.name[0]
    recorded = setup.service.index.lookups()
    assert recorded[0]["requester"] == OTHER
    assert recorded[0]["matches"] == 1
    index_file = setup.service.index.path.read_bytes()
    assert person.holder_id.encode() not in index_file


def test_lookup_invalid_id_rejected(setup: Setup) -> None:
    with pytest.raises(ValidationError) as caught:
        setup.service.lookup("110101199003070000", requester=OTHER, client="test")
    assert "110101199003070000" not in str(caught.value)


def test_key_rotation_old_certificates_verify(setup: Setup) -> None:
    old = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    new_kid = setup.service.create_key(
        ISSUER, not_before=setup.now(), replaces=setup.kid
    )
    fresh = setup.service.issue(
        ISSUER, "food-health", holders(1, seed=8), now=setup.now() + 1
    )[0]
    trust = trust_from_state(setup.node.store)
    assert fresh.kid == new_kid
    assert verify_text(old.qr_text, trust, at=setup.now()).valid
    assert verify_text(fresh.qr_text, trust, at=setup.now() + 1).valid


def test_key_used_outside_validity(setup: Setup) -> None:
    signer = setup.service.signer(ISSUER, at=setup.now())
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    record = setup.node.store.get("certkey", setup.kid)
    assert record is not None
    late = cert.claims.__class__(
        **{**cert.claims.__dict__, "issued_at": record["not_after"] + 10}
    )
    forged = pack(sign1(encode_claims(late), signer))
    verdict = verify_text(forged, trust_from_state(setup.node.store), at=late.issued_at)
    assert verdict.code == "key_not_valid"


def test_key_revoked_fails_everything(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    setup.service.revoke_key(ISSUER, setup.kid, "key-compromise")
    trust = trust_from_state(setup.node.store)
    assert verify_text(cert.qr_text, trust, at=setup.now()).code == "key_revoked"
    assert (
        certificate_status(setup.node.store, cert.id, now=setup.now())["status"]
        == "revoked"
    )


def test_template_mismatch_signed_by_valid_key(setup: Setup) -> None:
    signer = setup.service.signer(ISSUER, at=setup.now())
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    claims = {**cert.claims.claims, "blood_type": "O"}
    odd = cert.claims.__class__(**{**cert.claims.__dict__, "claims": claims})
    verdict = verify_text(
        pack(sign1(encode_claims(odd), signer)),
        trust_from_state(setup.node.store),
        at=setup.now(),
    )
    assert verdict.code == "template_mismatch"
    assert "blood_type" in verdict.message


def test_trust_list_signed_and_pinned(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    document = setup.service.trust_list()
    operator_key = document["signer"]["public_key"]
    trust = read_trust_list(json.loads(json.dumps(document)), operator_key=operator_key)
    assert verify_text(cert.qr_text, trust, at=setup.now()).valid
    document["issuers"][OTHER] = {"types": ["food-health"]}
    with pytest.raises(VerificationError):
        read_trust_list(document, operator_key=operator_key)


def test_revocation_list_incremental(setup: Setup) -> None:
    first, second = setup.service.issue(
        ISSUER, "food-health", holders(2), now=setup.now()
    )
    operator_key = operator_key_of(setup.node.store)[1]
    trust = read_trust_list(setup.service.trust_list(), operator_key=operator_key)
    setup.service.set_status(ISSUER, first.id, "revoked", "issued-in-error")
    part = setup.service.revocation_list()
    trust.apply_revocations(read_revocation_list(part, operator_key=operator_key))
    setup.service.set_status(ISSUER, second.id, "suspended", "under-review")
    more = setup.service.revocation_list(since=part["until"])
    assert len(more["entries"]) == 1
    trust.apply_revocations(read_revocation_list(more, operator_key=operator_key))
    assert verify_text(first.qr_text, trust, at=setup.now()).code == "revoked"
    assert verify_text(second.qr_text, trust, at=setup.now()).code == "suspended"


def test_images_and_card(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    assert decode_image_bytes(qr_png(cert.qr_text)) == cert.qr_text
    assert qr_svg(cert.qr_text).startswith("<svg")
    pdf = card_pdf(cert, issuer_name="广州市卫生健康委员会")
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize("curve", ["p384", "x25519"])
def test_register_key_of_unsupported_type_rejected(setup: Setup, curve: str) -> None:
    # One such transaction must be rejected by itself, not stop its block.
    import base64
    import hashlib

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, x25519

    public = (
        ec.generate_private_key(ec.SECP384R1()).public_key()
        if curve == "p384"
        else x25519.X25519PrivateKey.generate().public_key()
    )
    spki = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = {
        "kid": hashlib.sha256(spki).hexdigest()[:16],
        "public_key": base64.b64encode(spki).decode("ascii"),
        "not_before": 0,
        "not_after": 10**9,
    }
    receipt = setup.node.act(ISSUER, "cert.register_key", payload)
    assert receipt.status == "rejected"
    assert receipt.reason == "bad-payload"
