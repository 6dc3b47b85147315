"""Catalog routes: register, update, retire, publish, search and show."""

from __future__ import annotations

import pytest
from tests.api.api_support import CONSUMER, FIELDS, OWNER, ROWS, Api

from govchain.datasets import Dataset


def test_register_returns_id_and_receipt(api: Api) -> None:
    response = api.post(
        "/v1/catalog/resources",
        OWNER,
        json={
            "id": "health.beds",
            "title": "床位",
            "level": 1,
            "sharing": "unconditional",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "health.beds"
    assert body["receipt"]["status"] == "applied"
    assert len(body["receipt"]["tx_id"]) == 64


def test_register_invalid_level_rejected(api: Api) -> None:
    response = api.post(
        "/v1/catalog/resources",
        OWNER,
        json={"title": "床位", "level": 9, "sharing": "unconditional"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "bad-payload"
    assert body["receipt"]["status"] == "rejected"


def test_register_malformed_body(api: Api) -> None:
    response = api.post(
        "/v1/catalog/resources", OWNER, json={"title": "t", "level": "high"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "bad-request"
    assert "receipt" not in body
    assert "high" not in response.text
    locations = [p["loc"] for p in body["problems"]]
    assert ["body", "level"] in locations
    assert ["body", "sharing"] in locations


def test_publish_records_version(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        f"/v1/catalog/resources/{resource_id}/versions",
        OWNER,
        json={"fields": FIELDS, "rows": ROWS, "transformation": "typed in"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == f"{resource_id}@1"
    assert body["row_count"] == 2
    assert body["content_hash"] == Dataset(fields=FIELDS, rows=ROWS).content_hash
    stored = api.node.home.path / "objects" / body["content_hash"][:2]
    assert (stored / f"{body['content_hash']}.json").is_file()


def test_publish_by_other_department_forbidden(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        f"/v1/catalog/resources/{resource_id}/versions",
        CONSUMER,
        json={"fields": FIELDS, "rows": ROWS},
    )
    assert response.status_code == 403
    body = response.json()
    assert body["reason"] == "not-owner"
    assert body["receipt"]["status"] == "rejected"
    assert body["receipt"]["reason"] == "not-owner"


def test_publish_non_text_cell_rejected(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        f"/v1/catalog/resources/{resource_id}/versions",
        OWNER,
        json={"fields": FIELDS, "rows": [["440104001", 120, "越秀区"]]},
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "bad-request"


def test_show_lists_versions(api: Api) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    api.publish(resource_id)
    response = api.get(f"/v1/catalog/resources/{resource_id}", CONSUMER)
    assert response.status_code == 200
    body = response.json()
    assert body["owner"] == OWNER
    assert body["latest_version"] == f"{resource_id}@2"
    assert [v["number"] for v in body["version_list"]] == [1, 2]


def test_show_unknown_resource_404(api: Api) -> None:
    response = api.get("/v1/catalog/resources/res-missing", OWNER)
    assert response.status_code == 404
    assert response.json()["reason"] == "unknown-resource"


def test_search_filters(api: Api) -> None:
    beds = api.register(sharing="conditional", level=2)
    public = api.register(sharing="unconditional", level=1)
    cases = [
        ({}, {beds, public}),
        ({"sharing": "unconditional"}, {public}),
        ({"level": 2}, {beds}),
        ({"department": OWNER, "category": "health"}, {beds, public}),
        ({"department": CONSUMER}, set()),
        ({"keyword": "床位"}, {beds, public}),
        ({"keyword": "beds"}, {beds, public}),
        ({"keyword": "no such words"}, set()),
    ]
    for params, expected in cases:
        response = api.get("/v1/catalog/resources", CONSUMER, params=params)
        assert response.status_code == 200, params
        found = {r["id"] for r in response.json()["resources"]}
        assert found == expected, params


def test_update_changes_fields(api: Api) -> None:
    resource_id = api.register()
    response = api.client.patch(
        f"/v1/catalog/resources/{resource_id}",
        headers=api.auth(OWNER),
        json={"title": "医疗机构床位（更新）", "level": 3},
    )
    assert response.status_code == 200
    record = response.json()["resource"]
    assert record["title"] == "医疗机构床位（更新）"
    assert record["level"] == 3
    assert record["sharing"] == "conditional"


def test_retire_hides_from_search(api: Api) -> None:
    resource_id = api.register()
    response = api.post(f"/v1/catalog/resources/{resource_id}/retire", OWNER)
    assert response.status_code == 200
    assert response.json()["resource"]["status"] == "retired"
    found = api.get("/v1/catalog/resources", OWNER).json()["resources"]
    assert resource_id not in {r["id"] for r in found}
    params = {"include_retired": "true"}
    found = api.get("/v1/catalog/resources", OWNER, params=params).json()
    assert resource_id in {r["id"] for r in found["resources"]}


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"sharing": "bogus"}, 422, "not a sharing type"),
        ({"level": "9"}, 422, "levels run from 1 to 4"),
        ({"department": "nosuch"}, 404, "not a member department"),
        ({"department": "110101199003074514"}, 404, "<ID number>"),
    ],
)
def test_search_rejects_filters_nothing_matches(
    api: Api, params: dict[str, str], status: int, words: str
) -> None:
    response = api.get("/v1/catalog/resources", OWNER, params=params)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert "110101199003074514" not in response.text
