"""Fixtures of the model tests: an empty database of each kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.databases import KINDS, Databases, databases_fixture


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    yield from databases_fixture(tmp_path_factory)


@pytest.fixture(params=KINDS)
def database_url(request: pytest.FixtureRequest, databases: Databases) -> str:
    """An empty database of each kind."""
    return databases.url(request.param)
