"""Data governance routes on a real server: import, report, clean, classify, lineage."""

from __future__ import annotations

import json

from tests.api.api_support import OTHER, OWNER, Api

STANDARD = {
    "name": "beds",
    "version": "1",
    "fields": [
        {"name": "org_code", "type": "string", "constraints": {"required": True}},
        {"name": "beds", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "district", "type": "string"},
    ],
}
CSV = "org_code,beds,district\n 440104001,120,越秀区\n440104001,120,越秀区\n440106002,-5,天河区\n"


def _import(api: Api, resource_id: str) -> dict[str, object]:
    response = api.post(
        "/v1/data/standards", "city-bdb", content=json.dumps(STANDARD).encode()
    )
    assert response.status_code == 201, response.text
    response = api.post(
        f"/v1/data/resources/{resource_id}/import",
        OWNER,
        params={"filename": "beds.csv", "standard": "beds@1"},
        content=CSV.encode(),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_import_records_report(api: Api) -> None:
    resource_id = api.register()
    body = _import(api, resource_id)
    assert body["rows"] == 3
    report = api.get(f"/v1/data/versions/{body['version']}/report", OWNER)
    assert report.status_code == 200, report.text
    assert report.json()["valid"] is False
    html = api.get(
        f"/v1/data/versions/{body['version']}/report", OWNER, params={"format": "html"}
    )
    assert html.text.startswith(
        '<section class="quality-report quality-report--invalid">'
    )
    assert "<caption>fields</caption>" in html.text


def test_import_bad_filename_rejected(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        f"/v1/data/resources/{resource_id}/import",
        OWNER,
        params={"filename": "../x.csv"},
        content=b"a\n1\n",
    )
    assert response.status_code == 422
    assert "plain file name" in response.json()["error"]


def test_validate_records_nothing(api: Api) -> None:
    api.post("/v1/data/standards", "city-bdb", content=json.dumps(STANDARD).encode())
    before = api.get("/v1/data/standards", OWNER).json()
    response = api.post(
        "/v1/data/validate",
        OWNER,
        params={"filename": "beds.csv", "standard": "beds@1"},
        content=CSV.encode(),
    )
    assert response.status_code == 200, response.text
    rules = {f["rule"] for f in response.json()["findings"]}
    assert "minimum" in rules
    assert api.get("/v1/data/standards", OWNER).json() == before


def test_clean_classify_override_lineage(api: Api) -> None:
    resource_id = api.register()
    raw = _import(api, resource_id)["version"]
    rules = {
        "name": "beds",
        "version": "1",
        "rules": [{"op": "trim"}, {"op": "dedup", "key": ["org_code"]}],
    }
    response = api.post(
        f"/v1/data/resources/{resource_id}/clean", OWNER, json={"rules": rules}
    )
    assert response.status_code == 201, response.text
    cleaned = response.json()
    assert (cleaned["parent"], cleaned["rows_out"]) == (raw, 2)

    response = api.post(f"/v1/data/resources/{resource_id}/classify", OWNER, json={})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == cleaned["version"]

    response = api.post(
        f"/v1/data/resources/{resource_id}/overrides",
        OWNER,
        json={"field": "district", "level": 2, "reason": "districts are internal data"},
    )
    assert response.status_code == 200, response.text
    entry = api.get(f"/v1/data/resources/{resource_id}/classification", OWNER).json()
    assert entry["overrides"]["district"]["level"] == 2

    graph = api.get(f"/v1/data/resources/{resource_id}/lineage", OWNER).json()
    assert [(e["source"], e["target"]) for e in graph["edges"]] == [
        (raw, cleaned["version"])
    ]


def test_clean_by_other_department_rejected(api: Api) -> None:
    resource_id = api.register()
    _import(api, resource_id)
    rules = {"name": "t", "version": "1", "rules": [{"op": "trim"}]}
    response = api.post(
        f"/v1/data/resources/{resource_id}/clean", OTHER, json={"rules": rules}
    )
    assert response.status_code in (403, 404, 422), response.text
    assert response.json()["reason"] in ("not-owner", "unknown-version")


def test_standards_listed(api: Api) -> None:
    api.post("/v1/data/standards", "city-bdb", content=json.dumps(STANDARD).encode())
    listed = api.get("/v1/data/standards", OWNER).json()
    assert [s["id"] for s in listed["standards"]] == ["beds@1"]
    shown = api.get("/v1/data/standards/beds@1", OWNER).json()
    assert json.loads(shown["document"]) == STANDARD


def test_cleaned_version_has_report(api: Api) -> None:
    resource_id = api.register()
    raw = _import(api, resource_id)["version"]
    rules = {"name": "beds", "version": "1", "rules": [{"op": "trim"}]}
    response = api.post(
        f"/v1/data/resources/{resource_id}/clean", OWNER, json={"rules": rules}
    )
    assert response.status_code == 201, response.text
    cleaned = response.json()["version"]
    report = api.get(f"/v1/data/versions/{cleaned}/report", OWNER)
    assert report.status_code == 200, report.text
    document = report.json()
    assert document["rows"] == 3
    assert document["source"] == f"{raw} cleaned by beds@1"


def test_import_no_header_hides_values(api: Api) -> None:
    resource_id = api.register()
    rows = "440104001,120,13800138000\n440106002,80,13900139000\n"
    response = api.post(
        f"/v1/data/resources/{resource_id}/import",
        OWNER,
        params={"filename": "noheader.csv"},
        content=rows.encode(),
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["reason"] == "data-in-header"
    assert "the header row is missing or is a data row" in body["error"]
    assert "13800138000" not in response.text
    assert "440104001" not in response.text


def test_validate_encoding_param(api: Api) -> None:
    api.post("/v1/data/standards", "city-bdb", content=json.dumps(STANDARD).encode())
    data = "org_code,beds,district\n440104001,120,Zürich\n".encode("latin-1")
    params = {"filename": "latin.csv", "standard": "beds@1"}
    response = api.post("/v1/data/validate", OWNER, params=params, content=data)
    assert response.status_code == 422, response.text
    assert "--encoding" in response.json()["error"]
    params["encoding"] = "latin-1"
    response = api.post("/v1/data/validate", OWNER, params=params, content=data)
    assert response.status_code == 200, response.text
    assert response.json()["valid"] is True


def test_validate_explicit_header_row(api: Api) -> None:
    response = api.post(
        "/v1/data/standards", "city-bdb", content=json.dumps(STANDARD).encode()
    )
    assert response.status_code == 201, response.text
    # A title row as wide as the data, so the reader would take it for the header.
    titled = "床位,统计,表\n" + CSV
    params = {"filename": "beds.csv", "standard": "beds@1"}
    found = api.post("/v1/data/validate", OWNER, params=params, content=titled.encode())
    assert found.status_code == 200, found.text
    assert "missing-column" in {f["rule"] for f in found.json()["findings"]}
    explicit = api.post(
        "/v1/data/validate",
        OWNER,
        params={**params, "header_row": "2"},
        content=titled.encode(),
    )
    assert explicit.status_code == 200, explicit.text
    assert explicit.json()["rows"] == 3
    assert "missing-column" not in {f["rule"] for f in explicit.json()["findings"]}


def test_openapi_describes_file_bodies(api: Api) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/v1/data/validate", "/v1/data/resources/{resource_id}/import"):
        body = paths[path]["post"]["requestBody"]
        assert "application/octet-stream" in body["content"], path
