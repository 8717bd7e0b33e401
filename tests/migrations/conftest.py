"""Fixtures of the migration tests: empty databases of each kind, the shipped spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import load_resources
from app.config.spec import ResourcesSpec
from tests.api.databases import KINDS, Databases, databases_fixture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    yield from databases_fixture(tmp_path_factory)


@pytest.fixture(params=KINDS)
def database_url(request: pytest.FixtureRequest, databases: Databases) -> str:
    return databases.url(request.param)


@pytest.fixture(scope="session")
def shipped_spec() -> ResourcesSpec:
    return load_resources(ROOT / "resources.yaml")
