"""Evidence bundles count checkpoint signatures only from node and witness keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.cli_support import run_govchain

from govchain.crypto.keys import SigningKey
from govchain.errors import ConfigError, VerificationError
from govchain.evidence import export_bundle, read_trust_file, verify_bundle
from govchain.evidence.keys import ledger_keys, trust_file_text
from govchain.ledger import merkle
from govchain.ledger.canonical import canonical_json
from govchain.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier, sign_note
from govchain.ledger.entry import entry_dict
from govchain.ledger.transaction import sign_transaction
from govchain.node import Node

OPERATOR = "city-bdb"
#: A department admitted after genesis, with a signing key of its own.
OUTSIDER = "tianhe-cdc"
OUTSIDER_KEY = SigningKey.generate()


def _admit_outsider(node: Node) -> None:
    receipt = node.act(
        OPERATOR,
        "consortium.admit",
        {
            "department": {
                "id": OUTSIDER,
                "name": "天河区疾病预防控制中心",
                "region": "440106",
                "level": "county",
                "line": "health",
            },
            "public_key": OUTSIDER_KEY.public_key.to_b64(),
        },
    )
    assert receipt.applied, receipt.message


@pytest.fixture
def exported(node: Node, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """A real bundle of an applied transaction and the ledger's trust file."""
    _admit_outsider(node)
    receipt = node.act(
        "city-health",
        "catalog.register",
        {"title": "床位", "level": 1, "sharing": "unconditional"},
    )
    node.act(
        "city-market", "catalog.register", {"title": "x", "level": 9, "sharing": "x"}
    )
    bundle = export_bundle(node.store, receipt.tx_id, ledger_keys(node.store))
    trust = tmp_path / "trust.keys"
    trust.write_text(trust_file_text(node.store), "utf-8")
    return bundle, trust


def _forged_bundle(origin: str, dept: str, key: SigningKey) -> dict[str, Any]:
    """Build a one-entry log that `dept` made up and signed with its own key."""
    tx = sign_transaction(
        type="catalog.register",
        dept=dept,
        key=key,
        nonce=1,
        payload={"title": "伪造", "level": 1, "sharing": "unconditional"},
    )
    entry = entry_dict(
        tx.canonical_bytes(),
        height=1,
        time=1_772_413_200_000,
        status="applied",
        reason="",
    )
    root = merkle.hash_leaf(canonical_json(entry))
    note = sign_note(Checkpoint(origin, 1, root).body(), [NoteSigner(dept, key)])
    return {
        "format": "govchain-evidence/v1",
        "origin": origin,
        "tx_id": tx.id,
        "entry": entry,
        "leaf_index": 0,
        "tree_size": 1,
        "inclusion_proof": [],
        "checkpoint": note.decode("utf-8"),
        "keys": {dept: NoteVerifier(dept, key.public_key).vkey()},
    }


def _only_node_signature(bundle: dict[str, Any]) -> dict[str, Any]:
    """Return `bundle` with every checkpoint signature removed but the node's."""
    body, signatures = bundle["checkpoint"].split("\n\n", 1)
    kept = [line for line in signatures.splitlines() if line.startswith("— node-")]
    assert len(kept) == 1
    return {**bundle, "checkpoint": body + "\n\n" + kept[0] + "\n"}


def test_trust_file_roles(exported: tuple[dict[str, Any], Path], node: Node) -> None:
    _bundle, trust = exported
    trusted = read_trust_file(trust)
    assert trusted.origin == node.origin
    assert trusted.witness_threshold == 2
    assert [v.name for v in trusted.nodes] == [node.home.node_id]
    witnesses = {v.name for v in trusted.witnesses}
    assert witnesses == set(node.home.hosts)
    assert OUTSIDER not in witnesses
    assert OUTSIDER in {v.name for v in trusted.departments}
    assert node.home.node_id not in {v.name for v in trusted.departments}
    assert {v.name for v in trusted} == {node.home.node_id} | witnesses


