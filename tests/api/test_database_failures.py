"""A database that is unreachable, dropped, read-only or locked answers 503, and no answer
names it: the driver's message (host, port, database, file) goes to the log only, with the
resource and the operation that failed.

The shipped bookshop runs on a real gevent server and is pointed at a real database that
then fails: a PostgreSQL database dropped under it, a PostgreSQL port nobody listens on, a
SQLite file opened read-only, a SQLite file another connection holds locked.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app import create_app
from app.auth.command import mint_user_token
from app.errors import DatabaseUnavailable
from app.lifecycle import close
from app.settings import Settings
from tests.services import LiveServer, free_port, require_postgres

ROOT = Path(__file__).resolve().parents[2]
USER_KEY = "database-failure-tests-only-users-key-32-bytes"
ADMIN = {
    "Authorization": "Bearer "
    + mint_user_token(USER_KEY, "HS256", "admin", ("admin",), expires_in=3600)
}
BOOK = {"title": "Kept", "author": "A. Writer"}

# (method, path, body, operation as logged)
CALLS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/books", None, "Book get_collection"),
    ("GET", "/books/1", None, "Book get"),
    ("POST", "/books", {"title": "New", "author": "B"}, "Book post"),
    ("PUT", "/books/1", {"title": "Put", "author": "C"}, "Book put"),
    ("PATCH", "/books/1", {"title": "Patched"}, "Book patch"),
    ("DELETE", "/books/1", None, "Book delete"),
]
WRITES = [call for call in CALLS if call[0] != "GET"]


_BUILT: list[Flask] = []


@pytest.fixture(autouse=True)
def _closed_apps() -> Iterator[None]:
    """Stop each test's gateways (their relays would keep polling a broken database)."""
    yield
    while _BUILT:
        close(_BUILT.pop())


def bookshop(database_url: str) -> Flask:
    settings = Settings(database_url=database_url, resources_path=ROOT / "resources.yaml")
    application = create_app(settings, environ={"AUTH_JWT_KEY": USER_KEY})
    _BUILT.append(application)
    return application


def create_tables(application: Flask) -> None:
    with application.app_context():
        application.extensions["model_registry"].db.create_all()


def call(http: httpx.Client, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    headers = {**ADMIN, "Content-Type": content_type} if body is not None else ADMIN
    return http.request(method, path, json=body, headers=headers)


def assert_unavailable(response: httpx.Response, *secrets: str) -> None:
    """A 503 problem document with the generic detail, naming none of ``secrets``."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 503
    assert body["title"] == "Service Unavailable"
    assert body["detail"] == body["description"] == DatabaseUnavailable.DETAIL
    for secret in secrets:
        assert secret not in response.text


def assert_logged(caplog: pytest.LogCaptureFixture, operation: str, cause: str) -> None:
    """The log says which resource and operation failed, and the driver's message."""
    messages = [r.getMessage() for r in caplog.records if r.name == "app.api.integrity"]
    assert any(m.startswith(f"{operation}: the database failed: ") for m in messages), messages
    assert any(operation in m and cause in m for m in messages), (operation, cause, messages)
    caplog.clear()


@pytest.fixture
def postgres_database() -> Iterator[tuple[str, Callable[[], None]]]:
    """A fresh PostgreSQL database's SQLAlchemy URL, and a function that drops it."""
    admin = require_postgres()
    libpq = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"test_dbfail_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    yield make_url(admin).set(database=name).render_as_string(hide_password=False), drop
    drop()


@pytest.mark.postgres
def test_a_dropped_postgres_database_is_503_and_named_only_in_the_log(
    postgres_database: tuple[str, Callable[[], None]],
    serve: Callable[..., LiveServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, drop = postgres_database
    application = bookshop(url)
    create_tables(application)
    database = make_url(url)
    with httpx.Client(base_url=serve(application).url, timeout=10) as http:
        assert call(http, "POST", "/books", BOOK).status_code == 201
        assert call(http, "GET", "/books/1", None).status_code == 200  # a pooled connection
        drop()
        with caplog.at_level(logging.ERROR, logger="app.api.integrity"):
            for method, path, body, operation in CALLS:
                response = call(http, method, path, body)
                assert_unavailable(response, str(database.database), str(database.port))
                assert_logged(caplog, operation, "")
            # Later requests open new connections: the database no longer exists.
            response = call(http, "GET", "/books", None)
            assert_unavailable(response, str(database.database), str(database.port))
            assert_logged(caplog, "Book get_collection", str(database.database))


@pytest.mark.postgres
def test_a_postgres_port_nobody_listens_on_is_503(
    serve: Callable[..., LiveServer], caplog: pytest.LogCaptureFixture
) -> None:
    admin = make_url(require_postgres())
    port = free_port()
    url = admin.set(port=port, database="gateway_unreachable").render_as_string(hide_password=False)
    with (
        httpx.Client(base_url=serve(bookshop(url)).url, timeout=10) as http,
        caplog.at_level(logging.ERROR, logger="app.api.integrity"),
    ):
        for method, path, body, operation in CALLS:
            response = call(http, method, path, body)
            assert_unavailable(response, str(port), "gateway_unreachable", str(admin.host))
            assert_logged(caplog, operation, str(port))


def test_a_read_only_sqlite_file_refuses_writes_with_503_and_still_answers_reads(
    tmp_path: Path, serve: Callable[..., LiveServer], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shop.sqlite"
    writable = bookshop(f"sqlite:///{path}")
    create_tables(writable)
    with httpx.Client(base_url=serve(writable).url, timeout=10) as http:
        assert call(http, "POST", "/books", BOOK).status_code == 201
    read_only = bookshop(f"sqlite:///file:{path}?mode=ro&uri=true")
    with (
        httpx.Client(base_url=serve(read_only).url, timeout=10) as http,
        caplog.at_level(logging.ERROR, logger="app.api.integrity"),
    ):
        assert call(http, "GET", "/books/1", None).json()["title"] == "Kept"
        for method, path_, body, operation in WRITES:
            response = call(http, method, path_, body)
            assert_unavailable(response, str(path), "readonly", "sqlite")
            assert_logged(caplog, operation, "readonly database")
        assert call(http, "GET", "/books", None).json()["totalItems"] == 1


def test_a_locked_sqlite_file_is_503_until_the_lock_is_released(
    tmp_path: Path, serve: Callable[..., LiveServer], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shop.sqlite"
    # A short busy timeout: the lock is not released while the requests wait.
    application = bookshop(f"sqlite:///{path}?timeout=0.05")
    create_tables(application)
    with httpx.Client(base_url=serve(application).url, timeout=10) as http:
        assert call(http, "POST", "/books", BOOK).status_code == 201
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with caplog.at_level(logging.ERROR, logger="app.api.integrity"):
                for method, path_, body, operation in CALLS:
                    response = call(http, method, path_, body)
                    assert_unavailable(response, str(path), "locked", "sqlite")
                    assert_logged(caplog, operation, "database is locked")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert call(http, "PATCH", "/books/1", {"title": "Back"}).json()["title"] == "Back"
