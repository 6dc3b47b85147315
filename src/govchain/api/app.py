"""The FastAPI application of a node: `create_app(node)`.

Routes live in one module per area (`_catalog`, `_sharing`, `_consortium`,
`_ledger`); errors become responses in `_errors`; authentication is in
`_context` and `auth`. The OpenAPI description is at /openapi.json and the
interactive documentation at /docs.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

import govchain
from govchain.api import (
    _archive,
    _catalog,
    _certs,
    _consortium,
    _governance,
    _ledger,
    _sharing,
)
from govchain.api._body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimit
from govchain.api._context import ApiContext
from govchain.api._docs import install_docs
from govchain.api._errors import install_error_handlers
from govchain.console._install import install_console
from govchain.node import Node

DESCRIPTION = """\
The HTTP API of one govchain node: the catalog chain, sharing requests and
deliveries, the audit trail, evidence bundles and Merkle proofs.

Send `Authorization: Bearer TOKEN` with the API token of a department hosted
on this node (HOME/tokens/DEPT.token); the token decides which department
signs. Status, checkpoints and proofs are public. Transactions signed by a
member department can be submitted to /v1/transactions without a token.

Errors are `{"error": message, "reason": code}`; a request that became a
rejected transaction also carries its `receipt`, because it is on the ledger.
"""


def create_app(
    node: Node,
    *,
    clock: Callable[[], int] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """Build the API of `node`, which must be started (its committer running).

    `clock` returns the unix milliseconds at which grant status and overdue
    deadlines are judged. It defaults to the system clock, which the orderer
    also reads unless it was given a simulated one. Request bodies larger than
    `max_body_bytes` get 413. The application does not own the node: the
    caller that opened it closes it after the server stops.
    """
    app = FastAPI(
        title="govchain",
        summary="A permissioned, tamper-evident ledger for sharing government data.",
        description=DESCRIPTION,
        version=govchain.__version__,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.state.govchain = ApiContext.for_node(node, clock=clock)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.include_router(_ledger.router)
    app.include_router(_consortium.router)
    app.include_router(_catalog.router)
    app.include_router(_sharing.router)
    app.include_router(_governance.router)
    app.include_router(_archive.router)
    app.include_router(_certs.router)
    install_console(app)
    return app
