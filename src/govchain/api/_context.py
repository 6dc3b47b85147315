"""State and dependencies of the route handlers: node, ledger views, caller.

Handlers get these through FastAPI dependencies:

- `Ctx`: the `ApiContext` of the application (node, dataset store, tokens);
- `ReadStore`: a read-only connection to the ledger, inside one read
  transaction, so a handler reads one snapshot even while blocks commit;
- `Caller`: the department that the request's bearer token belongs to;
- `Writer`: the node wrapped in a `ReceiptTap`, which keeps the receipt of
  every transaction the request submits so responses and errors can name it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from govchain.api._errors import TransactionRejected, Unauthenticated
from govchain.api.auth import TokenStore
from govchain.datasets import DatasetStore
from govchain.ledger.store import LedgerStore
from govchain.ledger.transaction import Transaction
from govchain.node import Node, Receipt

logger = logging.getLogger(__name__)

T = TypeVar("T")


def wall_clock_ms() -> int:
    """Return the system time in unix milliseconds, as the orderer reads it."""
    return int(time.time() * 1000)


@dataclass
class ApiContext:
    """The node an application serves and the state its handlers share."""

    node: Node
    datasets: DatasetStore
    tokens: TokenStore
    #: Unix milliseconds that grant status and overdue deadlines are judged at.
    clock: Callable[[], int] = wall_clock_ms
    verify_task: asyncio.Future[dict[str, Any]] | None = None
    refusals: RefusalLog = field(default_factory=lambda: RefusalLog())

    @classmethod
    def for_node(
        cls, node: Node, *, clock: Callable[[], int] | None = None
    ) -> ApiContext:
        return cls(
            node=node,
            datasets=DatasetStore(node.home.path / "objects"),
            tokens=TokenStore(node.home.path),
            clock=clock or wall_clock_ms,
        )

    def open_read_store(self) -> LedgerStore:
        """Open a read-only connection to the ledger, separate from the writer's."""
        return LedgerStore(self.node.home.ledger_path, readonly=True)

    def read(self, read: Callable[[LedgerStore], T]) -> T:
        """Call `read` with a fresh read-only connection, such as after a write."""
        store = self.open_read_store()
        try:
            return read(store)
        finally:
            store.close()


class RefusalLog:
    """A log of rejected requests: WARNING once a minute per client host and cause.

    Repeats within the minute are counted, and the count goes out with the
    next line for that host and cause. So a client that keeps guessing tokens
    adds one line a minute, whatever port it connects from.
    """

    WINDOW_S = 60.0
    #: Above this many tracked (host, cause) pairs, pairs idle for a whole
    #: window are dropped, so memory stays bounded.
    MAX_TRACKED = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def refused(self, host: str, cause: str, detail: str) -> None:
        now = time.monotonic()
        key = (host, cause)
        with self._lock:
            last, suppressed = self._last.get(key, (0.0, 0))
            if last and now - last < self.WINDOW_S:
                self._last[key] = (last, suppressed + 1)
                return
            self._last[key] = (now, 0)
            if len(self._last) > self.MAX_TRACKED:
                self._last = {
                    k: v for k, v in self._last.items() if now - v[0] < self.WINDOW_S
                }
        more = f" ({suppressed} more since the last line)" if suppressed else ""
        logger.warning("request from %s rejected, %s: %s%s", host, cause, detail, more)


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.govchain
    return context


Ctx = Annotated[ApiContext, Depends(get_context)]


def read_store(ctx: Ctx) -> Iterator[LedgerStore]:
    store = ctx.open_read_store()
    try:
        store.db.execute("BEGIN")
        yield store
    finally:
        store.close()


ReadStore = Annotated[LedgerStore, Depends(read_store)]

_bearer = HTTPBearer(
    auto_error=False,
    description="The API token of a department hosted on this node "
    "(HOME/tokens/DEPT.token).",
)


def client_of(request: Request) -> str:
    """Return the client's host address, for logs."""
    return request.client.host if request.client else "unknown"


def authenticated_department(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Return the department of the request's bearer token.

    Raises `Unauthenticated` when the header is missing or the token is unknown.
    The refusal is logged with the client address and the path, never the token.
    """
    where = f"{request.method} {request.url.path}"
    if credentials is None:
        ctx.refusals.refused(client_of(request), "no token", where)
        raise Unauthenticated(
            "this endpoint needs an API token: send `Authorization: Bearer TOKEN` "
            "with the token from HOME/tokens/DEPT.token"
        )
    dept = ctx.tokens.department(credentials.credentials)
    if dept is None:
        ctx.refusals.refused(client_of(request), "unknown token", where)
        raise Unauthenticated(
            "the API token is not valid for this node; it may have been replaced: "
            "read HOME/tokens/DEPT.token again or run `govchain token create`"
        )
    request.state.department = dept
    return dept


Caller = Annotated[str, Depends(authenticated_department)]


class ReceiptTap:
    """A stand-in for the node that records the receipts of what it submits.

    The services take a `Node` and raise a plain error when the ledger rejects
    their transaction. The tap keeps the receipt, so the response can still
    name the transaction that is now on the ledger. Every other attribute is
    the node's own.
    """

    def __init__(self, node: Node) -> None:
        self._node = node
        self.receipts: list[Receipt] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)

    def submit(
        self, txs: Iterable[Transaction], *, timeout: float = 30.0
    ) -> list[Receipt]:
        receipts = self._node.submit(txs, timeout=timeout)
        self.receipts.extend(receipts)
        return receipts

    def submit_one(self, tx: Transaction) -> Receipt:
        return self.submit([tx])[0]

    def act(self, dept: str, tx_type: str, payload: dict[str, Any]) -> Receipt:
        return self.submit_one(self._node.sign(dept, tx_type, payload))

    @property
    def node(self) -> Node:
        """This tap typed as the node, to pass to the services."""
        return cast(Node, self)

    def last_receipt(self) -> dict[str, Any] | None:
        return self.receipts[-1].to_dict() if self.receipts else None

    def applied(self, receipt: Receipt) -> Receipt:
        """Return `receipt` when applied, else raise `TransactionRejected`."""
        if not receipt.applied:
            raise TransactionRejected(receipt)
        return receipt


def writer(request: Request, ctx: Ctx) -> ReceiptTap:
    tap = ReceiptTap(ctx.node)
    request.state.receipts = tap.receipts
    return tap


Writer = Annotated[ReceiptTap, Depends(writer)]
