"""A constraint the API does not know about keeps its 409/422, without the driver's text.

A rule the database enforces by itself (here a trigger, as a database administrator might
add) refuses writes and deletes with a message of its own. The client gets the usual
status and a generic sentence; the database's message goes to the log.
"""

from __future__ import annotations

import logging

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from app.models import ModelRegistry

SECRET = "internal rule 7 of the accounts team"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER gadget_small_insert BEFORE INSERT ON gadget WHEN NEW.quantity > 500
        BEGIN SELECT RAISE(ABORT, '{SECRET}'); END""",
    f"""CREATE TRIGGER gadget_small_update BEFORE UPDATE ON gadget WHEN NEW.quantity > 500
        BEGIN SELECT RAISE(ABORT, '{SECRET}'); END""",
    f"""CREATE TRIGGER gadget_kept BEFORE DELETE ON gadget WHEN OLD.name = 'kept'
        BEGIN SELECT RAISE(ABORT, '{SECRET}'); END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION gadget_rules() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.name = 'kept' THEN
                    RAISE EXCEPTION '{SECRET}' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN OLD;
            END IF;
            IF NEW.quantity > 500 THEN
                RAISE EXCEPTION '{SECRET}' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER gadget_rules BEFORE INSERT OR UPDATE OR DELETE ON gadget
        FOR EACH ROW EXECUTE FUNCTION gadget_rules()""",
]


@pytest.fixture(scope="module", autouse=True)
def triggers(catalog_app: tuple[Flask, ModelRegistry]) -> None:
    app, registry = catalog_app
    with app.app_context(), registry.db.engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
            connection.execute(sa.text(statement))


def _refused(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert SECRET not in response.text
    body: dict[str, object] = response.json()
    return body


def test_a_refused_create_or_update_is_422_without_the_database_message(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.api.integrity"):
        body = _refused(client.post("/gadgets", json={"name": "big", "quantity": 600}), 422)
        assert body["violations"] == [
            {"propertyPath": "", "message": "The database refused this value."}
        ]
        created = client.post("/gadgets", json={"name": "small", "quantity": 6})
        assert created.status_code == 201
        iri = created.headers["Location"]  # PostgreSQL's sequence skipped the refused row
        merge = {"Content-Type": "application/merge-patch+json"}
        _refused(client.patch(iri, json={"quantity": 700}, headers=merge), 422)
        _refused(client.put(iri, json={"name": "small", "quantity": 700}), 422)
    assert client.get(iri).json()["quantity"] == 6
    logged = [r.getMessage() for r in caplog.records if r.name == "app.api.integrity"]
    assert len(logged) == 3
    assert all(m.startswith("Gadget: the database refused a write: ") for m in logged)
    assert all(SECRET in m for m in logged)


def test_a_refused_delete_is_409_without_the_database_message(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    assert client.post("/gadgets", json={"name": "kept"}).status_code == 201
    with caplog.at_level(logging.WARNING, logger="app.api.integrity"):
        body = _refused(client.delete("/gadgets/1"), 409)
    assert body["detail"] == "Gadget /gadgets/1 cannot be deleted: the database refused it."
    (record,) = caplog.records
    assert record.getMessage().startswith("Gadget: the database refused to delete /gadgets/1: ")
    assert SECRET in record.getMessage()
    assert client.get("/gadgets/1").status_code == 200