def test_trust_file_with_bom_and_tabs(
    exported: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    bundle, trust = exported
    edited = tmp_path / "edited.keys"
    text = trust.read_text("utf-8")
    lines = [line.replace(" ", "\t", 1) for line in text.splitlines()]
    edited.write_text("\ufeff" + "\n".join(lines) + "\n", "utf-8")
    result = verify_bundle(bundle, read_trust_file(edited))
    assert result["status"] == "applied"


def test_real_bundle_verifies(exported: tuple[dict[str, Any], Path]) -> None:
    bundle, trust = exported
    result = verify_bundle(bundle, read_trust_file(trust))
    assert result["status"] == "applied"
    assert result["checkpoint_signers"][0].startswith("node-")
    assert len(result["checkpoint_signers"]) == 10
    raised = verify_bundle(bundle, read_trust_file(trust), min_signatures=9)
    assert raised["tree_size"] == result["tree_size"]


def test_min_signatures_raises_threshold(
    exported: tuple[dict[str, Any], Path],
) -> None:
    bundle, trust = exported
    with pytest.raises(VerificationError, match="fewer than the 10 required"):
        verify_bundle(bundle, read_trust_file(trust), min_signatures=10)


def test_min_signatures_cannot_lower_threshold(
    exported: tuple[dict[str, Any], Path],
) -> None:
    bundle, trust = exported
    stripped = _only_node_signature(bundle)
    with pytest.raises(VerificationError, match="fewer than the 2 required"):
        verify_bundle(stripped, read_trust_file(trust), min_signatures=1)


def test_node_signature_alone_rejected(
    exported: tuple[dict[str, Any], Path],
) -> None:
    bundle, trust = exported
    with pytest.raises(VerificationError) as caught:
        verify_bundle(_only_node_signature(bundle), read_trust_file(trust))
    message = str(caught.value)
    assert "0 witness cosignatures, fewer than the 2 required" in message
    assert "node-city-bdb (node key, counted)" in message


def test_outsider_forged_log_rejected(
    exported: tuple[dict[str, Any], Path], node: Node
) -> None:
    _bundle, trust = exported
    forged = _forged_bundle(node.origin, OUTSIDER, OUTSIDER_KEY)
    with pytest.raises(VerificationError) as caught:
        verify_bundle(forged, read_trust_file(trust), min_signatures=1)
    message = str(caught.value)
    assert "no node or witness key" in message
    assert f"{OUTSIDER} (department key: it signs transactions" in message
    assert "only these keys may sign checkpoints: nodes node-city-bdb" in message


def test_witness_forged_log_rejected(
    exported: tuple[dict[str, Any], Path], node: Node
) -> None:
    # A witness that signs a log alone, without the node, proves nothing.
    _bundle, trust = exported
    witness = "city-market"
    forged = _forged_bundle(node.origin, witness, node.dept_keys[witness])
    with pytest.raises(VerificationError) as caught:
        verify_bundle(forged, read_trust_file(trust))
    message = str(caught.value)
    assert "no node key signed the checkpoint" in message
    assert f"{witness} (witness key, counted)" in message


def test_bundle_of_other_ledger_rejected(
    exported: tuple[dict[str, Any], Path],
) -> None:
    _bundle, trust = exported
    forged = _forged_bundle("govchain.example/other", OUTSIDER, OUTSIDER_KEY)
    with pytest.raises(VerificationError, match="but the trust file is for"):
        verify_bundle(forged, read_trust_file(trust))


def test_old_trust_file_rejected(node: Node, tmp_path: Path) -> None:
    old = tmp_path / "old.keys"
    keys = ledger_keys(node.store)
    old.write_text(
        "# verifier keys\n"
        + "".join(f"{NoteVerifier(n, k).vkey()}\n" for n, k in sorted(keys.items()))
    )
    with pytest.raises(ConfigError) as caught:
        read_trust_file(old)
    message = str(caught.value)
    assert "line 2: this trust file lists bare verifier keys" in message
    assert "govchain keys --out FILE" in message


def _first(text: str, role: str) -> str:
    """Return the verifier key of the first `role` line of trust file `text`."""
    return next(x for x in text.splitlines() if x.startswith(role)).split()[1]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("witness-threshold 2\n", ""), "no witness-threshold"),
        (lambda t: t.replace("threshold 2", "threshold 0"), "from 1 to 1000"),
        (lambda t: t.replace("threshold 2", "threshold \uff12"), "from 1 to 1000"),
        (lambda t: t.replace("format govchain-trust/v2\n", ""), "format line"),
        (
            lambda t: "\n".join(x for x in t.splitlines() if not x.startswith("node ")),
            "lists no node key",
        ),
        (lambda t: t + "signer x+0000+AA\n", "unknown entry 'signer'"),
        (lambda t: t + "node x+00000000+AA\n", "not a verifier key"),
        (
            lambda t: t + "department " + _first(t, "node ") + "\n",
            "the department key .* is the same key as the node key",
        ),
        (
            lambda t: t + "witness " + _first(t, "witness ") + "\n",
            "the witness key .* is the same key as the witness key",
        ),
    ],
    ids=[
        "no threshold",
        "zero threshold",
        "full-width threshold",
        "no format",
        "no node",
        "unknown",
        "bad",
        "node key as department",
        "witness twice",
    ],
)
def test_trust_file_errors(
    exported: tuple[dict[str, Any], Path],
    tmp_path: Path,
    change: Any,
    expected: str,
) -> None:
    _bundle, trust = exported
    broken = tmp_path / "broken.keys"
    broken.write_text(change(trust.read_text("utf-8")))
    with pytest.raises(ConfigError, match=expected):
        read_trust_file(broken)


def test_cli_verify_explains_rejection(
    exported: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    bundle, trust = exported
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_only_node_signature(bundle), ensure_ascii=False))
    done = run_govchain("evidence", "verify", str(path), "--trust", str(trust))
    assert done.returncode == 1, done.stdout
    assert "fewer than the 2 required" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_min_signatures_below_threshold(
    exported: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    bundle, trust = exported
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    args = ("evidence", "verify", str(path), "--trust", str(trust))
    low = run_govchain(*args, "--min-signatures", "1")
    assert low.returncode == 2
    assert "below the witness threshold 2" in low.stderr
    high = run_govchain(*args, "--min-signatures", "3", "--json")
    assert high.returncode == 0, high.stderr
    assert json.loads(high.stdout)["ok"] is True


def test_cli_old_trust_file_rejected(
    exported: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    bundle, _trust = exported
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    old = tmp_path / "old.keys"
    old.write_text(bundle["keys"][next(iter(bundle["keys"]))] + "\n")
    done = run_govchain("evidence", "verify", str(path), "--trust", str(old))
    assert done.returncode == 2
    assert "bare verifier keys" in done.stderr
    assert "govchain keys --out FILE" in done.stderr


def test_cli_export_missing_folder(
    exported: tuple[dict[str, Any], Path], node: Node, tmp_path: Path
) -> None:
    bundle, _trust = exported
    out = tmp_path / "missing" / "x.json"
    done = run_govchain(
        "--home",
        str(node.home.path),
        "evidence",
        "export",
        bundle["tx_id"],
        "--out",
        str(out),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"folder {out.parent} does not exist" in done.stderr
    assert not out.parent.exists()
