"""Hostile or extreme input gets a 4xx problem, never a 500, on both databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

POSTS: list[tuple[Any, int]] = [
    ({"name": "a", "launchedAt": "9999-12-31T23:00:00-05:00"}, 422),
    ({"name": "b", "launchedAt": "0001-01-01T00:00:00+01:00"}, 422),
    ({"name": "c\u0000"}, 422),
    ({"name": "d", "price": "1e1000000"}, 422),
    ({"name": "f", "price": "sNaN"}, 422),
    ({"name": "g", "price": "Infinity"}, 422),
    ({"name": "h", "weight": 1e308}, 201),
    ({"name": "j", "maker": "/makers/2147483648"}, 422),
    ({"name": "k", "maker": "/makers/999999999999999999"}, 422),
    ({"name": "l", "releaseDate": "0000-01-01"}, 422),
    ({"name": "m", "specs": {"deep": [[[[{"x": None}]]]]}}, 201),
]


@pytest.mark.parametrize(("body", "status"), POSTS)
def test_extreme_bodies(client: httpx.Client, body: Any, status: int) -> None:
    response = client.post("/gadgets", json=body)
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\\ud800"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"name": "\xff"}',
        b"",
    ],
)
def test_undecodable_bodies_are_400(client: httpx.Client, raw: bytes) -> None:
    response = client.post("/gadgets", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/gadgets?quantity[gt]=99999999999999999999999", 400),
        ("/gadgets?maker=99999999999999999999999", 400),
        ("/gadgets?name=%00", 400),
        ("/gadgets?serial=%00", 400),
        ("/gadgets?releaseDate[before]=99999-01-01", 400),
        ("/gadgets?launchedAt[before]=9999-12-31T23:00:00-05:00", 400),
        ("/gadgets?price[gt]=1e1000000", 400),
        ("/gadgets?price[gt]=NaN", 400),
        ("/gadgets?weight[gt]=inf", 400),
        ("/gadgets?page=99999999999999999999999", 400),
        ("/gadgets?itemsPerPage=99999999999999999999999", 400),
        ("/gadgets?page=2147483647", 200),
        ("/gadgets/99999999999999999999999", 404),
        ("/gadgets/2147483648", 404),
    ],
)
def test_extreme_queries(client: httpx.Client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert client.delete(path).status_code in (404, 405)
