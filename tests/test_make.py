"""``make run`` on a fresh clone: a virtualenv of its own with what running needs and none
of the test tools, rebuilt when the one found was made by a wrong interpreter, then a
gateway that answers. Slow (one ``pip install``); it is the newcomer's first command."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.environment import VARIABLES
from tests.deploy.servers import accepts
from tests.services import free_port, unavailable

ROOT = Path(__file__).resolve().parent.parent
INSTALL_DEADLINE = 900.0
TEST_TOOLS = {"pytest", "mypy", "ruff", "mkdocs", "mkdocs-material", "playwright", "hypothesis"}


def _environment(port: int) -> dict[str, str]:
    names = {entry.name for entry in VARIABLES if entry.pattern is None}
    skipped = names | {"FLASK_APP", "VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
    env = {k: v for k, v in os.environ.items() if k not in skipped}
    return {**env, "HOST": "127.0.0.1", "PORT": str(port)}


@pytest.mark.timeout(INSTALL_DEADLINE + 120)
def test_make_run_in_a_fresh_clone_installs_no_test_tools(tmp_path: Path) -> None:
    if shutil.which("git") is None or shutil.which("make") is None:
        unavailable("git and make", "install Debian's 'git' and 'make' packages")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    # A .venv left by an interpreter too old for the project (or gone): rebuilt, and said.
    fake = clone / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        '#!/bin/sh\n[ "$1" = "--version" ] && echo "Python 3.10.12" && exit 0\nexit 1\n'
    )
    fake.chmod(0o755)

    port = free_port()
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        make = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=_environment(port),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + INSTALL_DEADLINE
        while not accepts(port):
            assert make.poll() is None, log.read_text(errors="replace")[-4000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
            time.sleep(0.5)
        answer = httpx.get(f"http://127.0.0.1:{port}/books", timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["totalItems"] == 0
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(timeout=30)

    printed = log.read_text(errors="replace")
    assert ".venv was made by an interpreter that is missing or older than Python 3.11" in (printed)
    assert "(Python 3.10.12); rebuilding it with Python 3." in printed
    listed = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert {"flask", "gunicorn", "gevent", "mercure-gateway"} <= installed
    assert installed & TEST_TOOLS == set()
