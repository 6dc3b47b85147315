"""Type aliases that keep values of one base type from being mixed up."""

from typing import NewType

#: Lower-case hex SHA-256 digest of a transaction's canonical bytes.
TxId = NewType("TxId", str)
#: Lower-case hex SHA-256 digest of a block header's canonical bytes.
BlockHash = NewType("BlockHash", str)
#: Department identifier from the consortium file, such as `city-health`.
DeptId = NewType("DeptId", str)
#: Key identifier: the first 16 hex characters of SHA-256 over the raw public key.
KeyId = NewType("KeyId", str)
#: Catalog resource identifier.
ResourceId = NewType("ResourceId", str)
