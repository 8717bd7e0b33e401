"""Fixtures of the REST tests: every database-backed test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import flask_migrate
import httpx
import pytest
from flask import Flask

from app import create_app
from app.config.spec import ResourcesSpec
from app.models import ModelRegistry
from app.settings import Settings
from tests.api import specs
from tests.api.databases import (
    KINDS,
    Databases,
    build_app,
    databases_fixture,
    dispose,
    reset,
)
from tests.services import LiveServer

HUB_URL = "/.well-known/mercure"
AppFactory = Callable[..., tuple[Flask, ModelRegistry]]


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    yield from databases_fixture(tmp_path_factory)


@pytest.fixture(params=KINDS)
def database_url(request: pytest.FixtureRequest, databases: Databases) -> str:
    """An empty database of each kind."""
    return databases.url(request.param)


@pytest.fixture
def make_app(database_url: str) -> Iterator[AppFactory]:
    """``make_app(spec, hub_url=None, **config)`` -> (app, registry) on the test's database."""
    built: list[tuple[Flask, ModelRegistry]] = []

    def make(
        spec: ResourcesSpec = specs.CATALOG, *, hub_url: str | None = None, **config: object
    ) -> tuple[Flask, ModelRegistry]:
        pair = build_app(spec, database_url, hub_url=hub_url, **config)
        built.append(pair)
        return pair

    yield make
    for pair in built:
        dispose(*pair)


@pytest.fixture(scope="module", params=KINDS)
def catalog_app(
    request: pytest.FixtureRequest, databases: Databases
) -> Iterator[tuple[Flask, ModelRegistry]]:
    """The catalog app of one module on each kind of database (tables emptied per test)."""
    pair = build_app(specs.CATALOG, databases.url(request.param), hub_url=HUB_URL)
    yield pair
    dispose(*pair)


@pytest.fixture
def client(
    catalog_app: tuple[Flask, ModelRegistry], serve: Callable[..., LiveServer]
) -> Iterator[httpx.Client]:
    """An httpx client talking to the (emptied) catalog app on a real gevent server."""
    reset(*catalog_app)
    live = serve(catalog_app[0])
    with httpx.Client(base_url=live.url, timeout=10) as http:
        yield http


BOOKSHOP_USER_KEY = "bookshop-tests-only-users-key-of-at-least-32-bytes"
"""The key of the users' tokens the ``bookshop`` gateway accepts."""


@pytest.fixture
def bookshop(database_url: str, serve: Callable[..., LiveServer]) -> Iterator[httpx.Client]:
    """A client of the shipped bookshop, migrated, served on loopback."""
    settings = Settings(database_url=database_url, resources_path=ROOT / "resources.yaml")
    app: Flask = create_app(settings, environ={"AUTH_JWT_KEY": BOOKSHOP_USER_KEY})
    with app.app_context():
        flask_migrate.upgrade()
    live = serve(app)
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client
    dispose(app, app.extensions["model_registry"])
