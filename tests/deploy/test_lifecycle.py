"""A process that built the gateway closes it when it exits, without gunicorn's hooks.

The process is real (the deployed ``wsgi`` module, a migrated SQLite database); what it
leaves behind is read from the database after it exited: a relay lease still held would
make the next process wait for it to expire before relaying the backlog.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import gevent
import pytest
import sqlalchemy as sa

from tests.deploy.gateway import WAIT, gateway_env
from tests.deploy.servers import ROOT

SCRIPT = textwrap.dedent(
    """
    import os, sys
    import gevent
    import wsgi  # builds the app, as a gunicorn worker does; no hook is called
    while not os.path.exists(sys.argv[1]):
        gevent.sleep(0.05)
    print("leaving", flush=True)
    """
)


def _leases(database_url: str) -> list[tuple[str, str]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT hub, owner FROM mercure_relay_lease"))
            return [(row[0], row[1]) for row in rows]
    finally:
        engine.dispose()


@pytest.mark.parametrize("transport", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_a_process_that_exits_closes_its_relays_and_releases_their_lease(
    tmp_path: Path, database_url: str, transport: str, request: pytest.FixtureRequest
) -> None:
    """Closing at exit also ends the Redis transport's reader (waiting for a push)."""
    url = "memory://"
    if transport == "redis":
        url, _stream = request.getfixturevalue("redis_stream")
    env = {**os.environ, **gateway_env(database_url, url)}
    stop = tmp_path / "stop"
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(stop)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with gevent.Timeout(WAIT, AssertionError("the relay never took its lease")):
            while not _leases(database_url):
                assert process.poll() is None, process.communicate()[0]
                gevent.sleep(0.1)
        [(hub, owner)] = _leases(database_url)
        assert (hub, owner.split(":")[1]) == ("default", str(process.pid))
        stop.touch()
        output, _ = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "leaving" in output
    assert _leases(database_url) == []
