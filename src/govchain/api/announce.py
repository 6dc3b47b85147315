"""`HOME/api.json`: how a running server announces itself to local clients.

While `govchain serve` runs, it is the node home's one writer, so local CLI
commands cannot open the node. This file gives them the URL to send their
writes to instead:

```
{"url": "http://127.0.0.1:8000", "pid": 4242, "node": "node-city-bdb",
 "tls_cert": null, "started": "2026-03-02T01:00:00+00:00"}
```

The server removes the file when it stops. A file left behind by a crash is
harmless, because clients forward only while the node home's lock is held.
This module imports no web framework, so the CLI can read the file cheaply.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from govchain.node import NodeHome

API_FILE = "api.json"


def api_file(home: NodeHome) -> Path:
    """Return the path of the file that announces a running server."""
    return home.path / API_FILE


def api_url(host: str, port: int, *, tls: bool) -> str:
    """Return the URL local clients use for a server listening on `host`:`port`.

    A wildcard address (all interfaces) is reached through loopback.
    """
    scheme = "https" if tls else "http"
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def write_api_file(home: NodeHome, url: str, *, tls_cert: Path | None) -> None:
    """Announce this process as the server of `home` at `url`."""
    record: dict[str, Any] = {
        "url": url,
        "pid": os.getpid(),
        "node": home.node_id,
        "tls_cert": str(tls_cert.resolve()) if tls_cert else None,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = api_file(home)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    os.replace(tmp, path)


def remove_api_file(home: NodeHome) -> None:
    """Remove the announcement, unless another process has written it since."""
    path = api_file(home)
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(record, dict) and record.get("pid") == os.getpid():
        path.unlink(missing_ok=True)
