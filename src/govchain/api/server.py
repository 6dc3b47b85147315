"""Serve a node's API with uvicorn, as the one writer of the node home.

While it runs, the server announces its URL in `HOME/api.json` (see
`govchain.api.announce`), so local CLI commands forward their writes to it.
"""

from __future__ import annotations

import copy
import logging
import signal
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
import uvicorn.config

from govchain.api.announce import api_url, remove_api_file, write_api_file
from govchain.api.app import create_app
from govchain.api.auth import ensure_tokens
from govchain.errors import ConfigError
from govchain.governance.personal_data import mask_personal_data
from govchain.node import Node, NodeHome

logger = logging.getLogger(__name__)


def run_server(
    home: NodeHome,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> None:
    """Open the node of `home`, serve its API until SIGINT or SIGTERM, then close it.

    The keys are decrypted with `home.passphrase`. On the first start every
    hosted department gets an API token (see `govchain.api.auth`). `port` 0
    takes a free port, which `HOME/api.json` then names. With `tls_cert` and
    `tls_key` (PEM files) the server speaks HTTPS only.

    Raises `NodeLockedError` when another process holds the node home, and
    `ConfigError` when the address cannot be bound or the TLS files are unusable.
    """
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError(
            "TLS needs both a certificate and its private key: pass --tls-cert and "
            "--tls-key together"
        )
    _log_at_info()
    node = Node(home)
    try:
        ensure_tokens(home)
        server, sock = _prepare(node, host, port, tls_cert, tls_key)
        url = api_url(host, sock.getsockname()[1], tls=tls_cert is not None)
        node.start()
        write_api_file(home, url, tls_cert=tls_cert)
        logger.info("node %s serves its API at %s", home.node_id, url)
        try:
            with _stop_on_signals():
                server.run(sockets=[sock])
        except _Stop as stop:
            logger.info("node %s received %s", home.node_id, stop)
        finally:
            sock.close()
    finally:
        remove_api_file(home)
        node.close()
        logger.info("API of node %s stopped", home.node_id)


def _prepare(
    node: Node,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> tuple[uvicorn.Server, socket.socket]:
    config = uvicorn.Config(
        create_app(node),
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        log_config=_log_config(),
        log_level="info",
    )
    try:
        config.load()
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"TLS certificate {tls_cert} or key {tls_key} is unusable: {exc}"
        ) from exc
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host} port {port}: {exc.strerror}; choose another "
            "--port or stop the program that uses it"
        ) from exc
    return uvicorn.Server(config), sock


class PathOnlyFilter(logging.Filter):
    """Drop the query string from the request line of uvicorn's access log,
    and mask ID and mobile numbers in the path.

    A query string may contain personal data, such as an uploaded file's name
    in `POST /v1/data/validate?filename=...`, and a path may contain a mistyped
    id (`/v1/consortium/departments/<ID number>/rotate-key`). Logs keep no
    personal data.
    uvicorn 0.55 logs each request with the arguments (client address,
    method, path with query, HTTP version, status code), as its
    `AccessFormatter` expects. A record of another shape is logged unchanged,
    so tests/api/test_server.py checks the log of a real server.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = mask_personal_data(args[2].split("?", 1)[0])
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


def _log_config() -> dict[str, Any]:
    """Return uvicorn's default logging setup with `PathOnlyFilter` on the access log."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["path_only"] = {"()": PathOnlyFilter}
    config["loggers"]["uvicorn.access"]["filters"] = ["path_only"]
    return config


def _log_at_info() -> None:
    # NOTE: a server should report its start, stop and refused requests even
    # when the CLI logs only warnings, so govchain's loggers go down to INFO.
    package = logging.getLogger("govchain")
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)


class _Stop(BaseException):
    """Raised by the signal handler to leave `run_server` through its cleanup."""


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into `_Stop` once uvicorn has shut down.

    While it runs, uvicorn handles the signals and shuts down gracefully. Then
    it restores the handlers it found and raises the signal again, so these
    handlers end the run and the cleanup closes the node and removes api.json. Outside the main
    thread, where handlers cannot be set, the defaults stay.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise _Stop(signal.Signals(signum).name)

    previous = {
        sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
