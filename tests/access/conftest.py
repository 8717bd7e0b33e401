"""Fixtures of the access tests: the items of :mod:`tests.access.rules` stored in a real
database, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app import models
from app.config.loader import load_text
from tests.access.rules import RESOURCE_YAML
from tests.api.databases import KINDS, Databases, databases_fixture


@dataclass
class Store:
    """The ``Item`` model of :data:`RESOURCE_YAML` on one database."""

    app: Flask
    db: Any
    model: type[Any]

    def replace(self, values: list[dict[str, Any]]) -> list[Any]:
        """Store exactly ``values`` as rows with ids 1..n; return them as loaded rows."""
        session = self.db.session
        session.execute(sa.delete(self.model))
        session.add_all(self.model(id=index, **value) for index, value in enumerate(values, 1))
        session.commit()
        session.expunge_all()
        return list(session.scalars(sa.select(self.model).order_by(self.model.id)))

    def ids(self, clause: Any) -> set[int]:
        """The ids of the rows ``clause`` selects."""
        return set(self.db.session.scalars(sa.select(self.model.id).where(clause)))


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    yield from databases_fixture(tmp_path_factory)


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest, databases: Databases) -> Iterator[Store]:
    """The items table on each kind of database, in an application context."""
    spec = load_text(RESOURCE_YAML, "resources.yaml", {})
    app = Flask("access-tests")
    app.config["SQLALCHEMY_DATABASE_URI"] = databases.url(request.param)
    registry = models.init_app(app, spec)
    with app.app_context():
        registry.db.create_all()
        yield Store(app, registry.db, registry.model("Item"))
        registry.db.session.remove()
        registry.db.engine.dispose()
