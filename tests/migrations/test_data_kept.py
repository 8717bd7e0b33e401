"""Migrations keep every row: a matrix of spec edits applied to a populated database.

The database holds authors and three kinds of children, one per ``on_delete``: books
(``cascade``), notes (``set_null``) and contracts (``restrict``). Each case edits the spec,
autogenerates a revision as ``flask db migrate`` does (in a temporary migrations
directory), applies it, and compares every table with what it held before: the same
rows, ids and values, except what the edit itself changes. SQLite rebuilds a table for
most of these edits, which is where rows used to disappear (the ``DROP TABLE`` of the
rebuild ran the children's ``ON DELETE`` actions).
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
import yaml
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.util import CommandError
from flask import Flask

from app import models
from app.config.loader import load_text
from app.config.spec import ResourcesSpec
from app.models import MIGRATIONS_DIR, ModelRegistry
from tests.migrations.conftest import ROOT

Spec = dict[str, Any]
Rows = dict[str, list[dict[str, Any]]]

BASE: Spec = {
    "resources": {
        "Author": {
            "fields": {
                "name": {"type": "string", "required": True, "max_length": 50},
                "rank": {"type": "integer", "nullable": True},
                "born": {"type": "date", "nullable": True},
            },
        },
        "Book": {
            "fields": {"title": {"type": "string", "required": True, "max_length": 100}},
            "relations": {"author": {"target": "Author", "required": True, "on_delete": "cascade"}},
        },
        "Note": {
            "fields": {"text": {"type": "text", "required": True}},
            "relations": {
                "author": {"target": "Author", "nullable": True, "on_delete": "set_null"}
            },
        },
        "Contract": {
            "fields": {"signed": {"type": "date", "required": True}},
            "relations": {
                "author": {"target": "Author", "required": True, "on_delete": "restrict"}
            },
        },
    }
}

TABLES = ("author", "book", "note", "contract")

AUTHORS = [
    {"id": 1, "name": "Лев Толстой", "rank": 3, "born": datetime.date(1828, 9, 9)},
    {"id": 2, "name": "Deleted before migrating", "rank": 9, "born": None},
    {"id": 3, "name": "Ursula K. Le Guin", "rank": 1, "born": datetime.date(1929, 10, 21)},
    {"id": 4, "name": "Anonymous", "rank": None, "born": None},
    {"id": 5, "name": "Deleted too", "rank": None, "born": None},
]
BOOKS = [
    {"id": 1, "title": "Война и мир", "author_id": 1},
    {"id": 2, "title": "Анна Каренина", "author_id": 1},
    {"id": 3, "title": "Gone with author 2", "author_id": 2},
    {"id": 4, "title": "The Dispossessed", "author_id": 3},
    {"id": 5, "title": "The Lathe of Heaven", "author_id": 3},
    {"id": 6, "title": "Beowulf", "author_id": 4},
]
NOTES = [
    {"id": 1, "text": "epic", "author_id": 1},
    {"id": 2, "text": "cleared with author 2", "author_id": 2},
    {"id": 3, "text": "anarchist utopia", "author_id": 3},
    {"id": 4, "text": "no author", "author_id": None},
]
CONTRACTS = [
    {"id": 1, "signed": datetime.date(1865, 1, 1), "author_id": 1},
    {"id": 2, "signed": datetime.date(1974, 5, 1), "author_id": 4},
]


def spec_of(document: Spec) -> ResourcesSpec:
    return load_text(yaml.safe_dump(document, allow_unicode=True), "resources.yaml", {})


def edited(change: Callable[[Spec], None]) -> Spec:
    document: Spec = yaml.safe_load(yaml.safe_dump(BASE))
    change(document)
    return document


def author(document: Spec) -> Spec:
    resource: Spec = document["resources"]["Author"]
    return resource


@dataclass
class Migrations:
    """A migrations directory of its own and the apps built on one database."""

    database_url: str
    directory: Path
    built: list[tuple[Flask, ModelRegistry]] = field(default_factory=list)

    def app(self, document: Spec) -> tuple[Flask, ModelRegistry]:
        app = Flask("data-kept-test")
        app.config["SQLALCHEMY_DATABASE_URI"] = self.database_url
        app.config["MIGRATIONS_DIR"] = str(self.directory)
        registry = models.init_app(app, spec_of(document))
        self.built.append((app, registry))
        return app, registry

    def revise(self, app: Flask, message: str) -> Path:
        before = set(self.versions.glob("*.py"))
        with app.app_context():
            flask_migrate.migrate(directory=str(self.directory), message=message)
        created = set(self.versions.glob("*.py")) - before
        assert len(created) == 1, f"expected one revision for {message!r}, got {created}"
        return created.pop()

    def upgrade(self, app: Flask) -> None:
        """Apply pending revisions; errors propagate (``flask db upgrade`` would exit 1)."""
        with app.app_context():
            config = app.extensions["migrate"].migrate.get_config(str(self.directory))
            command.upgrade(config, "head")

    @property
    def versions(self) -> Path:
        return self.directory / "versions"


@pytest.fixture
def migrations(database_url: str, tmp_path: Path) -> Iterator[Migrations]:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("versions"))
    (directory / "versions").mkdir()
    result = Migrations(database_url, directory)
    yield result
    for app, registry in result.built:
        with app.app_context():
            registry.db.engine.dispose()


@pytest.fixture
def populated(migrations: Migrations) -> Rows:
    """The base spec migrated and filled; authors 2 and 5 deleted (ids 2 and 5 are used)."""
    app, registry = migrations.app(BASE)
    migrations.revise(app, "base")
    migrations.upgrade(app)
    tables = registry.metadata.tables
    with app.app_context(), registry.db.engine.begin() as connection:
        for name, rows in zip(TABLES, (AUTHORS, BOOKS, NOTES, CONTRACTS), strict=True):
            for row in rows:
                values = {key: value for key, value in row.items() if key != "id"}
                inserted = connection.execute(tables[name].insert().values(values))
                assert inserted.inserted_primary_key == (row["id"],)
        connection.execute(tables["author"].delete().where(tables["author"].c.id.in_([2, 5])))
    rows = snapshot(app, registry)
    assert [b["id"] for b in rows["book"]] == [1, 2, 4, 5, 6]
    assert rows["note"][1] == {"id": 2, "text": "cleared with author 2", "author_id": None}
    return rows


def snapshot(app: Flask, registry: ModelRegistry) -> Rows:
    tables = registry.metadata.tables
    with app.app_context(), registry.db.engine.connect() as connection:
        return {
            name: [
                dict(row._mapping)
                for row in connection.execute(sa.select(tables[name]).order_by(tables[name].c.id))
            ]
            for name in tables
            if name in TABLES or name == "prize"
        }


def differences(app: Flask, registry: ModelRegistry) -> list[Any]:
    with app.app_context(), registry.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, registry.metadata))


def with_column(rows: Rows, table: str, column: str, value: Any) -> Rows:
    return {
        name: [{**row, column: value} if name == table else row for row in table_rows]
        for name, table_rows in rows.items()
    }


def mapped(rows: Rows, table: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Rows:
    return {
        name: [change(dict(row)) if name == table else row for row in table_rows]
        for name, table_rows in rows.items()
    }


def without(column: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(row: dict[str, Any]) -> dict[str, Any]:
        del row[column]
        return row

    return change


def renamed(old: str, new: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(row: dict[str, Any]) -> dict[str, Any]:
        row[new] = row.pop(old)
        return row

    return change


def as_text(column: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(row: dict[str, Any]) -> dict[str, Any]:
        row[column] = None if row[column] is None else str(row[column])
        return row

    return change


def rename_in_revision(path: Path) -> None:
    """Turn the autogenerated drop of ``rank`` plus add of ``level`` into a rename."""
    script = path.read_text()
    assert "drop_column('rank')" in script
    assert "add_column(sa.Column('level'" in script
    upgrade = (
        "def upgrade():\n"
        "    with op.batch_alter_table('author', schema=None) as batch_op:\n"
        "        batch_op.alter_column('rank', new_column_name='level')\n\n\n"
    )
    downgrade = (
        "def downgrade():\n"
        "    with op.batch_alter_table('author', schema=None) as batch_op:\n"
        "        batch_op.alter_column('level', new_column_name='rank')\n"
    )
    script = re.sub(r"def upgrade\(\):.*", upgrade + downgrade, script, flags=re.DOTALL)
    path.write_text(script)


@dataclass(frozen=True)
class Case:
    """An edit of :data:`BASE`, what it does to the rows, and an edit of the revision."""

    change: Callable[[Spec], None]
    expect: Callable[[Rows], Rows]
    revision: Callable[[Path], None] | None = None


def _add_field(document: Spec) -> None:
    author(document)["fields"]["nickname"] = {
        "type": "string",
        "nullable": True,
        "max_length": 40,
    }


def _add_required_with_default(document: Spec) -> None:
    fields = author(document)["fields"]
    fields["active"] = {"type": "boolean", "required": True, "default": True}
    fields["country"] = {"type": "string", "required": True, "max_length": 2, "default": "FR"}


def _add_relation(document: Spec) -> None:
    author(document)["relations"] = {
        "mentor": {"target": "Author", "nullable": True, "on_delete": "set_null"}
    }


def _add_resource(document: Spec) -> None:
    document["resources"]["Prize"] = {
        "fields": {"name": {"type": "string", "required": True, "max_length": 100}},
        "relations": {"author": {"target": "Author", "required": True, "on_delete": "cascade"}},
    }


def _mutual_relations(document: Spec) -> None:
    author(document)["relations"] = {
        "favourite": {"target": "Book", "nullable": True, "on_delete": "set_null"}
    }


def _drop_field(document: Spec) -> None:
    del author(document)["fields"]["rank"]


def _change_length(document: Spec) -> None:
    author(document)["fields"]["name"]["max_length"] = 120


def _change_type(document: Spec) -> None:
    author(document)["fields"]["rank"] = {"type": "string", "nullable": True, "max_length": 20}


def _rename(document: Spec) -> None:
    fields = author(document)["fields"]
    fields["level"] = fields.pop("rank")


def _added_resource(rows: Rows) -> Rows:
    return {**rows, "prize": []}


CASES = {
    "add a field": Case(_add_field, lambda rows: with_column(rows, "author", "nickname", None)),
    "add a required field with a default": Case(
        _add_required_with_default,
        lambda rows: with_column(
            with_column(rows, "author", "active", True), "author", "country", "FR"
        ),
    ),
    "add a relation": Case(
        _add_relation, lambda rows: with_column(rows, "author", "mentor_id", None)
    ),
    "add a resource": Case(_add_resource, _added_resource),
    "mutual relations": Case(
        _mutual_relations, lambda rows: with_column(rows, "author", "favourite_id", None)
    ),
    "drop a field": Case(_drop_field, lambda rows: mapped(rows, "author", without("rank"))),
    "change a length": Case(_change_length, lambda rows: rows),
    "change a type": Case(_change_type, lambda rows: mapped(rows, "author", as_text("rank"))),
    "rename through an edited revision": Case(
        _rename, lambda rows: mapped(rows, "author", renamed("rank", "level")), rename_in_revision
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_a_spec_edit_keeps_every_row(case: Case, migrations: Migrations, populated: Rows) -> None:
    document = edited(case.change)
    app, registry = migrations.app(document)
    revision = migrations.revise(app, "edit")
    if case.revision is not None:
        case.revision(revision)
    migrations.upgrade(app)

    assert snapshot(app, registry) == case.expect(populated)
    assert differences(app, registry) == []
    assert_ids_of_deleted_rows_stay_unused(app, registry)
    assert_on_delete_actions_still_apply(app, registry)


def assert_ids_of_deleted_rows_stay_unused(app: Flask, registry: ModelRegistry) -> None:
    """A rebuilt table keeps its id sequence: author 5 was deleted, the next one is 6."""
    table = registry.metadata.tables["author"]
    with app.app_context(), registry.db.engine.begin() as connection:
        inserted = connection.execute(table.insert().values(name="New"))
        assert inserted.inserted_primary_key == (6,)
        connection.execute(table.delete().where(table.c.id == 6))


def assert_on_delete_actions_still_apply(app: Flask, registry: ModelRegistry) -> None:
    """The rebuilt tables kept their foreign keys, and the app enforces them again."""
    tables = registry.metadata.tables
    author_table, book, note = tables["author"], tables["book"], tables["note"]
    with app.app_context():
        engine = registry.db.engine
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with engine.begin() as connection:
            connection.execute(author_table.delete().where(author_table.c.id == 3))
        with engine.connect() as connection:
            assert connection.execute(sa.select(book.c.id).where(book.c.author_id == 3)).all() == []
            assert (
                connection.execute(sa.select(note.c.author_id).where(note.c.id == 3)).scalar()
                is None
            )
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(author_table.delete().where(author_table.c.id == 1))


ORPHAN_REVISION = '''"""an edit that would leave {what}"""
from alembic import op
import sqlalchemy as sa

revision = "f00dfeed0001"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("{table}", schema=None) as batch_op:
        batch_op.alter_column("{column}", type_=sa.String(length=120))
    op.execute("{statement}")


def downgrade():
    pass
'''


def add_orphan_revision(migrations: Migrations, what: str, statement: str) -> None:
    (base,) = migrations.versions.glob("*.py")
    down = re.search(r"^revision = '(\w+)'", base.read_text(), re.MULTILINE)
    assert down is not None
    (migrations.versions / "f00dfeed0001_orphans.py").write_text(
        ORPHAN_REVISION.format(
            what=what, down=down.group(1), table="author", column="name", statement=statement
        )
    )


def name_length(app: Flask, registry: ModelRegistry) -> Any:
    with app.app_context():
        columns = sa.inspect(registry.db.engine).get_columns("author")
    return next(c["type"].length for c in columns if c["name"] == "name")


def version(app: Flask, registry: ModelRegistry) -> list[str]:
    with app.app_context(), registry.db.engine.connect() as connection:
        return list(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def test_a_revision_leaving_a_dangling_reference_changes_nothing(
    migrations: Migrations, populated: Rows
) -> None:
    app, registry = migrations.app(BASE)
    before = version(app, registry)
    add_orphan_revision(
        migrations,
        "a book without author",
        "INSERT INTO book (id, title, author_id) VALUES (7, 'x', 99)",
    )
    with pytest.raises((CommandError, sa.exc.IntegrityError)):
        migrations.upgrade(app)
    assert snapshot(app, registry) == populated
    assert version(app, registry) == before
    assert name_length(app, registry) == 50


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_names_the_table_and_rows_a_revision_would_orphan(
    migrations: Migrations, populated: Rows
) -> None:
    """Foreign keys are off during a SQLite migration: the check before commit catches it.

    (PostgreSQL keeps enforcing them: the same ``DELETE`` cascades or is refused there.)
    """
    app, registry = migrations.app(BASE)
    add_orphan_revision(migrations, "children without author", "DELETE FROM author WHERE id = 1")
    with pytest.raises(CommandError) as raised:
        migrations.upgrade(app)
    message = str(raised.value)
    assert "Migration rolled back, nothing was changed" in message
    assert "table book: 2 row(s) with id 1, 2: author_id names no row of author(id)" in message
    assert "table contract: 1 row(s) with id 1: author_id names no row of author(id)" in message
    assert "table note: 1 row(s) with id 1: author_id names no row of author(id)" in message
    assert snapshot(app, registry) == populated
    assert name_length(app, registry) == 50
    with app.app_context(), registry.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_readme_path_keeps_every_review_and_reports_orphans_on_the_command_line(
    tmp_path: Path,
) -> None:
    """``flask db migrate`` + ``flask db upgrade`` on the shipped bookshop, as a user runs them.

    The edit adds ``pageCount`` and lengthens ``title``, so SQLite rebuilds ``book``, whose
    reviews cascade: every one of them must still be there.
    """
    project = tmp_path / "project"
    for name in ("app", "migrations"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    shipped = (ROOT / "resources.yaml").read_text()
    (project / "resources.yaml").write_text(shipped)
    database = project / "gateway.db"

    def flask(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "FLASK_APP": "app:create_app",
            "PYTHONPATH": str(project),
            "DATABASE_URL": f"sqlite:///{database}",
            "RESOURCES_FILE": str(project / "resources.yaml"),
        }
        env.pop("GATEWAY_ENV", None)
        return subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def table(name: str) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(database)
        try:
            return connection.execute(f"SELECT * FROM {name} ORDER BY id").fetchall()
        finally:
            connection.close()

    assert flask("db", "upgrade").returncode == 0
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("INSERT INTO book (title, author) VALUES ('Dune', 'Frank Herbert')")
        connection.execute("INSERT INTO book (title, author) VALUES ('Emma', 'Jane Austen')")
        connection.executemany(
            "INSERT INTO review (rating, body, author, book_id) VALUES (?, ?, ?, ?)",
            [(5, "Great", "ada", 1), (4, "Good", "bob", 1), (3, "Fine", "ada", 2)],
        )
    connection.close()
    books, reviews = table("book"), table("review")

    title = "title: {type: string, required: true, max_length: 255, iri: https://schema.org/name}"
    assert title in shipped
    (project / "resources.yaml").write_text(
        shipped.replace(
            title,
            "title: {type: string, required: true, max_length: 300, iri: https://schema.org/name}\n"
            "      pageCount: {type: integer, nullable: true}",
        )
    )
    before = set((project / "migrations" / "versions").glob("*.py"))
    migrated = flask("db", "migrate", "-m", "page count")
    assert migrated.returncode == 0, migrated.stderr
    (written,) = set((project / "migrations" / "versions").glob("*.py")) - before
    upgraded = flask("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert table("review") == reviews
    assert [row[: len(books[0])] for row in table("book")] == books

    head = re.search(r"^revision = '(\w+)'", written.read_text(), re.MULTILINE)
    assert head is not None
    (project / "migrations" / "versions" / "f00dfeed0002_orphans.py").write_text(
        ORPHAN_REVISION.format(
            what="reviews of no book",
            down=head.group(1),
            table="book",
            column="title",
            statement="DELETE FROM book WHERE id = 1",
        )
    )
    refused = flask("db", "upgrade")
    assert refused.returncode == 1
    assert "Migration rolled back, nothing was changed" in refused.stderr
    assert "table review: 2 row(s) with id 1, 2: book_id names no row of book(id)" in refused.stderr
    assert table("review") == reviews
    assert [row[: len(books[0])] for row in table("book")] == books


def test_a_type_change_the_values_do_not_fit_is_refused_and_changes_nothing(
    migrations: Migrations, populated: Rows
) -> None:
    """Names are not integers: SQLite's ``CAST`` would store ``0``; PostgreSQL has no cast."""

    def names_as_integers(document: Spec) -> None:
        author(document)["fields"]["name"] = {"type": "integer", "required": True}

    app, _ = migrations.app(edited(names_as_integers))
    migrations.revise(app, "names as integers")
    with pytest.raises((CommandError, sa.exc.ProgrammingError)) as raised:
        migrations.upgrade(app)
    if isinstance(raised.value, CommandError):
        assert (
            "Migration rolled back, nothing was changed: converting author.name from "
            "VARCHAR(50) to INTEGER would change the values of 3 row(s) with id 1, 3, 4."
        ) in str(raised.value)
    base_app, base_registry = migrations.app(BASE)
    assert snapshot(base_app, base_registry) == populated
    assert name_length(base_app, base_registry) == 50
