"""Verifier keys of a ledger: every key a node or department ever signed with.

Keys have two roles. Node keys and witness keys sign checkpoints. Department
keys sign transactions. The witnesses are the departments whose keys the
genesis transaction installs: the node that created the ledger hosts them and
cosigns every checkpoint with their keys. The key of a department admitted
later, or of any department the genesis node did not host, never counts for a
checkpoint.
"""

from __future__ import annotations

import json

from govchain.crypto.keys import PublicKey
from govchain.evidence.trust import TrustedKeys
from govchain.ledger.checkpoint import NoteVerifier
from govchain.ledger.store import LedgerStore

_KEY_TYPES = ("consortium.genesis", "consortium.admit", "consortium.rotate_key")
_GENESIS_TYPE = "consortium.genesis"

NameKey = tuple[str, PublicKey]


def ledger_keys(store: LedgerStore) -> dict[str, PublicKey]:
    """Return `{name: key}` for current keys of the nodes and departments."""
    keys: dict[str, PublicKey] = {}
    for ns in ("node", "dept"):
        for name, record in store.scan(ns):
            if record.get("public_key"):
                keys[name] = PublicKey.from_b64(record["public_key"])
    return keys


def historical_keys(store: LedgerStore) -> list[NameKey]:
    """Return every `(name, key)` that membership transactions ever installed."""
    nodes, departments, _witnesses = _membership_keys(store)
    found = {**nodes, **departments}
    return [(name, key) for (name, _kid), key in sorted(found.items())]


def trusted_keys(store: LedgerStore) -> TrustedKeys:
    """Return the ledger's keys by role, current and past, with its witness threshold."""
    nodes, departments, witnesses = _membership_keys(store)
    config = store.get("consortium", "config") or {}
    header = config.get("consortium", {})
    return TrustedKeys(
        origin=str(header.get("origin", "")),
        witness_threshold=max(1, int(header.get("witness_threshold", 1))),
        nodes=_verifiers(nodes),
        witnesses=_verifiers(
            {slot: key for slot, key in departments.items() if slot[0] in witnesses}
        ),
        departments=_verifiers(departments),
    )


def trust_file_text(store: LedgerStore) -> str:
    """Render the trust file of the ledger (see `govchain.evidence.trust`)."""
    return trusted_keys(store).to_text()


def _verifiers(keys: dict[tuple[str, str], PublicKey]) -> list[NoteVerifier]:
    return [NoteVerifier(name, key) for (name, _kid), key in sorted(keys.items())]


def _membership_keys(
    store: LedgerStore,
) -> tuple[
    dict[tuple[str, str], PublicKey], dict[tuple[str, str], PublicKey], set[str]
]:
    """Collect node keys, department keys and witness names from the ledger.

    Keys are indexed by `(name, kid)`, so a rotated key stays listed beside
    its successor and checkpoints signed before the rotation still verify.
    """
    nodes: dict[tuple[str, str], PublicKey] = {}
    departments: dict[tuple[str, str], PublicKey] = {}
    witnesses: set[str] = set()
    for ns, found in (("node", nodes), ("dept", departments)):
        for name, record in store.scan(ns):
            if record.get("public_key"):
                key = PublicKey.from_b64(record["public_key"])
                found[(name, key.kid)] = key
    rows = store.db.execute(
        "SELECT type, data FROM txs WHERE status = 'applied' AND type IN (?, ?, ?) "
        "ORDER BY seq",
        _KEY_TYPES,
    ).fetchall()
    for tx_type, data in rows:
        payload = json.loads(data)["payload"]
        for name, record in payload.get("nodes", {}).items():
            key = PublicKey.from_b64(record["public_key"])
            nodes[(name, key.kid)] = key
        if "keys" in payload:
            for name, record in payload["keys"].items():
                key = PublicKey.from_b64(record["public_key"])
                departments[(name, key.kid)] = key
                if tx_type == _GENESIS_TYPE:
                    witnesses.add(name)
        elif "public_key" in payload:
            dept = payload["department"]
            name = dept["id"] if isinstance(dept, dict) else dept
            key = PublicKey.from_b64(payload["public_key"])
            departments[(name, key.kid)] = key
    return nodes, departments, witnesses
