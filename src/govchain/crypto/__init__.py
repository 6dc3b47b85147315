"""Signing keys and the encrypted key store."""
