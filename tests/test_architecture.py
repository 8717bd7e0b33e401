"""The one direction of imports that ARCHITECTURE.md states, checked on the source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
_IMPORT = re.compile(r"^\s*(?:from|import)\s+([\w.]+)", re.M)


def _imports(path: Path) -> set[str]:
    return set(_IMPORT.findall(path.read_text(encoding="utf-8")))


def _modules(package: str) -> list[Path]:
    root = APP / package
    return sorted(root.rglob("*.py")) if root.is_dir() else [APP / f"{package}.py"]


@pytest.mark.parametrize(
    ("package", "allowed"),
    [
        ("environment", set()),
        ("hub", {"app.hub", "app.environment"}),
        ("config", {"app.config", "app.access", "app.settings", "app.environment"}),
    ],
)
def test_a_lower_layer_imports_nothing_above_it(package: str, allowed: set[str]) -> None:
    for path in _modules(package):
        for name in _imports(path):
            if name == "app" or name.startswith("app."):
                assert any(name == a or name.startswith(a + ".") for a in allowed), (
                    f"{path.relative_to(APP.parent)} imports {name}"
                )


def test_config_knows_nothing_of_flask_or_sqlalchemy() -> None:
    for path in _modules("config"):
        if path.name in ("command.py", "__main__.py"):  # the CLI entry points
            continue
        names = _imports(path)
        assert not {n for n in names if n.split(".")[0] in ("flask", "sqlalchemy")}, path
