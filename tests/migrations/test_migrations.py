"""The shipped migrations build the shipped resources; spec changes autogenerate."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from app import models
from app.config.spec import FieldSpec, ResourcesSpec
from app.models import MIGRATIONS_DIR, ModelRegistry
from tests.migrations.conftest import ROOT


@pytest.fixture
def make_app(database_url: str) -> Iterator[Any]:
    built: list[tuple[Flask, ModelRegistry]] = []

    def make(spec: ResourcesSpec, directory: Path = MIGRATIONS_DIR) -> tuple[Flask, ModelRegistry]:
        app = Flask("migrations-test")
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url
        app.config["MIGRATIONS_DIR"] = str(directory)
        registry = models.init_app(app, spec)
        built.append((app, registry))
        return app, registry

    yield make
    for app, registry in built:
        with app.app_context():
            registry.db.engine.dispose()


def differences(app: Flask, registry: ModelRegistry) -> list[Any]:
    with app.app_context(), registry.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, registry.metadata))


def columns(app: Flask, registry: ModelRegistry, table: str) -> set[str]:
    with app.app_context():
        return {c["name"] for c in sa.inspect(registry.db.engine).get_columns(table)}


def test_fresh_upgrade_builds_the_shipped_resources_without_drift(
    make_app: Any, shipped_spec: ResourcesSpec
) -> None:
    app, registry = make_app(shipped_spec)
    with app.app_context():
        flask_migrate.upgrade()
    for resource in shipped_spec.resources:
        model = registry.model(resource.name)
        assert columns(app, registry, resource.table) == {c.name for c in model.__table__.columns}
    assert differences(app, registry) == []


def test_autogenerate_after_a_spec_change_alters_the_schema(
    make_app: Any, shipped_spec: ResourcesSpec, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    app, registry = make_app(shipped_spec, directory)
    with app.app_context():
        flask_migrate.upgrade(directory=str(directory))
        registry.db.session.add(registry.model("Book")(title="Dune", author="Frank Herbert"))
        registry.db.session.commit()

    book = shipped_spec.resource("Book")
    changed_book = dataclasses.replace(
        book,
        fields=(
            *book.fields,
            FieldSpec("pageCount", "integer", minimum=1),
            FieldSpec("inStock", "boolean", nullable=False, default=False),
        ),
    )
    changed = dataclasses.replace(
        shipped_spec,
        resources=tuple(changed_book if r.name == "Book" else r for r in shipped_spec.resources),
    )
    app, registry = make_app(changed, directory)
    assert differences(app, registry) != []
    before = set((directory / "versions").glob("*.py"))
    with app.app_context():
        flask_migrate.migrate(directory=str(directory), message="book page count")
    created = set((directory / "versions").glob("*.py")) - before
    assert len(created) == 1
    script = created.pop().read_text()
    assert "add_column" in script
    assert "page_count" in script
    with app.app_context():
        flask_migrate.upgrade(directory=str(directory))
    assert {"page_count", "in_stock"} <= columns(app, registry, book.table)
    assert differences(app, registry) == []
    with app.app_context():
        existing = registry.db.session.get(registry.model("Book"), 1)
        assert (existing.pageCount, existing.inStock) == (None, False)
    with app.app_context():
        flask_migrate.downgrade(directory=str(directory))
    assert "page_count" not in columns(app, registry, book.table)


def test_flask_db_upgrade_command_uses_the_app_factory(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite"
    env = {
        **os.environ,
        "FLASK_APP": "app:create_app",
        "DATABASE_URL": f"sqlite:///{database}",
        "RESOURCES_FILE": str(ROOT / "resources.yaml"),
    }
    flask = Path(sys.executable).parent / "flask"
    result = subprocess.run(
        [str(flask), "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "book", "review"} <= tables
