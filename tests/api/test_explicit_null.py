"""An explicit ``null`` means the same in POST, PUT and PATCH, as in API Platform.

API Platform denormalizes a request body onto an object: POST onto a new one, PUT (4.x's
standard PUT) onto a new one too, PATCH onto the stored one. A property *absent* from the
body keeps what that object has: its default on a new object, its stored value on PATCH.
A property *sent* as ``null`` is set to ``null`` when its type is nullable, and refused
when it is not. So ``null`` is never "use the default", whatever the method.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.config.spec import FieldSpec, RelationSpec, ResourceSpec, ResourcesSpec
from tests.api.databases import KINDS, Databases, build_app, dispose

MERGE = {"Content-Type": "application/merge-patch+json"}
OWNER = ResourceSpec(
    name="Owner", route="/owners", table="owner", fields=(FieldSpec("name", "string"),)
)
PLAN = ResourceSpec(
    name="Plan",
    route="/plans",
    table="plan",
    fields=(
        FieldSpec("label", "string", required=True, nullable=False),
        FieldSpec("tier", "string", default="basic"),
        FieldSpec("seats", "integer", default=5),
        FieldSpec("active", "boolean", default=True),
        FieldSpec("starts", "date", default=dt.date(2024, 1, 1)),
        FieldSpec("options", "json", default={"a": 1}),
        FieldSpec("kind", "enum", choices=("x", "y"), default="x", nullable=False),
    ),
    relations=(RelationSpec("owner", "Owner"),),
)
SPEC = ResourcesSpec(resources=(OWNER, PLAN))
DEFAULTS = {
    "tier": "basic",
    "seats": 5,
    "active": True,
    "starts": "2024-01-01",
    "options": {"a": 1},
    "kind": "x",
    "owner": None,
}
NULLABLE = ("tier", "seats", "active", "starts", "options", "owner")


@pytest.fixture(scope="module", params=KINDS)
def http(request: pytest.FixtureRequest, databases: Databases) -> Iterator[FlaskClient]:
    app, registry = build_app(SPEC, databases.url(request.param))
    client = app.test_client()
    assert client.post("/owners", json={"name": "o"}).status_code == 201
    yield client
    dispose(app, registry)


def _stored(http: FlaskClient, iri: str) -> dict[str, Any]:
    """The item as read back from the database by a later request."""
    response = http.get(iri, headers={"Accept": "application/json"})
    assert response.status_code == 200
    item: dict[str, Any] = response.get_json()
    return {name: item[name] for name in DEFAULTS}


def _create(http: FlaskClient, **values: Any) -> tuple[str, dict[str, Any]]:
    response = http.post("/plans", json={"label": "p", **values})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return response.headers["Location"], {name: body[name] for name in DEFAULTS}


def test_post_stores_null_when_null_is_sent_and_the_default_when_nothing_is(
    http: FlaskClient,
) -> None:
    iri, answered = _create(http)
    assert answered == _stored(http, iri) == DEFAULTS
    iri, answered = _create(http, **dict.fromkeys(NULLABLE))
    expected = {**DEFAULTS, **dict.fromkeys(NULLABLE)}
    assert answered == _stored(http, iri) == expected


def test_put_is_a_post_onto_the_same_id(http: FlaskClient) -> None:
    iri, _ = _create(http, tier="gold", seats=9, owner="/owners/1")
    response = http.put(iri, json={"label": "p", **dict.fromkeys(NULLABLE)})
    assert response.status_code == 200, response.get_json()
    assert _stored(http, iri) == {**DEFAULTS, **dict.fromkeys(NULLABLE)}
    assert http.put(iri, json={"label": "p"}).status_code == 200
    assert _stored(http, iri) == DEFAULTS


def test_patch_stores_null_when_null_is_sent_and_keeps_what_is_not(http: FlaskClient) -> None:
    iri, _ = _create(http, tier="gold", seats=9, owner="/owners/1")
    response = http.patch(iri, json={"tier": None, "owner": None}, headers=MERGE)
    assert response.status_code == 200, response.get_json()
    expected = {**DEFAULTS, "seats": 9, "tier": None, "owner": None}
    assert _stored(http, iri) == expected
    assert http.patch(iri, json={}, headers=MERGE).status_code == 200
    assert _stored(http, iri) == expected


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_null_for_a_non_nullable_field_is_refused_by_every_method(
    http: FlaskClient, method: str
) -> None:
    iri, _ = _create(http)
    path = "/plans" if method == "POST" else iri
    headers = MERGE if method == "PATCH" else {}
    response = http.open(path, method=method, json={"label": "p", "kind": None}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["violations"] == [
        {"propertyPath": "kind", "message": "This value should not be null."}
    ]
    assert _stored(http, iri)["kind"] == "x"
