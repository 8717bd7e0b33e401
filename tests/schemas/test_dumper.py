"""The compiled output schema writes exactly what marshmallow's dump writes, from an item
or from its Core row, and JSON documents of plain values encode as ``json.dumps`` does."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models import ModelRegistry
from app.schemas import schemas_for, serialize_item
from app.schemas.encoder import encode_document
from tests.api import specs

GADGET = specs.GADGET

values = st.fixed_dictionaries(
    {
        "name": st.text(max_size=20),
        "notes": st.none() | st.text(),
        "quantity": st.none() | st.integers(0, 1000),
        "weight": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "price": st.none()
        | st.decimals(min_value=-999999, max_value=999999, places=2, allow_nan=False),
        "active": st.booleans(),
        "releaseDate": st.none() | st.dates(),
        "launchedAt": st.none() | st.datetimes(timezones=st.none() | st.timezones()),
        "serial": st.none() | st.uuids(),
        "specs": st.none() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        "color": st.none() | st.sampled_from(["red", "green", "blue"]),
        "code": st.text(max_size=10),
        "internal": st.none() | st.text(max_size=10),
        "maker_id": st.none() | st.integers(1, 2**31),
    }
)


@settings(max_examples=200, deadline=None)
@given(values)
def test_a_compiled_dump_is_marshmallows(registry: ModelRegistry, fields: dict[str, Any]) -> None:
    schemas = schemas_for(registry)
    obj = registry.model("Gadget")(id=7, **fields)
    compiled = schemas.dumper(GADGET).dump(obj)
    expected = schemas.output(GADGET).dump(obj)
    assert compiled == expected
    assert list(compiled) == list(expected)


def test_a_row_dumps_as_its_item(app_registry: tuple[Flask, ModelRegistry]) -> None:
    app, registry = app_registry
    model = registry.model("Gadget")
    schemas = schemas_for(registry)
    dumper = schemas.dumper(GADGET)
    with app.app_context():
        session = registry.db.session
        maker = registry.model("Maker")(name="M")
        session.add(maker)
        session.flush()
        obj = model(
            name="row",
            weight=1e16,
            price=decimal.Decimal("3.5"),
            releaseDate=dt.date(2024, 1, 2),
            launchedAt=dt.datetime(2024, 1, 2, 3, 4, 5),
            serial=uuid.UUID(int=3),
            specs={"a": [1, 2.5]},
            color="red",
            maker_id=maker.id,
        )
        session.add(obj)
        session.commit()
        row = session.execute(sa.select(*dumper.columns).where(model.id == obj.id)).one()
        expected = schemas.output(GADGET).dump(session.get(model, obj.id))
        assert dumper.dump_row(row) == expected
        assert list(dumper.dump_row(row)) == list(expected)
        assert row.maker_id == maker.id  # the rules read the row's attributes
        session.rollback()


def test_a_rows_item_document_is_its_items_encoded_once_per_row(
    app_registry: tuple[Flask, ModelRegistry],
) -> None:
    app, registry = app_registry
    model = registry.model("Gadget")
    dumper = schemas_for(registry).dumper(GADGET)
    select = sa.select(*dumper.columns).where(model.id == sa.bindparam("id"))
    with app.app_context():
        session = registry.db.session
        obj = model(name="first", weight=2.5, releaseDate=dt.date(2024, 1, 2))
        session.add(obj)
        session.commit()
        row = session.execute(select, {"id": obj.id}).one()
        document = serialize_item(registry, GADGET, session.get(model, obj.id), jsonld=True)
        encoded = dumper.encode_item(row)
        assert encoded == encode_document(document)
        assert dumper.encode_item(row) is encoded  # the write's answer takes its update's

        obj.name = "second"
        session.commit()
        changed = session.execute(select, {"id": obj.id}).one()
        assert json.loads(dumper.encode_item(changed))["name"] == "second"
        assert json.loads(dumper.encode_item(row))["name"] == "first"  # never another row's


def test_only_resources_of_plain_values_take_the_fast_encoder(registry: ModelRegistry) -> None:
    schemas = schemas_for(registry)
    assert not schemas.dumper(GADGET).plain_json  # floats, decimals, JSON...
    assert schemas.dumper(specs.MAKER).plain_json


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(plain)
def test_plain_documents_encode_byte_for_byte_as_json_dumps(document: Any) -> None:
    expected = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    assert encode_document(document, plain=True) == expected


def test_what_the_fast_encoder_refuses_goes_the_standard_way() -> None:
    assert encode_document({"n": 2**70}, plain=True) == b'{"n":1180591620717411303424}'
