"""Request bodies of the API, so /docs and /openapi.json describe them.

The models check only the JSON shape. The rules (sensitivity levels, sharing
types, who may do what) belong to the ledger's state machine, which records a
refusal as a rejected transaction with its reason.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Body):
    """One field (column) of a data resource."""

    name: str
    type: str = Field("string", description="string, integer, number, date, ...")
    description: str = ""
    level: int | None = Field(
        None,
        description="Sensitivity level of this field, 1 to 4; the resource's if absent.",
    )
    kind: str | None = Field(
        None,
        description="What the field holds, for desensitization: id_number, phone, "
        "name, uscc, birth_date, age, address, region_code, number, text or other.",
    )


class ResourceRegistration(_Body):
    """A data resource to register in the catalog, owned by the caller."""

    id: str | None = Field(
        None, description="Resource id; numbered by its log position when absent."
    )
    title: str
    description: str = ""
    fields: list[FieldSpec] = []
    level: int = Field(description="Sensitivity level, 1 (public) to 4.")
    sharing: str = Field(description="unconditional, conditional or not_shared.")
    category: str = ""
    standard: str = Field("", description="Data standard reference.")
    update_frequency: str = Field("", description="Such as daily or monthly.")
    tags: list[str] = []


class ResourceUpdate(_Body):
    """Catalog fields to change; fields left out keep their value."""

    title: str | None = None
    description: str | None = None
    fields: list[FieldSpec] | None = None
    level: int | None = None
    sharing: str | None = None
    category: str | None = None
    standard: str | None = None
    update_frequency: str | None = None
    tags: list[str] | None = None


class VersionPublication(_Body):
    """A new version of a resource: its rows, stored by the owner off the ledger."""

    fields: list[FieldSpec]
    rows: list[list[str | None]] = Field(
        description="Rows of cell strings or nulls, in the order of `fields`."
    )
    raw_hash: str | None = Field(
        None, description="Hex SHA-256 of the source file the rows came from."
    )
    parents: list[str] = Field([], description="Version ids this one derives from.")
    transformation: str = Field("", description="How the rows were derived.")


class AccessRequest(_Body):
    """A consuming department's request for fields of a resource."""

    resource: str
    fields: list[str]
    purpose: str = Field(description="Why the data is needed.")
    term_days: int = Field(90, description="How long the grant should last, in days.")


class Rejection(_Body):
    """The reason for rejecting a request, shown to the consumer."""

    reason: str


class Revocation(_Body):
    """The reason for revoking a grant."""

    reason: str


class Admission(_Body):
    """A department to admit to the consortium."""

    id: str
    name: str
    region: str = Field(description="Region code declared in the consortium.")
    level: str = Field(description="province, city or county.")
    line: str = Field(description="Vertical line, such as health.")
    public_key: str = Field(description="The department's Ed25519 public key, base64.")


class Suspension(_Body):
    """The reason for suspending a department."""

    reason: str


class KeyRotation(_Body):
    """The new signing key of a department."""

    public_key: str | None = Field(
        default=None,
        description="Ed25519 public key, base64. Leave it out to give a department "
        "hosted on this node a new key generated and stored here.",
    )


class PresentedCheckpoint(_Body):
    """A checkpoint note (C2SP signed note) seen by a peer node or witness."""

    note: str


class DeliveryPackage(BaseModel):
    """A package of delivered rows, signed by the provider, exactly as delivered.

    Strict, so no value is converted: the provider's signature covers every
    field but `signature`, including any this version of the API does not know.
    """

    model_config = ConfigDict(extra="allow", strict=True)

    format: str
    delivery: str
    delivery_tx: str
    grant: str | None
    resource: str
    version: str
    provider: str
    consumer: str
    fields: list[dict[str, Any]]
    rows: list[list[str | None]]
    content_hash: str
    kid: str
    signature: str


class SignedTransaction(BaseModel):
    """A transaction signed by a department, as its canonical JSON object.

    The signature authenticates it: no API token is needed.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    v: int
    type: str
    dept: str
    kid: str
    alg: str
    nonce: int
    payload: dict[str, Any]
    signature: str = Field(description="Ed25519 signature, base64.")
