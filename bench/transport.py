"""Transport benchmark: ``python -m bench.transport [--quick] [--subscribers N ...]``.

In one run and on the same machine, serves the built-in hub (alone on a bare Flask app)
with gunicorn and gevent workers, as deployed (``gunicorn.conf.py``), in three set-ups:

* ``memory, 1 worker``: the in-process transport, the reference;
* ``redis, 1 worker``: the Redis Streams transport (append, then the worker's reader
  delivers);
* ``redis, 2 workers``: the same with subscribers spread over two workers by the kernel,
  every update published through one of them and read back by both.

The load generator is :mod:`bench.hub.load` (its own process, one topic, raw-socket SSE
subscribers): deliveries per second under a publishing burst and publish-to-last-delivery
p50/p99 latency. Results are a Markdown table with ratios to ``memory, 1 worker`` (and
``redis, 2 workers`` to ``redis, 1 worker``), because absolute figures drift on a shared
machine. Redis is ``REDIS_URL`` (default ``redis://127.0.0.1:6379/15``); each set-up uses a
stream of its own, deleted afterwards.

gunicorn runs this module's :func:`create_hub_app` factory; ``--json FILE`` also writes
the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.hub.runner import BENCH_KEY, ROOT, TOPIC, free_port, publisher_token

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
FULL_SUBSCRIBERS = (1000,)
QUICK_SUBSCRIBERS = (300,)
BOOT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Setup:
    """One served configuration."""

    transport: str
    workers: int

    @property
    def label(self) -> str:
        return f"{self.transport}, {self.workers} worker{'s' if self.workers > 1 else ''}"


SETUPS = (Setup("memory", 1), Setup("redis", 1), Setup("redis", 2))
REFERENCE = SETUPS[0]


def create_hub_app() -> Any:
    """gunicorn factory: the hub alone on a Flask app, settings from the environment."""
    from flask import Flask

    from app import hub
    from app.hub.settings import HubSettings

    application = Flask("bench_transport")
    hub.init_app(application, HubSettings.from_env(os.environ))
    return application


def transport_url(setup: Setup, stream: str) -> str:
    if setup.transport == "memory":
        return "memory://"
    return f"{REDIS_URL}?stream={stream}"


@contextmanager
def served(setup: Setup) -> Iterator[tuple[int, int]]:
    """Start gunicorn for ``setup``; yield (port, master pid) once a worker answers."""
    port = free_port()
    stream = f"bench:transport:{uuid.uuid4().hex}"
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        PORT=str(port),
        HOST="127.0.0.1",
        WEB_CONCURRENCY=str(setup.workers),
        MERCURE_TRANSPORT_URL=transport_url(setup, stream),
        MERCURE_PUBLISHER_JWT_KEY=BENCH_KEY,
        MERCURE_SUBSCRIBER_JWT_KEY=BENCH_KEY,
        MERCURE_HEARTBEAT="0",
        MERCURE_UI="0",
    )
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    command += ["--access-logfile", "/dev/null", "bench.transport:create_hub_app()"]
    log_path = Path(tempfile.gettempdir()) / f"bench-transport-gunicorn-{port}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            wait_until_serving(port, server)
            yield port, server.pid
        except BaseException:
            print(f"gunicorn log of {setup.label}: {log_path}", file=sys.stderr)
            raise
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if setup.transport == "redis":
                delete_stream(stream)


def wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            # Missing topic: 400 from the hub means a worker has the app loaded.
            if httpx.get(f"http://127.0.0.1:{port}/.well-known/mercure").status_code == 400:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not serve on port {port} within {BOOT_TIMEOUT} s")


def delete_stream(stream: str) -> None:
    from redis import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{stream}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def measure(setup: Setup, subscribers: int, messages: int, burst: int) -> dict[str, Any]:
    quoted = TOPIC.replace(":", "%3A").replace("/", "%2F")
    with served(setup) as (port, pid):
        command = [sys.executable, "-m", "bench.hub.load", "--port", str(port)]
        command += ["--server-pid", str(pid), "--topic", TOPIC, "--token", publisher_token()]
        command += ["--subscribe-path", f"/.well-known/mercure?topic={quoted}"]
        command += ["--publish-path", "/.well-known/mercure", "--subscribers", str(subscribers)]
        command += ["--messages", str(messages), "--burst", str(burst)]
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"load generator failed for {setup.label}: {result.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(result.stdout)
    figures["setup"] = setup.label
    return figures


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| subscribers | set-up | deliveries/s | p50 ms | p99 ms "
        "| deliveries/s vs memory 1w | p99 vs memory 1w | deliveries/s vs redis 1w |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for count in sorted({int(r["subscribers"]) for r in results}):
        group = {r["setup"]: r for r in results if r["subscribers"] == count}
        reference = group[REFERENCE.label]
        redis_one = group.get(Setup("redis", 1).label)
        for setup in SETUPS:
            row = group.get(setup.label)
            if row is None:
                continue
            versus_redis = ""
            if setup == Setup("redis", 2) and redis_one is not None:
                versus_redis = ratio(
                    row["deliveries_per_second"], redis_one["deliveries_per_second"]
                )
            rows.append(
                f"| {count:,} | {setup.label} | {row['deliveries_per_second']:,} "
                f"| {row['latency_p50_ms']} | {row['latency_p99_ms']} "
                f"| {ratio(row['deliveries_per_second'], reference['deliveries_per_second'])} "
                f"| {ratio(row['latency_p99_ms'], reference['latency_p99_ms'])} "
                f"| {versus_redis} |"
            )
    return "\n".join(rows)


def plan(subscribers: int, quick: bool) -> tuple[int, int]:
    """``(messages, burst)``: about 100,000 deliveries per burst in a full run."""
    if quick:
        return 20, 30
    count = max(50, 100_000 // subscribers)
    return count, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Redis vs in-memory transport, 1 vs 2 workers")
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument("--subscribers", type=int, nargs="+", help="subscriber counts")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    counts = args.subscribers or (QUICK_SUBSCRIBERS if args.quick else FULL_SUBSCRIBERS)
    results = []
    for count in counts:
        messages, burst = plan(count, args.quick)
        for setup in SETUPS:
            print(f"measuring {setup.label} with {count:,} subscribers...", file=sys.stderr)
            results.append(measure(setup, count, messages, burst))
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
