"""Items serialize to API Platform's JSON-LD shape without a request context."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from flask import Flask, has_request_context

from app.models import ModelRegistry
from app.schemas import serialize_item, serialize_members
from tests.api import specs

GADGET = specs.GADGET


def _gadget(registry: ModelRegistry, **values: Any) -> Any:
    model = registry.model("Gadget")
    return model(id=4, **{"name": "G", "active": True, "code": "C-1", **values})


def test_item_shape_and_types(registry: ModelRegistry) -> None:
    assert not has_request_context()
    obj = _gadget(
        registry,
        price=decimal.Decimal("3.50"),
        launchedAt=dt.datetime(2024, 1, 2, 3, 4, 5),
        releaseDate=dt.date(2024, 1, 2),
        serial=uuid.UUID(int=1),
        specs={"a": [1]},
        secret="never shown",
        maker_id=9,
    )
    assert serialize_item(registry, GADGET, obj) == {
        "@context": "/contexts/Gadget",
        "@id": "/gadgets/4",
        "@type": "Gadget",
        "id": 4,
        "name": "G",
        "notes": None,
        "quantity": None,
        "weight": None,
        "price": "3.50",
        "active": True,
        "releaseDate": "2024-01-02",
        "launchedAt": "2024-01-02T03:04:05+00:00",
        "serial": "00000000-0000-0000-0000-000000000001",
        "specs": {"a": [1]},
        "color": None,
        "code": "C-1",
        "internal": None,
        "maker": "/makers/9",
    }


def test_aware_datetimes_are_written_in_utc(registry: ModelRegistry) -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    obj = _gadget(registry, launchedAt=dt.datetime(2024, 1, 2, 12, 0, tzinfo=paris))
    assert serialize_item(registry, GADGET, obj)["launchedAt"] == "2024-01-02T10:00:00+00:00"


def test_plain_json_has_no_json_ld_keys(registry: ModelRegistry) -> None:
    data = serialize_item(registry, GADGET, _gadget(registry), jsonld=False)
    assert data["id"] == 4
    assert not [k for k in data if k.startswith("@")]


def test_groups_select_fields_and_relations(registry: ModelRegistry) -> None:
    obj = _gadget(registry, maker_id=2, internal="i")
    public = serialize_item(registry, GADGET, obj, groups=("public",))
    assert public == {
        "@context": "/contexts/Gadget",
        "@id": "/gadgets/4",
        "@type": "Gadget",
        "id": 4,
        "name": "G",
        "maker": "/makers/2",
    }
    admin = serialize_item(registry, GADGET, obj, groups=("admin", "other"))
    assert set(admin) - {"@context", "@id", "@type"} == {"id", "internal"}
    assert serialize_item(registry, GADGET, obj, groups=("nobody",))["id"] == 4


def test_members_have_no_context(registry: ModelRegistry) -> None:
    model = registry.model("Maker")
    members = serialize_members(registry, registry.spec.resource("Maker"), [model(id=1, name="a")])
    assert members == [{"@id": "/makers/1", "@type": "Maker", "id": 1, "name": "a"}]


def test_works_after_commit_inside_an_app_context(
    app_registry: tuple[Flask, ModelRegistry],
) -> None:
    app, registry = app_registry
    with app.app_context():
        maker = registry.model("Maker")(name="Committed")
        registry.db.session.add(maker)
        registry.db.session.commit()
        data = serialize_item(registry, registry.resource_for(maker), maker)
    assert data["@id"] == f"/makers/{data['id']}"
    assert data["name"] == "Committed"
