"""A flushed item is serialized once per flush, and never served stale."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.models import ModelRegistry
from app.schemas import serialize_flushed, serialize_item
from tests.api import specs

GADGET = specs.GADGET


@pytest.fixture
def session(app_registry: tuple[Flask, ModelRegistry]) -> Iterator[Session]:
    app, registry = app_registry
    with app.app_context():
        session = registry.db.session
        yield session
        session.rollback()
        session.close()


def _flushed_gadget(registry: ModelRegistry, session: Session, name: str = "G") -> Any:
    gadget = registry.model("Gadget")(name=name, active=True, code="C-1")
    session.add(gadget)
    session.flush()
    return gadget


def test_one_document_per_flush_is_shared(registry: ModelRegistry, session: Session) -> None:
    gadget = _flushed_gadget(registry, session)
    first = serialize_flushed(registry, GADGET, gadget, session)
    assert serialize_flushed(registry, GADGET, gadget, session) is first
    assert first == serialize_item(registry, GADGET, gadget)
    public = serialize_flushed(registry, GADGET, gadget, session, groups=("public",))
    assert public is not first
    assert public == serialize_item(registry, GADGET, gadget, groups=("public",))
    plain = serialize_flushed(registry, GADGET, gadget, session, jsonld=False)
    assert plain == serialize_item(registry, GADGET, gadget, jsonld=False)
    assert not any(key.startswith("@") for key in plain)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s, g: setattr(g, "name", "Changed"), id="pending change"),
        pytest.param(lambda s, g: (setattr(g, "name", "Changed"), s.flush()), id="new flush"),
        pytest.param(lambda s, g: s.expire(g), id="expired"),
        pytest.param(lambda s, g: s.refresh(g), id="refreshed"),
    ],
)
def test_a_changed_item_is_serialized_again(
    registry: ModelRegistry, session: Session, change: Any
) -> None:
    gadget = _flushed_gadget(registry, session)
    first = serialize_flushed(registry, GADGET, gadget, session)
    change(session, gadget)
    again = serialize_flushed(registry, GADGET, gadget, session)
    assert again is not first
    assert again == serialize_item(registry, GADGET, gadget)


def test_commit_and_rollback_forget_every_document(
    registry: ModelRegistry, session: Session
) -> None:
    gadget = _flushed_gadget(registry, session, "Kept")
    first = serialize_flushed(registry, GADGET, gadget, session)
    session.commit()
    assert serialize_flushed(registry, GADGET, gadget, session) is not first
    other = _flushed_gadget(registry, session, "Dropped")
    kept = serialize_flushed(registry, GADGET, other, session)
    session.rollback()
    assert "app.schemas.flushed" not in session.info
    assert kept["name"] == "Dropped"
