"""A registry of the catalog spec on an in-memory SQLite database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app import models
from app.models import ModelRegistry
from tests.api import specs


@pytest.fixture(scope="module")
def app_registry() -> Iterator[tuple[Flask, ModelRegistry]]:
    app = Flask("schemas-test")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    registry = models.init_app(app, specs.CATALOG)
    with app.app_context():
        registry.db.create_all()
    yield app, registry
    with app.app_context():
        registry.db.engine.dispose()


@pytest.fixture(scope="module")
def registry(app_registry: tuple[Flask, ModelRegistry]) -> ModelRegistry:
    return app_registry[1]
