"""ResourcesSpec -> Flask-SQLAlchemy models, plus the Flask-Migrate wiring.

:func:`init_app` gives each application its own extension and models (see
:class:`ModelRegistry`), makes SQLite behave as PostgreSQL where the API depends on it
(foreign keys enforced, ``LIKE`` case-sensitive), and registers ``flask db ...``
against the migrations under :data:`MIGRATIONS_DIR`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import Migrate

from app.config.spec import ResourcesSpec
from app.models.columns import SQLITE_LOWER, simple_lower
from app.models.iri import context_iri, iri_for_id, item_iri, parse_iri
from app.models.registry import ModelRegistry, new_extension

__all__ = [
    "MIGRATIONS_DIR",
    "ModelRegistry",
    "context_iri",
    "init_app",
    "iri_for_id",
    "item_iri",
    "parse_iri",
]

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
"""The Alembic environment shipped next to the ``app`` package."""


def init_app(app: Flask, spec: ResourcesSpec) -> ModelRegistry:
    """Create the database extension and models for ``spec`` and register migrations.

    Reads ``SQLALCHEMY_DATABASE_URI`` from ``app.config``; ``MIGRATIONS_DIR`` in
    ``app.config`` overrides the migrations directory.
    """
    db = new_extension()
    registry = ModelRegistry(db, spec)
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_foreign_keys)
            sa.event.listen(engine, "connect", _sqlite_unicode_lower)
    directory = app.config.get("MIGRATIONS_DIR", str(MIGRATIONS_DIR))
    Migrate(app, db, directory=directory, render_as_batch=True, compare_type=True)
    app.extensions["model_registry"] = registry
    return registry


def _sqlite_foreign_keys(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA case_sensitive_like=ON")
    finally:
        cursor.close()


def _sqlite_unicode_lower(dbapi_connection: Any, _record: object) -> None:
    """Case-insensitive filters fold every script on SQLite as on PostgreSQL
    (:class:`app.models.columns.unicode_lower`)."""
    dbapi_connection.create_function(SQLITE_LOWER, 1, simple_lower, deterministic=True)
