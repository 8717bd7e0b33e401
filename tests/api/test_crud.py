"""Create, read, replace, patch and delete through HTTP, with every field type."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from flask import Flask

from app.models import ModelRegistry

MERGE = {"Content-Type": "application/merge-patch+json"}

FULL = {
    "name": "Widget",
    "notes": "A fine widget",
    "quantity": 7,
    "weight": 1.5,
    "price": "19.90",
    "active": False,
    "releaseDate": "2024-02-29",
    "launchedAt": "2024-03-01T10:30:00+02:00",
    "serial": "123e4567-e89b-12d3-a456-426614174000",
    "specs": {"size": [1, 2], "nested": {"ok": True}},
    "color": "green",
    "secret": "s3cret",
    "internal": "x",
}


def test_post_creates_item_with_every_field_type(client: httpx.Client) -> None:
    maker = client.post("/makers", json={"name": "ACME"}).json()
    response = client.post("/gadgets", json={**FULL, "maker": maker["@id"]})
    assert response.status_code == 201
    assert response.headers["location"] == "/gadgets/1"
    assert response.headers["content-type"] == "application/ld+json; charset=utf-8"
    assert response.headers["accept-patch"] == "application/merge-patch+json"
    assert response.json() == {
        "@context": "/contexts/Gadget",
        "@id": "/gadgets/1",
        "@type": "Gadget",
        "id": 1,
        "name": "Widget",
        "notes": "A fine widget",
        "quantity": 7,
        "weight": 1.5,
        "price": "19.90",
        "active": False,
        "releaseDate": "2024-02-29",
        "launchedAt": "2024-03-01T08:30:00+00:00",
        "serial": "123e4567-e89b-12d3-a456-426614174000",
        "specs": {"size": [1, 2], "nested": {"ok": True}},
        "color": "green",
        "code": "G-0",
        "internal": "x",
        "maker": "/makers/1",
    }
    assert client.get("/gadgets/1").json() == response.json()


def test_write_responses_show_what_later_reads_return(client: httpx.Client) -> None:
    # The write path serializes the flushed item without reading it back: values the
    # database could store differently from how they were sent must already agree.
    sent = {
        "name": "Loose",
        "weight": 2,
        "price": "7.5",
        "launchedAt": "2024-03-01T10:30:00.123456-05:00",
        "specs": {"b": 1.0, "a": [True, None]},
    }
    created = client.post("/gadgets", json=sent).json()
    assert (created["weight"], created["price"]) == (2.0, "7.50")
    assert created["launchedAt"] == "2024-03-01T15:30:00.123456+00:00"
    assert client.get("/gadgets/1").json() == created
    patched = client.patch("/gadgets/1", json={"price": 3, "quantity": 0}, headers=MERGE)
    assert patched.json()["price"] == "3.00"
    assert client.get("/gadgets/1").json() == patched.json()
    replaced = client.put("/gadgets/1", json={"name": "Tight", "price": "0.1"}).json()
    assert client.get("/gadgets/1").json() == replaced


def test_writes_do_not_read_the_item_back(
    client: httpx.Client, catalog_app: tuple[Flask, ModelRegistry]
) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]).split(None, 1)[0].upper())

    maker = client.post("/makers", json={"name": "ACME"}).json()["@id"]
    app, registry = catalog_app
    with app.app_context():
        engine = registry.db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.post("/gadgets", json={"name": "Q", "maker": maker}).status_code == 201
        created = list(statements)
        statements.clear()
        patch = client.patch("/gadgets/1", json={"quantity": 4}, headers=MERGE)
        assert patch.status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    # POST: check that the maker exists, then insert; PATCH: load, then update.
    assert created == ["SELECT", "INSERT"]
    assert statements == ["SELECT", "UPDATE"]


def test_a_write_that_changes_nothing_sends_no_update(
    client: httpx.Client, catalog_app: tuple[Flask, ModelRegistry]
) -> None:
    """Values equal to the stored ones, a datetime included (SQLite gives it back without
    its offset), send no ``UPDATE``; one changed value sends one."""
    moment = "2024-01-01T10:00:00+00:00"
    client.post("/gadgets", json={"name": "Same", "launchedAt": moment, "specs": {"a": 1}})
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]).split(None, 1)[0].upper())

    app, registry = catalog_app
    with app.app_context():
        engine = registry.db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        same = {"name": "Same", "launchedAt": moment, "specs": {"a": 1}}
        assert client.patch("/gadgets/1", json=same, headers=MERGE).status_code == 200
        unchanged = list(statements)
        statements.clear()
        changed = {"launchedAt": "2024-01-01T11:00:00+01:00", "name": "Other"}
        assert client.patch("/gadgets/1", json=changed, headers=MERGE).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert unchanged == ["SELECT"]
    assert statements == ["SELECT", "UPDATE"]


def test_defaults_and_nulls_apply_when_fields_are_omitted(client: httpx.Client) -> None:
    created = client.post("/gadgets", json={"name": "Bare"}).json()
    assert created["active"] is True
    assert created["code"] == "G-0"
    for name in ("notes", "quantity", "price", "launchedAt", "serial", "specs", "maker"):
        assert created[name] is None
    assert "secret" not in created


def test_datetime_without_offset_is_utc(client: httpx.Client) -> None:
    created = client.post("/gadgets", json={"name": "N", "launchedAt": "2024-01-01T00:00:00"})
    assert created.json()["launchedAt"] == "2024-01-01T00:00:00+00:00"


def test_put_replaces_the_whole_item(client: httpx.Client) -> None:
    client.post("/gadgets", json={"name": "Old", "notes": "kept?", "quantity": 3})
    response = client.put("/gadgets/1", json={"name": "New", "active": True})
    assert response.status_code == 200
    assert response.headers["accept-patch"] == "application/merge-patch+json"
    body = response.json()
    assert (body["name"], body["notes"], body["quantity"]) == ("New", None, None)
    assert client.get("/gadgets/1").json() == body


def test_put_needs_required_fields(client: httpx.Client) -> None:
    client.post("/gadgets", json={"name": "Old"})
    response = client.put("/gadgets/1", json={"notes": "no name"})
    assert response.status_code == 422
    assert response.json()["violations"] == [
        {"propertyPath": "name", "message": "This value should not be blank."}
    ]


def test_patch_merges_and_json_fields_merge_recursively(client: httpx.Client) -> None:
    client.post("/gadgets", json={"name": "P", "quantity": 1, "specs": {"a": 1, "b": {"c": 2}}})
    patch = {"quantity": 2, "notes": None, "specs": {"b": {"d": 3}, "a": None}}
    response = client.patch("/gadgets/1", json=patch, headers=MERGE)
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["quantity"], body["notes"]) == ("P", 2, None)
    assert body["specs"] == {"b": {"c": 2, "d": 3}}


def test_a_json_value_of_another_type_is_a_change(client: httpx.Client) -> None:
    """``true`` is not ``1`` in a JSON document, though Python finds them equal."""
    client.post("/gadgets", json={"name": "J", "specs": {"on": 1, "list": [2]}})
    changed = {"specs": {"on": True, "list": [2.0]}}
    response = client.patch("/gadgets/1", json=changed, headers=MERGE)
    for specs in (response.json()["specs"], client.get("/gadgets/1").json()["specs"]):
        assert specs["on"] is True  # not 1
        assert type(specs["list"][0]) is float  # not 2


def test_json_ld_keys_id_and_read_only_fields_are_ignored_on_write(
    client: httpx.Client,
) -> None:
    created = client.post("/gadgets", json={"name": "R"}).json()
    sent = {**created, "id": 99, "code": "hacked", "name": "R2"}
    body = client.put("/gadgets/1", json=sent).json()
    assert (body["id"], body["code"], body["name"]) == (1, "G-0", "R2")


def test_relations_are_written_as_iris_and_can_be_unset(client: httpx.Client) -> None:
    client.post("/makers", json={"name": "A"})
    client.post("/makers", json={"name": "B"})
    client.post("/gadgets", json={"name": "G", "maker": "/makers/1"})
    patched = client.patch("/gadgets/1", json={"maker": "/makers/2"}, headers=MERGE).json()
    assert patched["maker"] == "/makers/2"
    absolute = client.patch(
        "/gadgets/1", json={"maker": "http://example.com/makers/1"}, headers=MERGE
    ).json()
    assert absolute["maker"] == "/makers/1"
    unset = client.patch("/gadgets/1", json={"maker": None}, headers=MERGE).json()
    assert unset["maker"] is None


def test_delete_answers_204_then_404(client: httpx.Client) -> None:
    client.post("/gadgets", json={"name": "D"})
    response = client.delete("/gadgets/1")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/gadgets/1").status_code == 404


def test_delete_cascades_and_sets_null_as_declared(client: httpx.Client) -> None:
    client.post("/makers", json={"name": "M"})
    client.post("/gadgets", json={"name": "G", "maker": "/makers/1"})
    client.post("/parts", json={"label": "p", "gadget": "/gadgets/1"})
    assert client.delete("/makers/1").status_code == 204
    assert client.get("/gadgets/1").json()["maker"] is None
    assert client.delete("/gadgets/1").status_code == 204
    assert client.get("/parts/1").status_code == 404


def test_plain_json_item_has_no_json_ld_keys(client: httpx.Client) -> None:
    client.post("/gadgets", json={"name": "J"})
    body = client.get("/gadgets/1", headers={"Accept": "application/json"}).json()
    assert not [key for key in body if key.startswith("@")]
    assert body["name"] == "J"
