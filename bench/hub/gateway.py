"""The gateway as ``make run`` hosts it, for the fan-out benchmark.

:func:`running_gateway` migrates a fresh SQLite database, starts
``gunicorn -c gunicorn.conf.py wsgi:app`` (gevent workers, ``WEB_CONCURRENCY`` workers) on
a free port, with the in-process ``memory://`` transport or, for ``redis``, a private
``redis-server`` of its own (:mod:`bench.soak.servers`), and yields the port, the
workers' process ids (whose CPU time and memory the load generator reads) and the
redis-server's process id (``None`` without Redis). Everything is stopped afterwards.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.soak.servers import Gunicorn, RedisServer, free_port, gateway_env, migrate

BOOT_SECONDS = 60.0


@dataclass(frozen=True)
class Gateway:
    port: int
    workers: tuple[int, ...]
    redis: int | None


def workers_of(master: int) -> tuple[int, ...]:
    """The child processes of gunicorn's master (Linux)."""
    with open(f"/proc/{master}/task/{master}/children") as children:
        return tuple(int(pid) for pid in children.read().split())


@contextmanager
def running_gateway(key: str, workers: int = 1, transport: str = "memory") -> Iterator[Gateway]:
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-hub-")))
        redis_pid = None
        transport_url = "memory://"
        if transport == "redis":
            redis = RedisServer(directory)
            redis.start()
            stack.callback(redis.stop)
            transport_url, redis_pid = redis.url, redis.pid
        port = free_port()
        env = gateway_env(f"sqlite:///{directory / 'gateway.db'}", transport_url, port, workers)
        env["MERCURE_JWT_KEY"] = key
        # The schema needs no hub: migrate without connecting to the transport.
        migrate({**env, "MERCURE_TRANSPORT_URL": "memory://"})
        gunicorn = Gunicorn(directory, env, port)
        gunicorn.start()
        stack.callback(gunicorn.stop)
        pids = _booted(gunicorn, workers)
        yield Gateway(port=port, workers=pids, redis=redis_pid)


def _booted(gunicorn: Gunicorn, workers: int) -> tuple[int, ...]:
    """Wait until every worker has loaded the app and answers; return their ids."""
    deadline = time.monotonic() + BOOT_SECONDS
    answered: set[int] = set()
    while time.monotonic() < deadline:
        pids = workers_of(gunicorn.pid)
        if len(pids) == workers:
            # A worker answers only once its app is loaded: ask until each one has.
            for _ in range(4 * workers):
                response = httpx.get(f"{gunicorn.url}/books", timeout=10)
                response.raise_for_status()
            answered = {pid for pid in pids if _loaded(pid)}
            if len(answered) == workers:
                return pids
        time.sleep(0.2)
    raise RuntimeError(f"only {len(answered)} of {workers} gunicorn workers booted")


def _loaded(pid: int) -> bool:
    """Whether worker ``pid`` has imported the app (its memory holds the gateway)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) > 40_000
    return False
