"""Build the optional C extensions; everything else is in pyproject.toml.

`govchain.crypto._bulk` hashes many short messages in one call with
OpenSSL's SHA-256. It needs a C compiler, the Python headers and OpenSSL's
headers (Debian: gcc, python3-dev, libssl-dev). When it cannot be built the
install goes on and `govchain.crypto.bulk` falls back to hashlib, which gives
the same digests more slowly.

`govchain.ledger._plain` checks which values canonical JSON may hand to the
json module's C encoder. It needs only the compiler and the Python headers;
without it `govchain.ledger.canonical` runs the same check in Python.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "govchain.crypto._bulk",
            sources=["src/govchain/crypto/_bulk.c"],
            libraries=["crypto"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
        Extension(
            "govchain.ledger._plain",
            sources=["src/govchain/ledger/_plain.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
    ]
)
