"""The database never silently disagrees with resources.yaml (app/models/drift.py).

In process, on both databases: the comparison, the refusal's list and commands, and what
``flask schema sync`` writes or refuses. In subprocesses, on copies of the repository with
their own migrations and SQLite database: gunicorn refusing to serve in production,
``make run`` migrating an additive edit, ``flask db migrate`` on a drifted database.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import httpx
import pytest
from flask import Flask

from app import create_app, models
from app.config.spec import FieldSpec, RelationSpec, ResourceSpec, ResourcesSpec
from app.models import MIGRATIONS_DIR, ModelRegistry, drift
from app.settings import Settings
from tests.deploy.gateway import gateway_env, migrate
from tests.deploy.servers import Process, running
from tests.migrations.conftest import ROOT
from tests.services import free_port

SHIPPED = (ROOT / "resources.yaml").read_text()
BOOK_ANCHOR = "      publicationDate: {type: date, nullable: true}\n    operations:"
PAGE_COUNT = "      pageCount: {type: integer, nullable: true}\n"
IN_STOCK = "      inStock: {type: boolean, default: true}\n"
SHELF_RELATION = "    relations:\n      shelf: {target: Shelf, on_delete: set_null}\n"
SHELF = "\n  Shelf:\n    fields:\n      name: {type: string, required: true, max_length: 100}\n"
COMMANDS = ('flask db migrate -m "<what changed in resources.yaml>"', "flask db upgrade")


def edited_yaml(book_fields: str = "", book_extra: str = "", resources: str = "") -> str:
    """The shipped resources.yaml with fields (and relations) added to Book, resources
    appended."""
    assert BOOK_ANCHOR in SHIPPED
    book = BOOK_ANCHOR.replace(
        "\n    operations:", "\n" + book_fields + book_extra + "    operations:"
    )
    return SHIPPED.replace(BOOK_ANCHOR, book) + resources


def replace_book(spec: ResourcesSpec, **changes: Any) -> ResourcesSpec:
    book = dataclasses.replace(spec.resource("Book"), **changes)
    return dataclasses.replace(
        spec, resources=tuple(book if r.name == "Book" else r for r in spec.resources)
    )


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A copy of the shipped migrations, which revisions written by a test go into."""
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    return directory


@pytest.fixture
def make_app(database_url: str, migrations: Path) -> Iterator[Any]:
    built: list[tuple[Flask, ModelRegistry]] = []

    def make(spec: ResourcesSpec) -> Flask:
        app = Flask("drift-test")
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url
        app.config["MIGRATIONS_DIR"] = str(migrations)
        registry = models.init_app(app, spec)
        built.append((app, registry))
        return app

    yield make
    for app, registry in built:
        with app.app_context():
            registry.db.engine.dispose()


def upgraded(app: Flask) -> Flask:
    with app.app_context():
        flask_migrate.upgrade()
    return app


def revisions(migrations: Path) -> set[str]:
    return {path.name for path in (migrations / "versions").glob("*.py")}


def test_the_shipped_migrations_match_the_shipped_resources(
    make_app: Any, shipped_spec: ResourcesSpec
) -> None:
    app = make_app(shipped_spec)
    assert drift.refusal(drift.check(app), production=True) == (
        "the database is not at the latest migration (database: none; migrations/versions/: "
        f"{', '.join(drift.check(app).heads)}). Run `flask db upgrade`, then start again."
    )
    upgraded(app)
    result = drift.check(app)
    assert result.clean, result
    assert drift.refusal(result, production=True) is None


def test_production_refusal_lists_each_difference_and_the_commands(
    make_app: Any, shipped_spec: ResourcesSpec
) -> None:
    upgraded(make_app(shipped_spec))
    book = shipped_spec.resource("Book")
    fields = tuple(
        dataclasses.replace(f, max_length=100) if f.name == "title" else f
        for f in book.fields
        if f.name != "description"
    )
    changed = replace_book(shipped_spec, fields=(*fields, FieldSpec("pageCount", "integer")))
    message = drift.refusal(drift.check(make_app(changed)), production=True)
    assert message is not None
    lines = message.splitlines()
    assert lines[0] == "the database does not match resources.yaml (3 differences):"
    assert sorted(lines[1:4]) == [
        "  - column book.description: in the database, not in resources.yaml (migrating "
        "drops its values) [not additive]",
        "  - column book.page_count (Book.pageCount): missing from the database",
        "  - column book.title (Book.title): the database has type VARCHAR(255), "
        "resources.yaml VARCHAR(100) [not additive]",
    ]
    for command in COMMANDS:
        assert command in message
    assert "make run" not in message


