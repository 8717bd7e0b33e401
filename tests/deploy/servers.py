"""Real server processes for deployment tests: a private redis-server, gunicorn, nginx,
Caddy.

Every helper is a context manager that starts the process on a free loopback port, waits
until it accepts connections and always stops it (SIGTERM, then SIGKILL) on exit, so no
test leaves a process behind. Output goes to a log file whose tail is shown when a
process fails to start.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import free_port, unavailable

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Process:
    """A started server process and its log."""

    name: str
    argv: Sequence[str]
    port: int
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path = ROOT
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(self.env) if self.env is not None else None,
                cwd=self.cwd,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not accepts(self.port):
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.popen.returncode}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not listen on {self.port}:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        popen, self.popen = self.popen, None
        if popen is None or popen.poll() is not None:
            return
        # The whole session: gunicorn's workers and nginx's workers go with their master.
        os.killpg(popen.pid, signal.SIGTERM)
        try:
            popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


@contextmanager
def running(process: Process) -> Iterator[Process]:
    process.start()
    try:
        yield process
    except BaseException:
        # Shown by pytest with the failure.
        print(f"--- {process.name} log ---\n{process.log()}")
        raise
    finally:
        process.stop()


def redis_server(tmp_path: Path) -> Process:
    """A private, non-persistent redis-server (not started yet)."""
    executable = shutil.which("redis-server")
    if executable is None:
        unavailable("redis-server", "install Debian's 'redis-server' package")
    assert executable is not None
    port = free_port()
    argv = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    argv += ["no", "--dir", str(tmp_path)]
    return Process("redis-server", argv, port, tmp_path / f"redis-{port}.log")


def gunicorn(
    tmp_path: Path,
    env: Mapping[str, str],
    *,
    workers: int,
    app: str = "wsgi:app",
    port: int | None = None,
) -> Process:
    """gunicorn with the project's gunicorn.conf.py and gevent workers (not started yet)."""
    port = port or free_port()
    environment = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port)}
    environment["WEB_CONCURRENCY"] = str(workers)
    environment.setdefault("GRACEFUL_TIMEOUT", "2")
    argv = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app]
    return Process("gunicorn", argv, port, tmp_path / f"gunicorn-{port}.log", environment)


def nginx(tmp_path: Path, main_conf: Path, port: int) -> Process:
    """nginx in the foreground with ``main_conf`` (not started yet)."""
    executable = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if executable is None:
        unavailable("nginx", "install Debian's 'nginx-light' package")
    assert executable is not None
    argv = [
        executable,
        "-p",
        str(tmp_path),
        "-c",
        str(main_conf),
        "-e",
        str(tmp_path / "error.log"),
    ]
    return Process("nginx", argv, port, tmp_path / "nginx.log")


def caddy(tmp_path: Path, env: Mapping[str, str], https_port: int) -> Process:
    """Caddy running the shipped ``deploy/Caddyfile`` with ``env`` (its ``CADDY_*``
    values), its state (the local certificate authority) under ``tmp_path`` (not started
    yet). The authority's root certificate is :func:`caddy_root` once it has started."""
    executable = shutil.which("caddy")
    if executable is None:
        unavailable("caddy", "install Debian's 'caddy' package")
    assert executable is not None
    home = tmp_path / "caddy-home"
    environment = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "CADDY_ADMIN": "off",
        **env,
    }
    argv = [executable, "run", "--config", str(ROOT / "deploy" / "Caddyfile")]
    argv += ["--adapter", "caddyfile"]
    return Process("caddy", argv, https_port, tmp_path / "caddy.log", environment)


def caddy_root(tmp_path: Path) -> Path:
    """The root certificate of the local authority of :func:`caddy` run under ``tmp_path``."""
    return tmp_path / "caddy-home" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
