"""Two gateway instances on different ports, one Redis and one PostgreSQL database, behave
as one gateway: what is created through one reaches subscribers of the other, and a
client moving between them with its last event id loses nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.deploy.gateway import (
    BOOK_TOPIC,
    WAIT,
    CurlSubscriber,
    Listener,
    create_book,
    gateway_env,
    migrate,
    postgres_database,
)
from tests.deploy.servers import gunicorn, running

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def shared_env(redis_stream: tuple[str, str]) -> Iterator[dict[str, str]]:
    with postgres_database() as database_url:
        env = gateway_env(database_url, redis_stream[0])
        migrate(env)
        yield env


def test_two_instances_behave_as_one_gateway(tmp_path: Path, shared_env: dict[str, str]) -> None:
    with (
        running(gunicorn(tmp_path, shared_env, workers=1)) as a,
        running(gunicorn(tmp_path, shared_env, workers=1)) as b,
    ):
        curl = CurlSubscriber(f"{a.url}/.well-known/mercure?topic={quote(BOOK_TOPIC, safe='')}")
        try:
            # Once the stream is open on A, create a book through B's REST API.
            assert curl.opened.wait(WAIT)
            book = create_book(b.url, "Created through B")
            ((last_id, data),) = curl.wait_for(1)
        finally:
            curl.close()
        assert json.loads(data)["title"] == "Created through B"
        assert json.loads(data)["@id"] == book["@id"]

        # While the client is away, more books are created through both instances.
        missed = [create_book(b.url, "Missed 1"), create_book(a.url, "Missed 2")]
        resumed = Listener(b.url, [BOOK_TOPIC], last_event_id=last_id)
        try:
            assert resumed.response.headers["Last-Event-ID"] == last_id
            live = create_book(a.url, "Live after reconnecting")
            resumed.wait_for(3)
            received = [json.loads(data)["@id"] for _id, data in resumed.events]
            assert received == [book["@id"] for book in [*missed, live]]
            assert last_id not in resumed.ids
        finally:
            resumed.close()