def test_sync_writes_and_applies_additive_changes(
    make_app: Any, shipped_spec: ResourcesSpec, migrations: Path
) -> None:
    app = upgraded(make_app(shipped_spec))
    with app.app_context():
        registry: ModelRegistry = app.extensions["model_registry"]
        registry.db.session.add(registry.model("Book")(title="Dune", author="Frank Herbert"))
        registry.db.session.commit()
    shelf = ResourceSpec(
        name="Shelf",
        route="/shelves",
        table="shelf",
        fields=(FieldSpec("name", "string", max_length=100, nullable=False, required=True),),
    )
    book = shipped_spec.resource("Book")
    changed = replace_book(
        shipped_spec,
        fields=(
            *book.fields,
            FieldSpec("pageCount", "integer"),
            FieldSpec("inStock", "boolean", nullable=False, default=True),
        ),
        relations=(RelationSpec("shelf", "Shelf", on_delete="set_null"),),
    )
    changed = dataclasses.replace(changed, resources=(*changed.resources, shelf))
    app = make_app(changed)
    before = revisions(migrations)
    ok, report = drift.sync(app, production=False)
    assert ok, report
    written = revisions(migrations) - before
    assert len(written) == 1
    assert written.pop() in report
    assert drift.check(app).clean
    with app.app_context():
        registry = app.extensions["model_registry"]
        dune = registry.db.session.get(registry.model("Book"), 1)
        assert (dune.title, dune.pageCount, dune.inStock, dune.shelf_id) == (
            "Dune",
            None,
            True,
            None,
        )


@pytest.mark.parametrize("production", [False, True])
def test_sync_refuses_what_is_not_additive_and_production_changes_nothing(
    make_app: Any, shipped_spec: ResourcesSpec, migrations: Path, production: bool
) -> None:
    app = upgraded(make_app(shipped_spec))
    with app.app_context():
        registry: ModelRegistry = app.extensions["model_registry"]
        registry.db.session.add(registry.model("Book")(title="Dune", author="Frank Herbert"))
        registry.db.session.commit()
    book = shipped_spec.resource("Book")
    page_count = FieldSpec("pageCount", "integer")
    edition = FieldSpec("edition", "integer", nullable=False, required=True)
    if production:  # even an additive change
        changed = replace_book(shipped_spec, fields=(*book.fields, page_count))
    else:  # a required field without a default on existing rows, a dropped field
        kept = tuple(f for f in book.fields if f.name != "isbn")
        changed = replace_book(shipped_spec, fields=(*kept, edition))
    app = make_app(changed)
    before = revisions(migrations)
    ok, report = drift.sync(app, production=production)
    assert not ok
    assert revisions(migrations) == before
    for command in COMMANDS:
        assert command in report
    listed = sorted(line for line in report.splitlines() if line.startswith("  - "))
    if production:
        assert listed == ["  - column book.page_count (Book.pageCount): missing from the database"]
    else:
        assert report.splitlines()[0] == "not applied automatically: some changes are not additive."
        assert listed == [
            "  - column book.edition (Book.edition): missing from the database, required "
            "without a default on existing rows [not additive]",
            "  - column book.isbn: in the database, not in resources.yaml (migrating drops "
            "its values) [not additive]",
            "  - unique constraint uq_book_isbn on book: in the database, not in "
            "resources.yaml [not additive]",
        ]
    assert not drift.check(app).clean


