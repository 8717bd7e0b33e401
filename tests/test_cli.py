"""The ``flask`` command from the repository, as the README runs it: no ``FLASK_APP`` to
export (``.flaskenv`` names the app), and no warning of gevent patching too late (flask
would otherwise find ``wsgi.py``, which patches after flask imported ``ssl``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt

from app.auth.settings import DEVELOPMENT_AUTH_KEY
from app.environment import VARIABLES

ROOT = Path(__file__).resolve().parent.parent


def test_flask_finds_the_app_from_the_repository_without_warnings(tmp_path: Path) -> None:
    names = {entry.name for entry in VARIABLES if entry.pattern is None}
    env = {k: v for k, v in os.environ.items() if k not in names and k != "FLASK_APP"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'gateway.db'}"
    result = subprocess.run(
        [sys.executable, "-W", "default", "-m", "flask", "auth", "token", "--sub", "kim"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr.replace("warning: signed with", "")
    claims = jwt.decode(result.stdout.strip(), DEVELOPMENT_AUTH_KEY, algorithms=["HS256"])
    assert claims["sub"] == "kim"
