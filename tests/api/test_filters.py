"""Search, range, date, boolean, exists filters and ordering, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.databases import KINDS, Databases, build_app, dispose
from tests.api.specs import CATALOG

U1 = "123e4567-e89b-12d3-a456-426614174001"
U3 = "123e4567-e89b-12d3-a456-426614174003"
GADGETS: list[dict[str, Any]] = [
    {
        "name": "Alpha",
        "notes": "first",
        "quantity": 1,
        "weight": 0.5,
        "price": "10.00",
        "active": True,
        "releaseDate": "2024-01-01",
        "launchedAt": "2024-01-01T10:00:00Z",
        "serial": U1,
        "color": "red",
        "maker": "/makers/1",
    },
    {
        "name": "Beta",
        "quantity": 5,
        "weight": 1.5,
        "price": "20.50",
        "active": False,
        "releaseDate": "2024-02-01",
        "launchedAt": "2024-02-01T10:00:00Z",
        "color": "green",
        "maker": "/makers/2",
    },
    {
        "name": "Gamma",
        "notes": "third",
        "quantity": 10,
        "weight": 2.5,
        "price": 30,
        "releaseDate": "2024-03-01",
        "launchedAt": "2024-03-01T10:00:00+02:00",
        "serial": U3,
        "color": "blue",
    },
    {"name": "Delta", "maker": "/makers/1"},
]
WORDS = ["Hello World", "hello there", "Say hello", "50% off_sale"]


@pytest.fixture(scope="module", params=KINDS)
def http(request: pytest.FixtureRequest, databases: Databases) -> Iterator[FlaskClient]:
    app, registry = build_app(CATALOG, databases.url(request.param))
    client = app.test_client()
    for name in ("M1", "M2"):
        assert client.post("/makers", json={"name": name}).status_code == 201
    for gadget in GADGETS:
        assert client.post("/gadgets", json=gadget).status_code == 201
    for word in WORDS:
        body = dict.fromkeys(("exact", "iexact", "partial", "ipartial"), word)
        body |= dict.fromkeys(("start", "istart", "end", "iend"), word)
        assert client.post("/words", json=body).status_code == 201
    yield client
    dispose(app, registry)


def names(client: FlaskClient, query: str) -> list[str]:
    response = client.get(f"/gadgets?itemsPerPage=5&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [member["name"] for member in response.get_json()["member"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Alpha", "Beta", "Gamma", "Delta"]),
        ("foo=bar&notes=first", ["Alpha", "Beta", "Gamma", "Delta"]),
        ("name=Alpha", ["Alpha"]),
        ("name=alpha", []),
        ("name[]=Alpha&name[]=Beta", ["Alpha", "Beta"]),
        ("color=green", ["Beta"]),
        (f"serial={U1}", ["Alpha"]),
        ("maker=/makers/1", ["Alpha", "Delta"]),
        ("maker=1", ["Alpha", "Delta"]),
        ("maker=http://example.com/makers/2", ["Beta"]),
        ("maker[]=1&maker[]=/makers/2", ["Alpha", "Beta", "Delta"]),
        ("quantity[gt]=1", ["Beta", "Gamma"]),
        ("quantity[gte]=1", ["Alpha", "Beta", "Gamma"]),
        ("quantity[lt]=5", ["Alpha"]),
        ("quantity[lte]=5", ["Alpha", "Beta"]),
        ("quantity[between]=2..10", ["Beta", "Gamma"]),
        ("price[gte]=20.5", ["Beta", "Gamma"]),
        ("weight[lt]=2", ["Alpha", "Beta"]),
        ("releaseDate[before]=2024-02-01", ["Alpha", "Beta"]),
        ("releaseDate[strictly_before]=2024-02-01", ["Alpha"]),
        ("releaseDate[after]=2024-02-01", ["Beta", "Gamma"]),
        ("releaseDate[strictly_after]=2024-02-01", ["Gamma"]),
        ("launchedAt[after]=2024-03-01T09:00:00%2B02:00", ["Gamma"]),
        ("launchedAt[after]=2024-03-01T08:00:01Z", []),
        ("launchedAt[strictly_before]=2024-02-01T10:00:00Z", ["Alpha"]),
        ("launchedAt[before]=2024-02-01", ["Alpha"]),
        ("active=true", ["Alpha", "Gamma", "Delta"]),
        ("active=0", ["Beta"]),
        ("exists[notes]=true", ["Alpha", "Gamma"]),
        ("exists[maker]=false", ["Gamma"]),
        ("exists[serial]=0", ["Beta", "Delta"]),
        ("active=true&quantity[gte]=1", ["Alpha", "Gamma"]),
    ],
)
def test_filters(http: FlaskClient, query: str, expected: list[str]) -> None:
    assert names(http, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("order[name]=asc", ["Alpha", "Beta", "Delta", "Gamma"]),
        ("order[name]=DESC", ["Gamma", "Delta", "Beta", "Alpha"]),
        ("order[quantity]=desc", ["Gamma", "Beta", "Alpha", "Delta"]),
        ("order[quantity]=asc", ["Delta", "Alpha", "Beta", "Gamma"]),
        ("order[price]=desc&order[name]=asc", ["Gamma", "Beta", "Alpha", "Delta"]),
        ("order[maker]=asc", ["Gamma", "Alpha", "Delta", "Beta"]),
        ("order[notes]=desc", ["Alpha", "Beta", "Gamma", "Delta"]),
    ],
)
def test_ordering(http: FlaskClient, query: str, expected: list[str]) -> None:
    assert names(http, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("exact=Hello World", [1]),
        ("exact=hello world", []),
        ("iexact=hello WORLD", [1]),
        ("partial=ello", [1, 2, 3]),
        ("partial=Hello", [1]),
        ("ipartial=HELLO", [1, 2, 3]),
        ("start=Hello", [1]),
        ("istart=hello", [1, 2]),
        ("end=hello", [3]),
        ("iend=HELLO", [3]),
        ("partial=%25", [4]),
        ("partial=_", [4]),
        ("ipartial=0%25 OFF", [4]),
        ("partial=5_%25", []),
        ("istart=%25", []),
        ("partial[]=World&partial[]=there", [1, 2]),
    ],
)
def test_search_strategies(http: FlaskClient, query: str, expected: list[int]) -> None:
    response = http.get(f"/words?{query}")
    body = response.get_json()
    assert sorted(member["id"] for member in body["member"]) == expected
    assert "view" not in body


@pytest.mark.parametrize(
    "query",
    [
        "quantity[gt]=abc",
        "quantity[between]=5",
        "quantity[foo]=1",
        "price[lt]=cheap",
        "releaseDate[before]=nope",
        "launchedAt[after]=2024-13-01",
        "active=maybe",
        "exists[notes]=maybe",
        "maker=/gadgets/1",
        f"serial={U1[:-2]}",
        "order[name]=sideways",
    ],
)
def test_malformed_filter_values_are_400(http: FlaskClient, query: str) -> None:
    response = http.get(f"/gadgets?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert query.split("=")[0] in response.get_json()["detail"]


def test_search_template_lists_every_filter(http: FlaskClient) -> None:
    search = http.get("/gadgets").get_json()["search"]
    variables = {m["variable"] for m in search["mapping"]}
    assert {
        "name",
        "name[]",
        "maker",
        "quantity[between]",
        "releaseDate[strictly_after]",
    } <= variables
    assert {"active", "exists[notes]", "order[launchedAt]"} <= variables
    assert search["template"].startswith("/gadgets{?name,name[],")
    assert search["@type"] == "IriTemplate"


def test_json_fields_are_never_filtered_or_ordered(http: FlaskClient) -> None:
    everything = names(http, "")
    assert names(http, "specs=1&specs[gt]=1&order[specs]=desc") == everything


def test_search_template_leaves_out_json_fields(http: FlaskClient) -> None:
    search = http.get("/gadgets").get_json()["search"]
    assert not [m for m in search["mapping"] if m["property"] == "specs"]
