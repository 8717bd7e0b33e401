"""Fixtures of the Redis transport tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from redis import Redis

from tests.services import require_redis


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def stream(redis_url: str) -> Iterator[str]:
    """A stream name of the test's own; its keys are deleted afterwards."""
    name = f"test:transport:{uuid.uuid4().hex}"
    yield name
    client = Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()
