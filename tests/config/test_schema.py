"""The key table: every accepted key is documented in docs/resources.md, and the example
loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config.loader import load_text
from app.config.schema import DIRECTIONS, ON_DELETE, iter_keys
from app.config.spec import FIELD_TYPES, OPERATIONS, SEARCH_STRATEGIES

PAGE = Path(__file__).resolve().parents[2] / "docs" / "resources.md"


def resources_section() -> str:
    return PAGE.read_text(encoding="utf-8")


KEYS = [pattern for pattern, _ in iter_keys()]


def test_the_table_covers_nested_keys() -> None:
    assert "resources.<Resource>.fields.<field>.max_length" in KEYS
    assert "resources.<Resource>.mercure.normalization_groups" in KEYS
    assert len(KEYS) == len(set(KEYS))


@pytest.mark.parametrize("pattern", KEYS)
def test_docs_documents_every_key(pattern: str) -> None:
    assert f"| `{pattern}` |" in resources_section(), (
        f"docs/resources.md lacks a row for `{pattern}`"
    )


@pytest.mark.parametrize(
    "value", [*FIELD_TYPES, *OPERATIONS, *SEARCH_STRATEGIES, *ON_DELETE, *DIRECTIONS]
)
def test_docs_names_every_accepted_value(value: str) -> None:
    assert f"`{value}`" in resources_section()


def test_docs_example_is_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", resources_section(), re.DOTALL)
    assert blocks
    spec = load_text(blocks[0], "docs/resources.md", {"PUBLISHER_HUB": "main"})
    assert spec.resource("Publisher").mercure.hub == "main"