def test_a_relation_column_named_by_an_earlier_version_is_renamed_keeping_its_values(
    make_app: Any, shipped_spec: ResourcesSpec, migrations: Path
) -> None:
    """Earlier versions named the column of ``favouriteBook`` ``favouriteBook_id``. On
    such a database the drift check reports one additive rename, and ``flask schema
    sync`` writes and applies a revision renaming it in place: the values stay."""
    review = shipped_spec.resource("Review")
    favourite = RelationSpec("favouriteBook", "Book", nullable=True, on_delete="set_null")
    changed = dataclasses.replace(
        shipped_spec,
        resources=tuple(
            dataclasses.replace(r, relations=(*r.relations, favourite)) if r is review else r
            for r in shipped_spec.resources
        ),
    )
    app = upgraded(make_app(changed))
    ok, report = drift.sync(app, production=False)
    assert ok, report
    with app.app_context():
        registry: ModelRegistry = app.extensions["model_registry"]
        session = registry.db.session
        dune = registry.model("Book")(title="Dune", author="Frank Herbert")
        session.add(dune)
        session.flush()
        session.add(
            registry.model("Review")(
                body="Great", rating=5, author="Ann", book=dune, favouriteBook=dune
            )
        )
        session.commit()
        engine = registry.db.engine
    with engine.begin() as connection:  # the schema an earlier version made
        postgres = connection.dialect.name == "postgresql"
        for statement in [
            'ALTER TABLE review RENAME COLUMN favourite_book_id TO "favouriteBook_id"',
            'ALTER INDEX ix_review_favourite_book_id RENAME TO "ix_review_favouriteBook_id"'
            if postgres
            else "DROP INDEX ix_review_favourite_book_id",
            *(
                [
                    "ALTER TABLE review RENAME CONSTRAINT fk_review_favourite_book_id_book "
                    'TO "fk_review_favouriteBook_id_book"'
                ]
                if postgres
                else ['CREATE INDEX "ix_review_favouriteBook_id" ON review ("favouriteBook_id")']
            ),
        ]:
            connection.exec_driver_sql(statement)

    app = make_app(changed)
    listed = [d.text for d in drift.check(app).differences]
    assert listed == [
        "column review.favourite_book_id (Review.favouriteBook): named favouriteBook_id by an "
        "earlier version (migrating renames it, with its index and foreign key, keeping its "
        "values)"
    ]
    before = revisions(migrations)
    ok, report = drift.sync(app, production=False)
    assert ok, report
    (written,) = revisions(migrations) - before
    text = (migrations / "versions" / written).read_text()
    assert "new_column_name='favourite_book_id'" in text
    assert "drop_column" not in text
    assert drift.check(app).clean
    with app.app_context():
        registry = app.extensions["model_registry"]
        (kept,) = registry.db.session.query(registry.model("Review")).all()
        assert (kept.book_id, kept.favourite_book_id) == (1, 1)


def test_a_request_meeting_a_drift_answers_503_and_logs_the_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate(gateway_env(database, "memory://"))
    resources = tmp_path / "resources.yaml"
    resources.write_text(edited_yaml(PAGE_COUNT))
    app = create_app(Settings(database_url=database, resources_path=resources), environ={})
    try:
        with caplog.at_level(logging.ERROR, logger="app.models.drift"):
            response = app.test_client().get("/books", headers={"Accept": "application/ld+json"})
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        detail = response.json["detail"]
        assert "does not match resources.yaml" in detail
        assert "flask schema check" in detail
        assert "page_count" not in detail  # the schema is not described to clients
        # Only this app's hint: the relays of apps made by earlier tests, still running
        # until the process ends, log theirs through the same logger.
        hints = [
            r.getMessage()
            for r in caplog.records
            if r.name == "app.models.drift" and "book.page_count" in r.getMessage()
        ]
        assert hints
        assert "no such column: book.page_count" in hints[0]
        for command in COMMANDS:
            assert command in hints[0]
    finally:
        from app.lifecycle import close

        close(app)


# --- subprocesses on copies of the repository -------------------------------------------

COPIED = ("app", "migrations", "resources.yaml", "wsgi.py", "gunicorn.conf.py", "Makefile")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository with its own migrations and (later) database."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def project_env(project: Path, **extra: str) -> dict[str, str]:
    """The environment of the copy's commands: its code first, its database, its file."""
    env = {**os.environ, **gateway_env(f"sqlite:///{project / 'gateway.db'}", "memory://")}
    env.update(PYTHONPATH=str(project), RESOURCES_FILE=str(project / "resources.yaml"))
    env.pop("GATEWAY_ENV", None)
    env.update(extra)
    return env


