"""The desensitized view of a dataset that one grant allows one consumer to see.

Each delivered field is graded by the level the resource's catalog entry gives
it, or by the resource's own level when the field has none. The default policy
of `govchain.governance` then desensitizes it: level 1 passes, level 2 is
masked, level 3 identifiers are pseudonymized and quasi-identifiers
generalized. Level 4 is suppressed unless the grant names the field, in which
case it is pseudonymized. Pseudonyms are keyed per consumer, so two consumers'
copies cannot be joined on them. When the resource sets a minimum k, the
quasi-identifiers are generalized further until every class has k rows, or the
delivery is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import polars as pl
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from govchain.crypto.keys import SigningKey
from govchain.datasets import Dataset
from govchain.governance import (
    DEFAULT_POLICY,
    GeneralizeAddress,
    GeneralizeAge,
    GeneralizeDate,
    GeneralizeRegion,
    Operator,
    Policy,
    Suppress,
    apply_policy,
    enforce_k,
    plan_policy,
)
from govchain.governance.policy import FieldKind

#: HKDF `info` of the provider's pseudonym master key.
MASTER_KEY_INFO = b"govchain pseudonym master key v1"


@dataclass(frozen=True)
class Desensitized:
    """A dataset as delivered, the policy that produced it and its k-anonymity.

    `k_anonymity` is None when the resource sets no minimum k (`min_k` of 1) or no
    delivered field is a quasi-identifier; otherwise it records the k reached,
    the target, the generalization steps taken and whether the target was met.
    """

    dataset: Dataset
    policy: Policy
    operators: dict[str, str]
    k_anonymity: dict[str, Any] | None = None

    @property
    def policy_ref(self) -> str:
        """The policy as recorded on the ledger: name, version and digest."""
        return f"{self.policy.name}@{self.policy.version}:{self.policy.digest}"


def master_key(provider_key: SigningKey) -> bytes:
    """Derive the provider's pseudonym master key from its signing key.

    The key never leaves the provider's node and is as well protected as the
    signing key (encrypted at rest). Rotating the signing key changes every
    pseudonym the provider issues from then on.
    """
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=MASTER_KEY_INFO)
    return hkdf.derive(provider_key.seed())


def desensitize(
    dataset: Dataset,
    resource: dict[str, Any],
    grant: dict[str, Any],
    provider_key: SigningKey,
    *,
    policy: Policy = DEFAULT_POLICY,
) -> Desensitized:
    """Return the view of `dataset` (already cut to the granted fields) for the grant."""
    described = {f["name"]: f for f in resource["fields"]}
    names = dataset.field_names
    levels = {
        n: int(described.get(n, {}).get("level", resource["level"])) for n in names
    }
    kinds = {
        n: cast(FieldKind, described.get(n, {}).get("kind", "other")) for n in names
    }
    frame = pl.DataFrame(
        {n: [row[i] for row in dataset.rows] for i, n in enumerate(names)},
        schema={n: pl.String for n in names},
    )
    options: dict[str, Any] = {
        "field_levels": levels,
        "consumer": grant["consumer"],
        "allowed": set(grant["fields"]),
        "sharing": resource["sharing"],
        "purpose": grant["purpose"],
        "field_kinds": kinds,
    }
    plan = plan_policy(policy, names, **options)
    result = apply_policy(frame, policy, master_key=master_key(provider_key), **options)
    operators = {name: operator.kind for name, operator in plan.items()}
    quasi = [n for n in names if described.get(n, {}).get("quasi_identifier")]
    target = int(resource.get("min_k", 1))
    k_record: dict[str, Any] | None = None
    if quasi and target > 1:
        outcome = enforce_k(result, quasi, target, _generalization_steps(quasi, kinds))
        k_record = {
            "quasi_identifiers": quasi,
            "target": target,
            "k": outcome.report.k,
            "steps": outcome.steps_applied,
            "met": outcome.met,
        }
        if not outcome.met or outcome.frame is None:
            k_record["reason"] = (
                outcome.reason or "no generalization reaches the target"
            )
            return Desensitized(
                Dataset(fields=[], rows=[]), policy, operators, k_record
            )
        result = outcome.frame
        operators.update({n: op.kind for n, op in outcome.operators.items()})
    rows = [[None if v is None else str(v) for v in row] for row in result.iter_rows()]
    fields = [{**f, "desensitization": operators[f["name"]]} for f in dataset.fields]
    return Desensitized(Dataset(fields=fields, rows=rows), policy, operators, k_record)


def _generalization_steps(
    quasi: list[str], kinds: dict[str, FieldKind]
) -> list[dict[str, Operator]]:
    """Return coarser and coarser generalizations of the quasi-identifiers by kind."""
    fine: dict[str, Operator] = {}
    coarse: dict[str, Operator] = {}
    for name in quasi:
        kind = kinds[name]
        if kind == "birth_date":
            fine[name] = GeneralizeDate(precision="month")
            coarse[name] = GeneralizeDate(precision="year")
        elif kind == "age":
            fine[name] = GeneralizeAge()
            coarse[name] = GeneralizeAge(edges=(40,))
        elif kind == "address":
            fine[name] = GeneralizeAddress()
            coarse[name] = Suppress()
        elif kind == "region_code":
            fine[name] = GeneralizeRegion(level="city")
            coarse[name] = GeneralizeRegion(level="province")
        else:
            coarse[name] = Suppress()
    return [step for step in (fine, coarse) if step]
