"""Filter values a column cannot hold are 400s naming its range, on both databases; so are
empty values of typed filters, which no OpenAPI parameter schema admits.

Integer columns (``integer`` fields, ids, relations) are 32-bit on PostgreSQL, which casts
the parameter to the column's type: a larger value used to fail there with a 500 while
SQLite answered. Both now answer the same 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.auth.command import mint_user_token
from app.config.spec import FieldSpec, FilterSpec, RelationSpec, ResourceSpec, ResourcesSpec
from app.settings import Settings
from tests.api.databases import KINDS, Databases, build_app, dispose
from tests.services import LiveServer

INT_RANGE = "between -2147483648 and 2147483647"

GROUP = ResourceSpec(
    name="Group",
    route="/groups",
    table="group_",
    fields=(FieldSpec("name", "string"),),
)
COUNTER = ResourceSpec(
    name="Counter",
    route="/counters",
    table="counter",
    fields=(
        FieldSpec("count", "integer"),
        FieldSpec("amount", "decimal", precision=6, scale=2),
        FieldSpec("ratio", "float"),
        FieldSpec("day", "date"),
        FieldSpec("at", "datetime"),
        FieldSpec("on", "boolean"),
        FieldSpec("label", "string"),
    ),
    relations=(RelationSpec("group", "Group"),),
    filters=FilterSpec(
        search=(("id", "exact"), ("label", "exact"), ("group", "exact"), ("count", "exact")),
        range=("id", "count", "amount", "ratio"),
        date=("day", "at"),
        boolean=("on",),
        exists=("label",),
    ),
)
SPEC = ResourcesSpec(resources=(GROUP, COUNTER))
COUNTERS: list[dict[str, Any]] = [
    {"count": -(2**31), "amount": "-9999.99", "ratio": -1.5, "label": "low"},
    {
        "count": 0,
        "amount": "0",
        "ratio": 0.0,
        "day": "2024-01-01",
        "on": True,
        "group": "/groups/1",
    },
    {"count": 2**31 - 1, "amount": "9999.99", "ratio": 1e300, "at": "2024-05-01T00:00:00Z"},
]


@pytest.fixture(scope="module", params=KINDS)
def http(request: pytest.FixtureRequest, databases: Databases) -> Iterator[FlaskClient]:
    app, registry = build_app(SPEC, databases.url(request.param))
    client = app.test_client()
    assert client.post("/groups", json={"name": "g"}).status_code == 201
    for counter in COUNTERS:
        response = client.post("/counters", json=counter)
        assert response.status_code == 201, response.get_json()
    yield client
    dispose(app, registry)


def _counts(http: FlaskClient, query: str) -> list[int]:
    response = http.get(f"/counters?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_json()
    return [member["count"] for member in response.get_json()]


def _refused(http: FlaskClient, query: str) -> str:
    response = http.get(f"/counters?{query}")
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    detail: str = response.get_json()["detail"]
    return detail


@pytest.mark.parametrize(
    "query",
    [
        "count[gt]=2147483648",
        "count[gte]=9223372036854775807",
        "count[lt]=-2147483649",
        "count[lte]=-9223372036854775808",
        "count[between]=0..2147483648",
        "count[between]=-2147483649..0",
        "count=2147483648",
        "count[]=1&count[]=2147483648",
        "id[gt]=2147483648",
        "id=2147483648",
        "id[between]=-2147483649..1",
    ],
)
def test_integers_past_32_bits_are_400_naming_the_range(http: FlaskClient, query: str) -> None:
    detail = _refused(http, query)
    key = query.rsplit("&", 1)[-1].split("=", 1)[0]
    assert detail.startswith("Invalid value '"), detail
    assert f"for '{key}': the value must be {INT_RANGE}." in detail


def test_the_ends_of_the_range_are_accepted(http: FlaskClient) -> None:
    assert _counts(http, "count[gte]=2147483647") == [2**31 - 1]
    assert _counts(http, "count[lte]=-2147483648") == [-(2**31)]
    assert _counts(http, "count[between]=-2147483648..2147483647") == [-(2**31), 0, 2**31 - 1]
    assert _counts(http, "id[lt]=2147483647&id[gt]=-2147483648") == [-(2**31), 0, 2**31 - 1]
    assert _counts(http, "count=2147483647") == [2**31 - 1]


def test_decimals_past_the_precision_are_400_naming_the_range(http: FlaskClient) -> None:
    for query in ("amount[gt]=10000", "amount[lt]=-10000.5", "amount[between]=0..1e9"):
        detail = _refused(http, query)
        assert "the value must be greater than -10000 and less than 10000." in detail, detail
    assert _counts(http, "amount[gte]=9999.99") == [2**31 - 1]
    assert _counts(http, "amount[gt]=-9999.999") == [-(2**31), 0, 2**31 - 1]


def test_floats_take_any_finite_number(http: FlaskClient) -> None:
    assert _counts(http, "ratio[gt]=0.0") == [2**31 - 1]
    assert _counts(http, "ratio[gte]=1e300") == [2**31 - 1]
    assert _counts(http, "ratio[lt]=-1.7976931348623157e308") == []
    assert "expected a finite number" in _refused(http, "ratio[gt]=1e309")


@pytest.mark.parametrize(
    "query",
    [
        "count[gt]=",
        "count[between]=",
        "amount[lt]=%20",
        "day[after]=",
        "at[strictly_before]=",
        "on=",
        "exists[label]=",
        "group=",
        "group[]=&group[]=/groups/1",
        "count=",
        "id=",
    ],
)
def test_an_empty_value_of_a_typed_filter_is_malformed(http: FlaskClient, query: str) -> None:
    # As the OpenAPI document says: a date, a number, a boolean, an IRI is never empty.
    assert _refused(http, query).startswith("Invalid value ")


def test_an_empty_text_search_still_searches(http: FlaskClient) -> None:
    assert _counts(http, "label=") == []  # no label is the empty string


def test_malformed_values_are_still_400(http: FlaskClient) -> None:
    assert "expected an integer" in _refused(http, "count[gt]=0.5")
    assert "expected an integer" in _refused(http, "id=abc")
    assert "expected <low>..<high>" in _refused(http, "count[between]=5")
    assert "expected an ISO 8601 date" in _refused(http, "day[after]=someday")


ROOT = Path(__file__).resolve().parents[2]
USER_KEY = "filter-values-tests-only-users-key-32-bytes"


def test_the_bookshop_refuses_a_rating_past_32_bits(
    database_url: str, serve: Callable[..., LiveServer]
) -> None:
    settings = Settings(database_url=database_url, resources_path=ROOT / "resources.yaml")
    app: Flask = create_app(settings, environ={"AUTH_JWT_KEY": USER_KEY})
    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    token = mint_user_token(USER_KEY, "HS256", "Kim", (), expires_in=3600)
    with httpx.Client(
        base_url=serve(app).url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        response = client.get("/reviews", params={"rating[gt]": "2147483648"})
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == (
            f"Invalid value '2147483648' for 'rating[gt]': the value must be {INT_RANGE}."
        )
        assert client.get("/reviews", params={"rating[gt]": "2147483647"}).status_code == 200
    with app.app_context():
        app.extensions["model_registry"].db.engine.dispose()
