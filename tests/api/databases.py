"""Fresh, isolated databases for tests: a SQLite file or a PostgreSQL schema.

PostgreSQL work happens in one database per test session (``test_rest_<random>``, dropped
at the end), and each application gets its own schema in it (selected through
``search_path``), so apps with different specs never see each other's tables and other
test suites using the server are not disturbed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app import api, errors, lifecycle, models
from app.auth import Auth
from app.auth.authenticator import Authenticator
from app.auth.settings import AuthSettings
from app.config.spec import ResourcesSpec
from app.models import ModelRegistry
from tests.services import require_postgres

KINDS = ("sqlite", pytest.param("postgres", marks=pytest.mark.postgres))


class Databases:
    """Hands out empty databases; :meth:`close` drops every PostgreSQL one it made."""

    def __init__(self, tmp: Path) -> None:
        self._tmp = tmp
        self._postgres: str | None = None
        self._admin_url: str | None = None
        self._database = f"test_rest_{uuid.uuid4().hex[:12]}"

    def url(self, kind: str) -> str:
        """A SQLAlchemy URL of an empty database of ``kind`` (``sqlite`` or ``postgres``)."""
        if kind == "sqlite":
            return f"sqlite:///{self._tmp / f'{uuid.uuid4().hex}.sqlite'}"
        base = self._postgres_database()
        schema = f"s_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_libpq(base), autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        return f"{base}?options={quote(f'-csearch_path={schema}')}"

    def _postgres_database(self) -> str:
        if self._postgres is None:
            self._admin_url = require_postgres()
            with psycopg.connect(_libpq(self._admin_url), autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{self._database}"')
            url = make_url(self._admin_url).set(database=self._database)
            self._postgres = url.render_as_string(hide_password=False)
        return self._postgres

    def close(self) -> None:
        if self._admin_url is None:
            return
        with psycopg.connect(_libpq(self._admin_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)')


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def databases_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    databases = Databases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.close()


USER_KEY = "api-tests-only-user-key-of-at-least-32-bytes"
"""HS256 key the users' tokens of :func:`build_app` apps are signed with."""


def build_app(
    spec: ResourcesSpec, database_url: str, *, hub_url: str | None = None, **config: object
) -> tuple[Flask, ModelRegistry]:
    """An app with errors, models and the REST API only, its tables created."""
    app = Flask("gateway-test")
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    cors_origins = config.pop("CORS_ALLOWED_ORIGINS", None)
    app.config.update(config)
    errors.init_app(app)
    registry = models.init_app(app, spec)
    users = Auth(Authenticator(AuthSettings(key=USER_KEY)))
    api.init_app(
        app,
        spec,
        registry,
        lambda _resource: hub_url,
        users.current_user,
        cors_origins=None if cors_origins is None else str(cors_origins),
    )
    with app.app_context():
        registry.db.create_all()
    return app, registry


def reset(app: Flask, registry: ModelRegistry) -> None:
    """Empty every table and restart ids at 1 (much cheaper than recreating tables)."""
    with app.app_context():
        engine = registry.db.engine
        tables = registry.metadata.sorted_tables
        with engine.begin() as connection:
            for table in reversed(tables):
                connection.execute(table.delete())
                if engine.dialect.name == "postgresql" and "id" in table.c:
                    # DELETE + setval is far cheaper than TRUNCATE on tiny tables.
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), 1, false)"
                    )
            if engine.dialect.name == "sqlite":
                # AUTOINCREMENT tables keep their last id here (ids are never reused).
                connection.exec_driver_sql("DELETE FROM sqlite_sequence")


def dispose(app: Flask, registry: ModelRegistry) -> None:
    """Stop the app's background work (relays), then close its connections (PostgreSQL
    keeps none open after the test, and none is left to the garbage collector)."""
    lifecycle.close(app)
    with app.app_context():
        registry.db.engine.dispose()
