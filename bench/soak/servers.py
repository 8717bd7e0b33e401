"""The processes of a soak: a private redis-server, the database, gunicorn.

Each server is started on a free loopback port in a session of its own and always stopped
(``SIGTERM``, then ``SIGKILL``); its output goes to a log file in the run's directory,
whose tail is shown when it fails to start. The database is a SQLite file in that
directory, or a fresh PostgreSQL database dropped afterwards; either way it is migrated
with ``flask db upgrade``, as an operator would.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
HUB_KEY = "soak-only-hub-key-that-is-long-enough-for-every-hmac-algorithm-of-the-hub"
USER_KEY = "soak-only-users-key-that-is-long-enough-for-every-hmac-algorithm-of-jwt"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except FileNotFoundError:
        return ""


class ServerError(RuntimeError):
    """A server did not start; the message holds the tail of its log."""


class Server:
    """One server process started in its own session, its output appended to a log."""

    name = "server"

    def __init__(self, argv: list[str], port: int, log_path: Path, env: Mapping[str, str]):
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.env = dict(env)
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready():
            if self.popen.poll() is not None:
                raise ServerError(
                    f"{self.name} exited with {self.popen.returncode}:\n{tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(
                    f"{self.name} did not serve within {START_TIMEOUT:.0f} s:\n"
                    f"{tail(self.log_path)}"
                )
            time.sleep(0.1)

    def ready(self) -> bool:
        return accepts(self.port)

    def stop(self) -> None:
        popen, self.popen = self.popen, None
        if popen is None:
            return
        if popen.poll() is None:
            os.killpg(popen.pid, signal.SIGTERM)
            try:
                popen.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                popen.wait(timeout=STOP_TIMEOUT)
        else:
            popen.wait()


class RedisServer(Server):
    """``redis-server --save ""``: nothing on disk, so a restart forgets everything; with
    ``aof``, every write is appended to a file synced every second (``--appendonly yes``),
    which a graceful stop completes, so a restart keeps the stream and its indexes."""

    name = "redis-server"

    def __init__(self, directory: Path, *, aof: bool = False) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise ServerError("redis-server is not installed (Debian package 'redis-server')")
        port = free_port()
        argv = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "yes" if aof else "no"]
        argv += ["--dir", str(directory)]
        super().__init__(argv, port, directory / f"redis-{port}.log", os.environ)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class Gunicorn(Server):
    """The gateway as deployed: ``gunicorn -c gunicorn.conf.py wsgi:app``, gevent workers."""

    name = "gunicorn"

    def __init__(self, directory: Path, env: Mapping[str, str], port: int) -> None:
        argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"]
        super().__init__(argv, port, directory / f"gunicorn-{port}.log", env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/books", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def reload(self) -> None:
        """``kill -HUP`` the master: new workers start, the old ones drain and stop."""
        os.kill(self.pid, signal.SIGHUP)


def gateway_env(database_url: str, transport_url: str, port: int, workers: int) -> dict[str, str]:
    """The environment of the gateway's processes (``flask db upgrade`` and gunicorn)."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FLASK_APP": "app:create_app",
        "DATABASE_URL": database_url,
        "RESOURCES_FILE": str(ROOT / "resources.yaml"),
        "MERCURE_TRANSPORT_URL": transport_url,
        "MERCURE_JWT_KEY": HUB_KEY,
        "AUTH_JWT_KEY": USER_KEY,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MERCURE_UI": "0",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
    }


def migrate(env: Mapping[str, str]) -> None:
    """``flask db upgrade``, as an operator runs it before starting the gateway."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise ServerError(f"flask db upgrade failed:\n{result.stdout}{result.stderr}")


@contextmanager
def database(kind: str, directory: Path, postgres_url: str) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database: a SQLite file in ``directory``, or a fresh
    PostgreSQL database on the server of ``postgres_url`` (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'gateway.db'}"
        return
    import psycopg

    name = f"soak_{uuid.uuid4().hex[:12]}"
    admin_url = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
