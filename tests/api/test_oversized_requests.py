"""Requests whose cost would grow with their size are refused at a bound: a body naming
many unknown properties, a search repeating many values."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import httpx

from app.api.filters import MAX_SEARCH_VALUES
from app.config.spec import ResourcesSpec
from app.schemas.payload import MAX_UNKNOWN_REPORTED
from tests.api.conftest import AppFactory
from tests.api.specs import CATALOG
from tests.services import LiveServer


def test_many_unknown_properties_get_a_bounded_422_when_strict(
    make_app: AppFactory, serve: Callable[..., LiveServer]
) -> None:
    strict = replace(CATALOG.resource("Maker"), allow_extra_attributes=False)
    app, _registry = make_app(ResourcesSpec((strict,)))
    body = {"name": "ACME", **{f"k{n}": 1 for n in range(50_000)}}
    response = httpx.post(
        f"{serve(app).url}/makers",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    violations = response.json()["violations"]
    assert len(violations) == MAX_UNKNOWN_REPORTED + 1
    assert violations[0]["propertyPath"] == "k0"
    assert violations[-1]["message"] == (
        f"{50_000 - MAX_UNKNOWN_REPORTED} more unknown properties are not listed."
    )
    assert len(response.content) < 20_000


def test_many_unknown_properties_are_dropped_by_default(client: httpx.Client) -> None:
    body = {"name": "ACME", **{f"k{n}": 1 for n in range(50_000)}}
    response = client.post(
        "/makers", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201
    assert set(response.json()) == {"@context", "@id", "@type", "id", "name"}


def test_a_search_repeating_too_many_values_is_400(client: httpx.Client) -> None:
    query = "&".join(["name=a"] * (MAX_SEARCH_VALUES + 1))
    response = client.get(f"/gadgets?{query}")
    assert response.status_code == 400
    assert f"a search takes at most {MAX_SEARCH_VALUES}" in response.json()["detail"]
    at_the_bound = "&".join(["name=a"] * MAX_SEARCH_VALUES)
    assert client.get(f"/gadgets?{at_the_bound}").status_code == 200
