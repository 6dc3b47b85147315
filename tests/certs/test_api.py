"""Certificate routes on a real server bound to 127.0.0.1, with real HTTP clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.api.api_support import serve_in_thread
from tests.certs.conftest import ISSUER, OTHER, Setup, holders

from govchain.api import _certs, create_app
from govchain.api.auth import create_token
from govchain.certs import qr_png


@pytest.fixture
def client(setup: Setup) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    setup.node.start()
    tokens = {d: create_token(setup.node.home, d).token for d in (ISSUER, OTHER)}
    url, stop = serve_in_thread(create_app(setup.node, clock=lambda: setup.clock.now))
    http = httpx.Client(base_url=url, timeout=60)
    try:
        yield http, tokens
    finally:
        http.close()
        stop()
        setup.node.stop()


def _auth(tokens: dict[str, str], dept: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[dept]}"}


def _issue(
    http: httpx.Client, tokens: dict[str, str], count: int = 1
) -> list[dict[str, str]]:
    body = {
        "type": "food-health",
        "holders": [
            {"holder_id": h.holder_id, "name": h.name, "claims": h.claims}
            for h in holders(count)
        ],
    }
    response = http.post("/v1/certs/issue", json=body, headers=_auth(tokens, ISSUER))
    assert response.status_code == 201, response.text
    certificates: list[dict[str, str]] = response.json()["certificates"]
    return certificates


def test_api_issue_status_and_verify(
    client: tuple[httpx.Client, dict[str, str]],
) -> None:
    http, tokens = client
    cert = _issue(http, tokens)[0]
    status = http.get(f"/v1/certs/{cert['id']}/status")
    assert status.status_code == 200
    assert status.json()["status"] == "valid"
    verdict = http.post(
        "/v1/certs/verify", json={"qr_text": cert["qr_text"] + "\n"}
    ).json()
    assert verdict["valid"] is True
    picture = {"image": ("qr.png", qr_png(cert["qr_text"]), "image/png")}
    assert http.post("/v1/certs/verify-image", files=picture).json()["valid"] is True


def test_api_revoke_then_verify_fails(
    client: tuple[httpx.Client, dict[str, str]],
) -> None:
    http, tokens = client
    cert = _issue(http, tokens)[0]
    change = {"status": "revoked", "reason": "holder-unfit"}
    denied = http.post(
        f"/v1/certs/{cert['id']}/status", json=change, headers=_auth(tokens, OTHER)
    )
    assert denied.status_code == 403
    done = http.post(
        f"/v1/certs/{cert['id']}/status", json=change, headers=_auth(tokens, ISSUER)
    )
    assert done.status_code == 200, done.text
    verdict = http.post("/v1/certs/verify", json={"qr_text": cert["qr_text"]}).json()
    assert verdict["code"] == "revoked"
    revocations = http.get("/v1/certs/revocation-list").json()
    assert len(revocations["entries"]) == 1
    assert "signature" in http.get("/v1/certs/trust-list").json()


def test_api_unknown_certificate_404(
    client: tuple[httpx.Client, dict[str, str]],
) -> None:
    http, _tokens = client
    assert http.get("/v1/certs/" + "0" * 32 + "/status").status_code == 404


def test_api_bad_image_reason(client: tuple[httpx.Client, dict[str, str]]) -> None:
    http, _tokens = client
    files = {"image": ("x.png", b"not an image", "image/png")}
    verdict = http.post("/v1/certs/verify-image", files=files).json()
    assert verdict["valid"] is False
    assert verdict["code"] == "image"


def test_api_lookup_needs_token_and_is_limited(
    client: tuple[httpx.Client, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, tokens = client
    _issue(http, tokens)
    person = holders(1)[0]
    body = {"id_number": person.holder_id}
    assert http.post("/v1/certs/lookup", json=body).status_code == 401
    monkeypatch.setattr(_certs, "_lookup_limiter", _certs.RateLimiter(2))
    first = http.post("/v1/certs/lookup", json=body, headers=_auth(tokens, OTHER))
    assert first.status_code == 200, first.text
    found = first.json()["certificates"]
    assert len(found) == 1
    assert found[0]["status"] == "valid"
    assert found[0]["masked_name"] != person.name
    assert person.holder_id not in first.text
    assert (
        http.post(
            "/v1/certs/lookup", json=body, headers=_auth(tokens, OTHER)
        ).status_code
        == 200
    )
    limited = http.post("/v1/certs/lookup", json=body, headers=_auth(tokens, OTHER))
    assert limited.status_code == 429
    assert limited.json()["reason"] == "rate-limited"
