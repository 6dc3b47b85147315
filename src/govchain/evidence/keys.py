"""Verifier keys of a ledger: every key a node or department ever signed with."""

from __future__ import annotations

import json

from govchain.crypto.keys import PublicKey
from govchain.ledger.checkpoint import NoteVerifier
from govchain.ledger.store import LedgerStore

_KEY_TYPES = ("consortium.genesis", "consortium.admit", "consortium.rotate_key")


def ledger_keys(store: LedgerStore) -> dict[str, PublicKey]:
    """Return `{name: key}` for current keys of the nodes and departments."""
    keys: dict[str, PublicKey] = {}
    for ns in ("node", "dept"):
        for name, record in store.scan(ns):
            if record.get("public_key"):
                keys[name] = PublicKey.from_b64(record["public_key"])
    return keys


def historical_keys(store: LedgerStore) -> list[tuple[str, PublicKey]]:
    """Return every `(name, key)` that membership transactions ever installed."""
    found: dict[tuple[str, str], PublicKey] = {}
    for name, key in ledger_keys(store).items():
        found[(name, key.kid)] = key
    rows = store.db.execute(
        "SELECT data FROM txs WHERE status = 'applied' AND type IN (?, ?, ?) ORDER BY seq",
        _KEY_TYPES,
    ).fetchall()
    for (data,) in rows:
        payload = json.loads(data)["payload"]
        if "keys" in payload:
            for name, key in {**payload["keys"], **payload.get("nodes", {})}.items():
                public = PublicKey.from_b64(key["public_key"])
                found[(name, public.kid)] = public
        elif "public_key" in payload:
            dept = payload["department"]
            name = dept["id"] if isinstance(dept, dict) else dept
            public = PublicKey.from_b64(payload["public_key"])
            found[(name, public.kid)] = public
    return [(name, key) for (name, _kid), key in sorted(found.items())]


def trust_file_text(store: LedgerStore) -> str:
    """Render a trust file: one signed-note verifier key per line."""
    lines = [
        "# govchain trust file: verifier keys (name+key hash+base64) of the nodes and",
        "# departments of this ledger, current and past. Check them against a copy",
        "# obtained from the operator through another channel before relying on them.",
    ]
    lines += [NoteVerifier(name, key).vkey() for name, key in historical_keys(store)]
    return "\n".join(lines) + "\n"
