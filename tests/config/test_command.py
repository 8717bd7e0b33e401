"""``flask resources check|show`` and ``python -m app.config`` on good and broken files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from app.config import load_resources
from app.config.command import resources_command

ROOT = Path(__file__).resolve().parents[2]
BROKEN = """
resources:
  Book:
    fields:
      title: {type: string, requred: true}
    mercure: {privat: true}
"""


def test_check_summarizes_a_valid_file() -> None:
    result = CliRunner().invoke(resources_command, ["check", str(ROOT / "resources.yaml")])
    assert result.exit_code == 0, result.output
    assert "OK, 2 resource(s)" in result.output
    assert "Book: /books (table book)" in result.output
    assert "Review: /reviews (table review)" in result.output
    assert "mercure private" in result.output


def test_check_lists_every_problem_and_fails(write: Callable[[str], Path]) -> None:
    path = write(BROKEN)
    result = CliRunner().invoke(resources_command, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}: 2 problems" in result.output
    assert (
        f"{path}:4: unknown key 'requred' at resources.Book.fields.title; "
        "did you mean 'required'?" in result.output
    )
    assert f"{path}:5: unknown key 'privat' at resources.Book.mercure" in result.output


def test_check_defaults_to_resources_file(
    write: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCES_FILE", str(write(BROKEN)))
    result = CliRunner().invoke(resources_command, ["check"])
    assert result.exit_code == 1
    assert "2 problems" in result.output


def test_show_prints_a_file_that_loads_to_the_same_spec(tmp_path: Path) -> None:
    source = ROOT / "resources.yaml"
    result = CliRunner().invoke(resources_command, ["show", str(source)])
    assert result.exit_code == 0, result.output
    data = YAML(typ="safe").load(result.output)
    assert data["resources"]["Book"]["route"] == "/books"
    shown = tmp_path / "shown.yaml"
    shown.write_text(result.output, encoding="utf-8")
    assert load_resources(shown, {}).resources == load_resources(source, {}).resources


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLASK_APP": "app:create_app", "PYTHONPATH": str(ROOT)}
    env.pop("RESOURCES_FILE", None)
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_module_entry_point_needs_no_flask_app(write: Callable[[str], Path]) -> None:
    path = write(BROKEN)
    result = _run([sys.executable, "-m", "app.config", "check", str(path)], path.parent)
    assert result.returncode == 1
    assert "did you mean 'required'?" in result.stderr


def test_flask_check_works_when_the_default_file_is_broken(write: Callable[[str], Path]) -> None:
    path = write(BROKEN)
    flask = Path(sys.executable).with_name("flask")
    result = _run([str(flask), "resources", "check"], path.parent)
    assert result.returncode == 1, result.stderr
    assert "resources.yaml:4: unknown key 'requred'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["db", "upgrade"], ["hub", "token", "--publish", "*"]])
def test_app_commands_report_a_broken_file_without_a_traceback(
    write: Callable[[str], Path], command: list[str]
) -> None:
    path = write(BROKEN)
    flask = Path(sys.executable).with_name("flask")
    result = _run([str(flask), *command], path.parent)
    assert result.returncode == 1, result.stderr
    assert "Error: cannot build the gateway:" in result.stderr
    assert "resources.yaml:4: unknown key 'requred' at resources.Book.fields.title" in result.stderr
    assert "Traceback" not in result.stderr
