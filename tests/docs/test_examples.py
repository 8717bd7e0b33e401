"""Every console example of the README and of docs/ runs against a live gateway.

Each page gets a gateway of its own (gunicorn with gevent workers, as ``make run`` starts
it, on a free port, with a freshly migrated SQLite database and the development keys) and
a shell in a scratch directory holding ``resources.yaml``, ``.flaskenv`` and ``.venv``, as
the repository does. ``localhost:8000`` in commands and shown output becomes the
gateway's address. See :mod:`tests.docs.examples` for how blocks are read and compared.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from app.environment import VARIABLES
from tests.deploy.servers import Process, running
from tests.docs.examples import HOST, ROOT, Block, blocks, matches, pages
from tests.services import free_port

COMMAND_TIMEOUT = 60.0
ARRIVAL_DEADLINE = 20.0
"""How long a terminal may take to connect, and to show what it shows after the page ran."""


def _declared(name: str) -> bool:
    return any(
        entry.pattern.fullmatch(name) if entry.pattern else name == entry.name
        for entry in VARIABLES
    )


def _environment(workdir: Path, database_url: str) -> dict[str, str]:
    """The process environment without any gateway setting, plus the page's own."""
    env = {k: v for k, v in os.environ.items() if not _declared(k) and k != "FLASK_APP"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DATABASE_URL"] = database_url
    env["RESOURCES_FILE"] = str(workdir / "resources.yaml")
    return env


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated with ``flask db upgrade``; copy it, never write to it."""
    directory = tmp_path_factory.mktemp("docs-database")
    env = _environment(ROOT, f"sqlite:///{directory / 'gateway.db'}")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return directory / "gateway.db"


class Shell:
    """One bash, fed one command at a time; returns each command's output and status."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self._pending = b""

    def run(self, command: str) -> tuple[str, int]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        marker = f"__example_done_{uuid.uuid4().hex}__"
        script = f"{command}\nprintf '\\n{marker} %s\\n' \"$?\"\n"
        self.process.stdin.write(script.encode())
        self.process.stdin.flush()
        found = re.compile(rb"\n" + marker.encode() + rb" (\d+)\n")
        deadline = time.monotonic() + COMMAND_TIMEOUT
        output = self._pending
        while (hit := found.search(output)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no end after {COMMAND_TIMEOUT}s; printed:\n{output!r}")
            ready, _, _ = select.select([self.process.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"the shell ended; printed:\n{output!r}")
                output += chunk
        self._pending = output[hit.end() :]
        return output[: hit.start()].decode(errors="replace"), int(hit.group(1))

    def close(self) -> None:
        _stop(self.process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Terminal:
    """A block run in a shell of its own, its output kept in a file."""

    def __init__(self, block: Block, script: str, env: dict[str, str], cwd: Path) -> None:
        self.block = block
        self.log = cwd / f"terminal-{block.line}.log"
        # Standard output only: on a terminal, curl shows no progress meter on stderr.
        with self.log.open("wb") as log, (cwd / f"terminal-{block.line}.err").open("wb") as err:
            self.process = subprocess.Popen(
                ["bash", "--noprofile", "--norc", "-c", script],
                stdout=log,
                stderr=err,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, predicate: object, what: str) -> str:
        deadline = time.monotonic() + ARRIVAL_DEADLINE
        while not predicate(self.output()):  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.block.where}: {what} within {ARRIVAL_DEADLINE}s; it printed:\n"
                    f"{self.output()}"
                )
            time.sleep(0.05)
        return self.output()


def _runnable(page: Path) -> bool:
    return any(block.mode != "not run" and block.commands for block in blocks(page))


RUNNABLE = [page for page in pages() if _runnable(page)]


@pytest.fixture
def workdir(tmp_path: Path, migrated: Path) -> Path:
    """A scratch directory laid out as the repository, for the page's shell."""
    for name in ("resources.yaml", ".flaskenv"):
        shutil.copyfile(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    shutil.copyfile(migrated, tmp_path / "gateway.db")
    return tmp_path


@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", RUNNABLE, ids=[str(p.relative_to(ROOT)) for p in RUNNABLE])
def test_console_examples_run_and_show_what_they_print(page: Path, workdir: Path) -> None:
    env = _environment(workdir, f"sqlite:///{workdir / 'gateway.db'}")
    port = free_port()
    gunicorn_env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "GRACEFUL_TIMEOUT": "2"}
    argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"]
    server = Process("gunicorn", argv, port, workdir / "gunicorn.log", gunicorn_env)

    def here(text: str) -> str:
        return text.replace(HOST, f"localhost:{port}")

    terminals: list[Terminal] = []
    shell = Shell(env, workdir)
    try:
        with running(server):
            for block in blocks(page):
                if block.mode == "not run":
                    continue
                if block.mode == "terminal":
                    script = "\n".join(here(command.text) for command in block.commands)
                    terminal = Terminal(block, script, env, workdir)
                    terminals.append(terminal)
                    terminal.wait(bool, "the command printed nothing (not connected)")
                    continue
                for command in block.commands:
                    output, status = shell.run(here(command.text))
                    shown = here(command.expected)
                    where = f"{block.where}: $ {command.text}"
                    if shown.strip():
                        assert matches(shown, output), (
                            f"{where}\nshows:\n{shown}\nbut printed:\n{output}"
                        )
                    else:
                        assert status == 0, f"{where}\nexited with {status}:\n{output}"
            for terminal in terminals:
                shown = here("\n".join(c.expected for c in terminal.block.commands))
                terminal.wait(
                    lambda text, shown=shown: matches(shown, text),  # type: ignore[misc]
                    f"did not show\n{shown}\n",
                )
    finally:
        for terminal in terminals:
            _stop(terminal.process)
        shell.close()


def test_every_example_that_is_not_run_says_why() -> None:
    skipped = [b for page in pages() for b in blocks(page) if b.mode == "not run"]
    assert all(block.reason.strip() for block in skipped)
    # Only what takes minutes, needs hosts the tests do not have, or starts servers of
    # its own (tested elsewhere, as the reason says; for observability, with a Redis
    # server to stop: tests/deploy/test_observability.py runs that part).
    assert {block.page.name for block in skipped} <= {
        "README.md",
        "api-platform-admin.md",
        "benchmarks.md",
        "deployment.md",
        "development.md",
        "observability.md",
        "rest-api.md",
    }


def test_examples_use_one_host_name() -> None:
    """``localhost:8000`` everywhere: a subscriber on another host name than the writer's
    would not receive its updates (topics carry the request's origin)."""
    for page in pages():
        text = page.read_text(encoding="utf-8")
        assert "127.0.0.1:8000" not in text, page
        for block in blocks(page):
            for command in block.commands:
                hosts = set(re.findall(r"(?:localhost|127\.0\.0\.1|\[::1\]):\d+", command.text))
                assert hosts <= {HOST}, f"{block.where}: {hosts}"
