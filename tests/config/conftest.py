"""Fixtures for the config tests: write YAML to a temporary file and load it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from app.config import ConfigError, ResourcesSpec, load_resources

BOOK = """
resources:
  Book:
    fields:
      title: string
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    """``write(text)`` stores dedented YAML as ``resources.yaml`` and returns its path."""

    def store(text: str) -> Path:
        path = tmp_path / "resources.yaml"
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return store


@pytest.fixture
def load(write: Callable[[str], Path]) -> Callable[..., ResourcesSpec]:
    """``load(text, environ={})`` loads YAML text through :func:`load_resources`."""

    def run(text: str, environ: Mapping[str, str] | None = None) -> ResourcesSpec:
        return load_resources(write(text), environ or {})

    return run


@pytest.fixture
def problems(write: Callable[[str], Path]) -> Callable[..., list[str]]:
    """``problems(text)`` returns the problem lines of a file that must fail to load."""

    def run(text: str, environ: Mapping[str, str] | None = None) -> list[str]:
        path = write(text)
        with pytest.raises(ConfigError) as caught:
            load_resources(path, environ or {})
        lines = str(caught.value).splitlines()
        assert len(lines) == len(caught.value.problems)
        prefix = f"{path}:"
        assert all(line.startswith(prefix) for line in lines)
        return [line.removeprefix(prefix) for line in lines]

    return run
