"""Every API error has the one problem+json shape, and each status is reachable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask import Flask

from app import errors
from app.errors import ApiError, ValidationFailed, Violation

SHAPE = {"@context", "@type", "type", "title", "status", "detail", "description"}


def _all_subclasses(cls: type[ApiError]) -> list[type[ApiError]]:
    found: list[type[ApiError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    # The private adapter of werkzeug errors is covered by the HTTP 404/405 tests below.
    return [c for c in found if not c.__name__.startswith("_")]


def _instance(cls: type[ApiError]) -> ApiError:
    if issubclass(cls, ValidationFailed):
        return cls([Violation("name", "This value should not be blank.")])
    return cls("what went wrong")


@pytest.mark.parametrize("cls", [ApiError, *_all_subclasses(ApiError)], ids=lambda c: c.__name__)
def test_every_api_error_renders_the_problem_shape(cls: type[ApiError]) -> None:
    app = Flask("errors-shape")
    errors.init_app(app)
    error = _instance(cls)

    @app.get("/boom")
    def boom() -> Any:
        raise error

    response = app.test_client().get("/boom")
    body = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert set(body) >= SHAPE
    assert response.status_code == body["status"]
    assert body["type"].endswith(str(body["status"]))
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if isinstance(error, ValidationFailed):
        assert body["violations"] == [
            {"propertyPath": "name", "message": "This value should not be blank."}
        ]


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert set(body) >= SHAPE
    return body


def test_400_for_malformed_json(client: httpx.Client) -> None:
    response = client.post(
        "/gadgets", content=b'{"name": ', headers={"Content-Type": "application/ld+json"}
    )
    assert "not valid JSON" in _problem(response, 400)["detail"]


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"[1, 2]", "The request body must be a JSON object, not an array."),
        (b'"text"', "The request body must be a JSON object, not a string."),
        (b"null", "The request body must be a JSON object, not null."),
        (b"true", "The request body must be a JSON object, not a boolean."),
        (b"1.5", "The request body must be a JSON object, not a number."),
        (b"NaN", "The request body is not valid JSON: NaN is not a JSON value."),
        (b'{"name": NaN}', "The request body is not valid JSON: NaN is not a JSON value."),
    ],
)
def test_400_for_json_that_is_not_an_object(client: httpx.Client, raw: bytes, detail: str) -> None:
    response = client.post("/gadgets", content=raw, headers={"Content-Type": "application/json"})
    assert _problem(response, 400)["detail"] == detail


@pytest.mark.parametrize(
    "path", ["/gadgets/1", "/gadgets/abc", "/nothing", "/gadgets/1/extra", "/contexts/Nope"]
)
def test_404(client: httpx.Client, path: str) -> None:
    _problem(client.get(path), 404)


def test_404_on_write_to_missing_item(client: httpx.Client) -> None:
    _problem(client.put("/gadgets/5", json={"name": "x"}), 404)
    _problem(client.delete("/gadgets/5"), 404)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/gadgets", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("POST", "/gadgets/1", {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}),
        ("POST", "/notes", {"GET", "HEAD", "OPTIONS"}),
        ("PUT", "/notes/1", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_405_lists_allowed_methods(
    client: httpx.Client, method: str, path: str, allow: set[str]
) -> None:
    response = client.request(method, path, json={})
    _problem(response, 405)
    assert {m.strip() for m in response.headers["allow"].split(",")} == allow


def test_406_for_unsupported_accept(client: httpx.Client) -> None:
    body = _problem(client.get("/gadgets", headers={"Accept": "text/csv"}), 406)
    assert "application/ld+json" in body["detail"]


def test_409_for_unique_violation(client: httpx.Client) -> None:
    client.post("/gadgets", json={"name": "Same"})
    body = _problem(client.post("/gadgets", json={"name": "Same"}), 409)
    assert "name" in body["detail"]
    other = client.post("/gadgets", json={"name": "Other"}).json()["@id"]
    _problem(client.patch(other, json={"name": "Same"}, headers=_MERGE), 409)


def test_409_when_deleting_a_referenced_item(client: httpx.Client) -> None:
    client.post("/makers", json={"name": "M"})
    client.post("/gadgets", json={"name": "G"})
    client.post("/parts", json={"label": "p", "gadget": "/gadgets/1", "supplier": "/makers/1"})
    body = _problem(client.delete("/makers/1"), 409)
    assert "/makers/1" in body["detail"]
    assert client.get("/makers/1").status_code == 200


_MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/gadgets", "text/plain"),
        ("POST", "/gadgets", "application/x-www-form-urlencoded"),
        ("PUT", "/gadgets/1", "application/xml"),
        ("PATCH", "/gadgets/1", "application/json"),
        ("PATCH", "/gadgets/1", "application/ld+json"),
    ],
)
def test_415_for_unsupported_content_type(
    client: httpx.Client, method: str, path: str, content_type: str
) -> None:
    client.post("/gadgets", json={"name": "x"})
    response = client.request(
        method, path, content=b'{"name": "y"}', headers={"Content-Type": content_type}
    )
    assert content_type in _problem(response, 415)["detail"]


def test_415_without_content_type(client: httpx.Client) -> None:
    _problem(client.post("/gadgets", content=b'{"name": "y"}'), 415)
