"""Certificate operations on a node: registry, signing keys, issuance, status.

Writes are transactions signed by the department that acts: the operator
defines templates and authorizes issuers, an issuer registers its keys,
issues certificates and changes their status. Issuance signs each
certificate with the issuer's certificate key, records a batch of hashes on
the ledger in one transaction per `MAX_BATCH` certificates, and then files
the holders in this node's holder index.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govchain.certs import qrtext
from govchain.certs._handlers import KEY_NS, MAX_BATCH, TEMPLATE_NS
from govchain.certs.cose import sign1
from govchain.certs.cwt import CERT_ID_BYTES, CertificateClaims, encode_claims
from govchain.certs.errors import CertificateError
from govchain.certs.index import HolderEntry, HolderIndex, mask_id, mask_name
from govchain.certs.keys import CertSigner
from govchain.certs.registry import registry_records, revocation_entries
from govchain.certs.revocation import REVOCATION_DOMAIN, REVOCATION_FORMAT
from govchain.certs.templates import check_claims
from govchain.certs.trust import TRUST_LIST_DOMAIN, TRUST_LIST_FORMAT, sign_document
from govchain.crypto.keys import SigningKey, b64, read_key_store, write_key_store
from govchain.errors import ConfigError, PolicyError, ValidationError
from govchain.identifiers import FORMATS
from govchain.identifiers.exceptions import InvalidIdentifier
from govchain.node._node import Node, Receipt

logger = logging.getLogger(__name__)

DAY_S = 86_400
#: Maximum length of a holder's name, in characters, so that a wrong column or
#: a pasted paragraph is rejected instead of clipped on the card.
# NOTE: 64 is a chosen limit, not measured against the card's layout.
MAX_NAME_CHARS = 64


#: Rejection reasons of the certificate handlers that are rules, not bad input.
POLICY_REASONS = frozenset(
    {"not-issuer", "not-authorized", "not-owner", "bad-key", "revoked", "not-operator"}
)


def _applied(receipt: Receipt) -> Receipt:
    if receipt.applied:
        return receipt
    if receipt.reason in POLICY_REASONS:
        raise PolicyError(receipt.message, reason=receipt.reason)
    raise ValidationError(receipt.message, reason=receipt.reason)


def operator_of(node: Node) -> str:
    config = node.store.get("consortium", "config")
    assert config is not None
    return str(config["consortium"]["operator"])


@dataclass(frozen=True)
class Holder:
    """The person or business a certificate is issued to, and its claims.

    `holder_id` is the ID number (or credit code) as typed; it is validated,
    normalized and then used only for the pseudonym and the holder index.
    """

    holder_id: str
    name: str
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IssuedCertificate:
    """A signed certificate as the issuer hands it out."""

    qr_text: str
    claims: CertificateClaims
    hash: str
    kid: str
    title: str
    labels: dict[str, str]

    @property
    def id(self) -> str:
        return self.claims.id


class CertificateService:
    """Certificate operations of one node; keeps decrypted signing keys in memory."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._index: HolderIndex | None = None
        self._signers: dict[str, CertSigner] = {}
        self._lock = threading.Lock()

    @property
    def index(self) -> HolderIndex:
        with self._lock:
            if self._index is None:
                self._index = HolderIndex(self.node.home)
            return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()

    # -- registry (operator) --------------------------------------------------

    def define_template(self, template: dict[str, Any]) -> int:
        """Define a certificate type or its next version; return the version."""
        _applied(
            self.node.act(
                operator_of(self.node), "cert.define_template", {"template": template}
            )
        )
        record = self.node.store.get(TEMPLATE_NS, template["id"])
        assert record is not None
        return int(record["current"])

    def authorize_issuer(self, department: str, types: Sequence[str]) -> Receipt:
        return _applied(
            self.node.act(
                operator_of(self.node),
                "cert.authorize_issuer",
                {"department": department, "types": list(types)},
            )
        )

    # -- signing keys (issuer) --------------------------------------------------

    def _key_path(self, issuer: str, kid: str) -> Path:
        return self.node.home.keys_dir / "certs" / f"{issuer}-{kid}.json"

    def _passphrase(self) -> str | None:
        encrypted = self.node.home.settings().get("encrypted_keys", True)
        return self.node.home.passphrase if encrypted else None

    def create_key(
        self,
        issuer: str,
        *,
        valid_days: int = 365,
        not_before: int | None = None,
        replaces: str | None = None,
    ) -> str:
        """Generate a certificate signing key for `issuer`, register it, return its kid.

        The key store is written first, under a name the ledger does not know
        yet, so a crash leaves at most an unused file. With `replaces`, the old
        key stops signing when the new one starts.
        """
        start = int(time.time()) if not_before is None else not_before
        signer = CertSigner(SigningKey.generate())
        kid = signer.public.kid.hex()
        path = self._key_path(issuer, kid)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        write_key_store(
            path,
            signer.signing_key,
            passphrase=self._passphrase(),
            label=f"{issuer} certificates",
        )
        payload: dict[str, Any] = {
            "kid": kid,
            "public_key": b64(signer.public.spki),
            "not_before": start,
            "not_after": start + valid_days * DAY_S,
        }
        if replaces:
            payload["replaces"] = replaces
        receipt = self.node.act(issuer, "cert.register_key", payload)
        if not receipt.applied:
            path.unlink(missing_ok=True)
            _applied(receipt)
        logger.info("certificate key %s of %s registered", kid, issuer)
        return kid

    def revoke_key(self, department: str, kid: str, reason: str) -> Receipt:
        receipt = _applied(
            self.node.act(department, "cert.revoke_key", {"kid": kid, "reason": reason})
        )
        self._signers = {
            k: v for k, v in self._signers.items() if v.public.kid.hex() != kid
        }
        logger.info("certificate key %s revoked by %s", kid, department)
        return receipt

    def signer(self, issuer: str, *, at: int) -> CertSigner:
        """Return the issuer's key that may sign at unix time `at`, from its key store."""
        candidates = [
            record
            for _kid, record in self.node.store.scan(KEY_NS)
            if record["issuer"] == issuer
            and record["status"] == "active"
            and record["not_before"] <= at <= record["not_after"]
            and self._key_path(issuer, record["kid"]).exists()
        ]
        if not candidates:
            raise ConfigError(
                f"{issuer} has no active certificate key on this node valid at {at}; "
                f"create one with `govchain cert key create --as {issuer}`"
            )
        record = max(candidates, key=lambda r: r["not_before"])
        cached = self._signers.get(issuer)
        if cached is not None and cached.public.kid.hex() == record["kid"]:
            return cached
        key = read_key_store(
            self._key_path(issuer, record["kid"]), passphrase=self._passphrase()
        )
        signer = CertSigner(key)
        self._signers[issuer] = signer
        return signer

    # -- issuance -----------------------------------------------------------------

    def issue(
        self,
        issuer: str,
        cert_type: str,
        holders: Sequence[Holder],
        *,
        now: int | None = None,
        valid_days: int | None = None,
    ) -> list[IssuedCertificate]:
        """Sign certificates for `holders`, record them on the ledger and index them.

        Every holder is checked before anything is signed or recorded. A bad
        holder (an invalid ID number, a claim that does not fit the template)
        rejects the call with its position, and nothing is recorded. Each
        ledger transaction records up to `MAX_BATCH` certificates whole.
        """
        at = int(time.time()) if now is None else now
        record = self.node.store.get(TEMPLATE_NS, cert_type)
        if record is None:
            raise ValidationError(
                f"certificate type {cert_type!r} is not defined",
                reason="unknown-template",
            )
        template = record["versions"][str(record["current"])]
        days = template["validity_days"] if valid_days is None else valid_days
        if not 0 < days <= template["validity_days"]:
            raise ValidationError(
                f"validity of {days} days is outside 1 to {template['validity_days']} "
                f"for type {cert_type}",
                reason="bad-payload",
            )
        prepared = [
            self._prepare(template, i, h, issuer) for i, h in enumerate(holders)
        ]
        signer = self.signer(issuer, at=at)
        issued: list[IssuedCertificate] = []
        index_rows: list[tuple[bytes, HolderEntry]] = []
        labels = {c["name"]: c["label"] for c in template["claims"]}
        for subject, lookup_key, claims in prepared:
            cwt = CertificateClaims(
                issuer=issuer,
                issued_at=at,
                expires_at=at + days * DAY_S,
                subject=subject,
                cert_id=os.urandom(CERT_ID_BYTES),
                type=cert_type,
                template_version=template["version"],
                claims=claims,
            )
            cose = sign1(encode_claims(cwt), signer)
            issued.append(
                IssuedCertificate(
                    qr_text=qrtext.pack(cose),
                    claims=cwt,
                    hash=hashlib.sha256(cose).hexdigest(),
                    kid=signer.public.kid.hex(),
                    title=template["title"],
                    labels=labels,
                )
            )
            index_rows.append(
                (
                    lookup_key,
                    HolderEntry(
                        cwt.id,
                        issuer,
                        cert_type,
                        mask_name(claims["name"]),
                        cwt.issued_at,
                        cwt.expires_at,
                    ),
                )
            )
        self._record(issuer, issued)
        # NOTE: the index is written after the ledger commit; a crash between the
        # two leaves certificates that verify but are not found by ID number.
        self.index.add(index_rows)
        logger.info("%s issued %d %s certificates", issuer, len(issued), cert_type)
        return issued

    def _prepare(
        self, template: dict[str, Any], position: int, holder: Holder, issuer: str
    ) -> tuple[str, bytes, dict[str, Any]]:
        where = f"holder {position + 1}"
        try:
            holder_id = FORMATS[template["holder_id"]].validate(holder.holder_id)
        except InvalidIdentifier as exc:
            raise ValidationError(
                f"{where}: the holder's {template['holder_id']} is invalid ({exc.reason}); "
                "check it against the identity document",
                reason="bad-holder",
            ) from exc
        name = holder.name.strip()
        if len(name) > MAX_NAME_CHARS:
            # The length only: a name never appears in a message.
            raise ValidationError(
                f"{where}: the name has {len(name)} characters, more than the "
                f"{MAX_NAME_CHARS} a certificate card shows",
                reason="bad-holder",
            )
        claims = {
            **holder.claims,
            "name": name,
            "id_masked": mask_id(holder_id),
        }
        try:
            check_claims(template, claims)
        except CertificateError as exc:
            raise ValidationError(f"{where}: {exc}", reason="bad-claims") from exc
        index = self.index
        return index.subject_id(issuer, holder_id), index.lookup_key(holder_id), claims

    def _record(self, issuer: str, issued: list[IssuedCertificate]) -> None:
        txs = []
        for start in range(0, len(issued), MAX_BATCH):
            batch = [
                {
                    "id": c.id,
                    "hash": c.hash,
                    "type": c.claims.type,
                    "version": c.claims.template_version,
                    "kid": c.kid,
                    "iat": c.claims.issued_at,
                    "exp": c.claims.expires_at,
                }
                for c in issued[start : start + MAX_BATCH]
            ]
            txs.append(self.node.sign(issuer, "cert.issue", {"certificates": batch}))
        for receipt in self.node.submit(txs):
            _applied(receipt)

    # -- status ---------------------------------------------------------------------

    def set_status(
        self, issuer: str, cert_id: str, status: str, reason: str
    ) -> Receipt:
        """Suspend (`suspended`), reinstate (`valid`) or revoke (`revoked`) a certificate."""
        receipt = _applied(
            self.node.act(
                issuer,
                "cert.set_status",
                {"id": cert_id.lower(), "status": status, "reason": reason},
            )
        )
        logger.info("certificate %s set to %s by %s", cert_id, status, issuer)
        return receipt

    def lookup(
        self,
        holder_id: str,
        *,
        requester: str,
        client: str,
        id_format: str = "cn-resident-id",
    ) -> list[HolderEntry]:
        """Find certificates by ID number; the lookup is recorded, the number is not."""
        try:
            normalized = FORMATS[id_format].validate(holder_id)
        except InvalidIdentifier as exc:
            raise ValidationError(
                f"the {id_format} given is invalid ({exc.reason}); check it against "
                "the identity document",
                reason="bad-holder",
            ) from exc
        return self.index.find(normalized, requester=requester, client=client)

    # -- exports ----------------------------------------------------------------------

    def _operator_key(self) -> tuple[str, SigningKey]:
        operator = operator_of(self.node)
        key = self.node.dept_keys.get(operator)
        if key is None:
            raise ConfigError(
                f"the operator {operator} is not hosted on this node, so its trust "
                "and revocation lists cannot be signed here; export them on the "
                "operator's node"
            )
        return operator, key

    def trust_list(self) -> dict[str, Any]:
        """Return the registry as a trust list signed by the operator."""
        operator, key = self._operator_key()
        body = {
            "format": TRUST_LIST_FORMAT,
            "origin": self.node.origin,
            "issued_at": int(time.time()),
            "log_size": self.node.store.log_size(),
            **registry_records(self.node.store),
        }
        return sign_document(
            body, signer_dept=operator, key=key, domain=TRUST_LIST_DOMAIN
        )

    def revocation_list(self, since: int = 0) -> dict[str, Any]:
        """Return the revocation entries from sequence `since` on, signed by the operator."""
        operator, key = self._operator_key()
        entries = revocation_entries(self.node.store, since)
        counter = self.node.store.get("certmeta", "revocations") or {"next": 0}
        body = {
            "format": REVOCATION_FORMAT,
            "origin": self.node.origin,
            "issued_at": int(time.time()),
            "since": since,
            "until": counter["next"],
            "entries": [
                {
                    "seq": e.seq,
                    "cert_hash": e.cert_hash,
                    "status": e.status,
                    "at": e.at,
                    "reason": e.reason,
                }
                for e in entries
            ],
        }
        return sign_document(
            body, signer_dept=operator, key=key, domain=REVOCATION_DOMAIN
        )
