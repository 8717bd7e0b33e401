"""Fixtures of the deployment tests: databases and a Redis stream of the test's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.deploy.gateway import gateway_env, migrate, sqlite_database
from tests.services import require_redis


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated with ``flask db upgrade``; copy it, never write to it."""
    directory = tmp_path_factory.mktemp("migrated")
    migrate(gateway_env(sqlite_database(directory), "memory://"))
    return directory / "gateway.db"


@pytest.fixture
def database_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """A migrated SQLite database of the test's own."""
    return sqlite_database(tmp_path, migrated_sqlite)


@pytest.fixture
def redis_stream() -> Iterator[tuple[str, str]]:
    """(transport URL, stream name) on the test Redis, keys removed afterwards."""
    url = require_redis()
    name = f"test:deploy:{uuid.uuid4().hex}"
    yield f"{url}?stream={name}", name
    client = Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()
