"""Two workers changing the same books at once: each book's updates reach a subscriber once
each and in commit order.

Every write goes on a new connection, so either worker takes it, and a worker often commits
a change while the other's update of a moment earlier is still in the outbox: its update
then waits behind that one (see ``app/publish/relay.py``). The commit order comes from the
database: a trigger copies each outbox row as it is written, and two changes of one book
are ordered by the book's row lock, so their rows' ``seq`` is their commit order.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import gevent
import httpx
import pytest
import sqlalchemy as sa

from tests.deploy.faults import Resubscriber, wait_for_empty_outbox
from tests.deploy.gateway import (
    ADMIN,
    BOOK_TOPIC,
    PUBLIC_URL,
    WAIT,
    gateway_env,
    migrate,
    postgres_database,
)
from tests.deploy.servers import gunicorn, redis_server, running

BOOKS = 3
WRITERS = 16
WRITES = 40
"""Per writer."""
HEADERS = {"Authorization": f"Bearer {ADMIN}", "Accept": "application/ld+json"}

LOG_OUTBOX = (
    # In a schema of its own: the gateway refuses a database with tables it does not know.
    "CREATE SCHEMA witness",
    "CREATE TABLE witness.outbox_log (seq bigint, update_id text, topics text)",
    """CREATE FUNCTION witness.outbox_log_row() RETURNS trigger AS $$
    BEGIN
        INSERT INTO witness.outbox_log VALUES (NEW.seq, NEW.update_id, NEW.topics);
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER outbox_log AFTER INSERT ON mercure_outbox
    FOR EACH ROW EXECUTE FUNCTION witness.outbox_log_row()""",
)


def execute(database_url: str, *statements: str) -> list[sa.Row[tuple[object, ...]]]:
    """Run ``statements`` in one transaction; the last one's rows."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                result = connection.execute(sa.text(statement))
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def write(base_url: str, method: str, path: str, body: dict[str, str]) -> httpx.Response:
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    return httpx.request(
        method,
        f"{base_url}{path}",
        content=json.dumps(body).encode(),
        headers={**HEADERS, "Content-Type": content_type},
        timeout=WAIT,
    )


@pytest.mark.redis
@pytest.mark.postgres
def test_two_workers_changing_the_same_books_deliver_them_in_commit_order(
    tmp_path: Path,
) -> None:
    with running(redis_server(tmp_path)) as redis, postgres_database() as database_url:
        env = gateway_env(database_url, f"redis://127.0.0.1:{redis.port}/0")
        migrate(env)
        execute(database_url, *LOG_OUTBOX)
        with running(gunicorn(tmp_path, env, workers=2)) as server:
            books = [
                str(
                    write(server.url, "POST", "/books", {"title": "t", "author": "a"}).json()["@id"]
                )
                for _ in range(BOOKS)
            ]
            subscriber = Resubscriber(
                f"{server.url}/.well-known/mercure", [BOOK_TOPIC], last_event_id="earliest"
            )
            statuses: list[int] = []

            def writer(index: int) -> None:
                choices = random.Random(index)
                for number in range(WRITES):
                    title = f"w{index} n{number}"
                    path = choices.choice(books)
                    statuses.append(write(server.url, "PATCH", path, {"title": title}).status_code)

            try:
                gevent.joinall([gevent.spawn(writer, i) for i in range(WRITERS)], raise_error=True)
                assert statuses == [200] * WRITERS * WRITES
                wait_for_empty_outbox(database_url)
                sentinel = write(server.url, "POST", "/books", {"title": "end", "author": "a"})
                assert sentinel.status_code == 201
                assert subscriber.wait_for_title("end"), "the last update never arrived"
            finally:
                subscriber.close()
        logged = execute(
            database_url, "SELECT seq, update_id, topics FROM witness.outbox_log ORDER BY seq"
        )

    committed: dict[str, list[str]] = defaultdict(list)
    for _seq, update_id, topics in logged:
        committed[json.loads(topics)[0].removeprefix(PUBLIC_URL)].append(update_id)
    received: dict[str, list[str]] = defaultdict(list)
    for event in subscriber.events:
        received[str(event.document["@id"])].append(event.id)
    assert sum(len(committed[book]) for book in books) == BOOKS + WRITERS * WRITES
    for book in books:
        assert received[book] == committed[book], book
