"""The ledger: transactions, blocks, the Merkle log, checkpoints and storage."""
