"""Build the optional C extension; everything else is in pyproject.toml.

`govchain.crypto._bulk` hashes many short messages in one call with
OpenSSL's SHA-256. It needs a C compiler, the Python headers and OpenSSL's
headers (Debian: gcc, python3-dev, libssl-dev). When it cannot be built the
install goes on and `govchain.crypto.bulk` falls back to hashlib, which gives
the same digests more slowly.
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
        )
    ]
)
