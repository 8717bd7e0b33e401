"""Real constraint violations from both databases map to 409/422 on the right property."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import DBAPIError

from app.api.integrity import classify, delete_error, property_of, write_error
from app.errors import Conflict, ValidationFailed
from app.models import ModelRegistry
from tests.api.databases import reset
from tests.api.specs import GADGET, MAKER, PART


def _violate(app: Flask, registry: ModelRegistry, act: Callable[[Any], None]) -> DBAPIError:
    with app.app_context():
        session = registry.db.session
        try:
            act(session)
            session.commit()
        except DBAPIError as error:
            session.rollback()
            return error
    raise AssertionError("the database accepted the change")


def _gadget(registry: ModelRegistry, **values: Any) -> Any:
    return registry.model("Gadget")(**{"name": "g", "active": True, **values})


def test_unique(catalog_app: tuple[Flask, ModelRegistry]) -> None:
    app, registry = catalog_app
    reset(app, registry)
    error = _violate(app, registry, lambda s: s.add_all([_gadget(registry), _gadget(registry)]))
    assert (classify(error, GADGET).kind, classify(error, GADGET).column) == ("unique", "name")
    mapped = write_error(error, GADGET, {"name": "g"})
    assert isinstance(mapped, Conflict)
    assert "name 'g'" in mapped.detail


def test_foreign_key_on_write(catalog_app: tuple[Flask, ModelRegistry]) -> None:
    app, registry = catalog_app
    reset(app, registry)
    error = _violate(app, registry, lambda s: s.add(_gadget(registry, maker_id=404)))
    assert classify(error, GADGET).kind == "foreign_key"
    mapped = write_error(error, GADGET, {})
    assert isinstance(mapped, ValidationFailed)
    assert [v.property_path for v in mapped.violations] == ["maker"]


def test_not_null(catalog_app: tuple[Flask, ModelRegistry]) -> None:
    app, registry = catalog_app
    reset(app, registry)
    error = _violate(app, registry, lambda s: s.add(registry.model("Maker")()))
    failure = classify(error, MAKER)
    assert (failure.kind, failure.column) == ("not_null", "name")
    mapped = write_error(error, MAKER, {})
    assert isinstance(mapped, ValidationFailed)
    assert mapped.violations[0].property_path == "name"


def test_foreign_key_on_delete(catalog_app: tuple[Flask, ModelRegistry]) -> None:
    app, registry = catalog_app
    reset(app, registry)
    with app.app_context():
        maker = registry.model("Maker")(name="m")
        gadget = _gadget(registry)
        part = registry.model("Part")(label="p", gadget=gadget, supplier=maker)
        registry.db.session.add(part)
        registry.db.session.commit()
        maker_id = maker.id

    def delete(session: Any) -> None:
        session.delete(session.get(registry.model("Maker"), maker_id))

    error = _violate(app, registry, delete)
    mapped = delete_error(error, MAKER, "/makers/1")
    assert isinstance(mapped, Conflict)
    assert "still referenced" in mapped.detail


@pytest.mark.parametrize("resource", [GADGET, PART])
def test_unknown_columns_map_to_no_property(resource: Any) -> None:
    assert property_of(resource, None) == ""
    assert property_of(resource, "nope") == ""