def flask(project: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=project,
        env=project_env(project, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def seed(project: Path) -> None:
    """A book and its review, written as any client of the database would."""
    result = flask(project, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(project / "gateway.db") as connection:
        connection.execute("INSERT INTO book (title, author) VALUES ('Dune', 'Frank Herbert')")
        connection.execute(
            "INSERT INTO review (rating, body, author, book_id) VALUES (5, 'Great', 'ada', 1)"
        )
    connection.close()


def rows(project: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(project / "gateway.db") as connection:
        found = connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    connection.close()
    return found


def test_production_gunicorn_refuses_to_serve_a_drifted_database(project: Path) -> None:
    seed(project)
    (project / "resources.yaml").write_text(edited_yaml(PAGE_COUNT))
    env = project_env(project, GATEWAY_ENV="production", PORT=str(free_port()))
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert (
        "refusing to serve: the database does not match resources.yaml (1 difference):\n"
        "  - column book.page_count (Book.pageCount): missing from the database\n"
    ) in result.stderr
    for command in COMMANDS:
        assert command in result.stderr
    assert "make run" not in result.stderr
    assert "App failed to load." in result.stderr


def test_make_run_migrates_an_additive_edit_and_keeps_every_row(project: Path) -> None:
    seed(project)
    before = {"book": rows(project, "book"), "review": rows(project, "review")}
    shipped_revisions = revisions(project / "migrations")
    repository_revisions = revisions(ROOT / "migrations")
    (project / "resources.yaml").write_text(
        edited_yaml(PAGE_COUNT + IN_STOCK, SHELF_RELATION, SHELF)
    )
    port = free_port()
    env = project_env(project, PORT=str(port), GRACEFUL_TIMEOUT="2")
    # The run target's own commands; its `install` prerequisite is this test's virtualenv.
    argv = ["make", "-o", "install", "run", f"VENV={sys.prefix}"]
    make = Process("make run", argv, port, project / "make-run.log", env, cwd=project)
    with running(make) as server:
        book = httpx.get(f"{server.url}/books/1", headers={"Accept": "application/ld+json"})
    assert book.status_code == 200, book.text
    assert book.json()["title"] == "Dune"
    assert book.json()["pageCount"] is None
    assert book.json()["inStock"] is True
    written = revisions(project / "migrations") - shipped_revisions
    assert len(written) == 1
    script = (project / "migrations" / "versions" / written.pop()).read_text()
    assert "create_table('shelf'" in script
    assert "page_count" in script
    assert "shelf_id" in script
    assert rows(project, "review") == before["review"]
    assert [row[: len(before["book"][0])] for row in rows(project, "book")] == before["book"]
    assert revisions(ROOT / "migrations") == repository_revisions


def test_a_drift_that_is_not_additive_stops_sync_and_flask_db_migrate_fixes_it(
    project: Path,
) -> None:
    seed(project)
    reviews = rows(project, "review")
    shipped_revisions = revisions(project / "migrations")
    edited = SHIPPED.replace(
        "title: {type: string, required: true, max_length: 255,",
        "title: {type: string, required: true, max_length: 300,",
    )
    assert edited != SHIPPED
    (project / "resources.yaml").write_text(edited)

    refused = flask(project, "schema", "sync")
    assert refused.returncode == 1
    assert (
        "not applied automatically: some changes are not additive.\n"
        "the database does not match resources.yaml (1 difference):\n"
        "  - column book.title (Book.title): the database has type VARCHAR(255), "
        "resources.yaml VARCHAR(300) [not additive]\n"
    ) in refused.stderr
    for command in COMMANDS:
        assert command in refused.stderr
    assert revisions(project / "migrations") == shipped_revisions

    migrated = flask(project, "db", "migrate", "-m", "longer book titles")
    assert migrated.returncode == 0, migrated.stderr
    written = revisions(project / "migrations") - shipped_revisions
    assert len(written) == 1
    assert (
        "alter_column('title'" in (project / "migrations" / "versions" / written.pop()).read_text()
    )
    assert flask(project, "db", "upgrade").returncode == 0
    checked = flask(project, "schema", "check")
    assert checked.returncode == 0, checked.stderr
    assert "the database matches resources.yaml" in checked.stdout
    assert rows(project, "review") == reviews
