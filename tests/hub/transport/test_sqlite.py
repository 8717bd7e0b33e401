"""The SQLite transport: local delivery with a history kept in a file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.hub.subscriber import EARLIEST, Subscriber
from app.hub.transport import TransportClosedError, TransportError, create_transport
from app.hub.transport.codec import encode_update
from app.hub.transport.sqlite import SqliteOptions, SqliteTransport, from_url
from app.hub.transport.sqlite_history import SqliteHistory
from app.hub.update import Update
from tests.hub.transport.frames import drained_ids, names

Factory = Callable[..., SqliteTransport]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def transports(database: Path) -> Iterator[Factory]:
    built: list[SqliteTransport] = []

    def build(size: int = 100) -> SqliteTransport:
        transport = from_url(f"sqlite:///{database}?size={size}")
        built.append(transport)
        return transport

    yield build
    for transport in built:
        transport.close()


def publish(transport: SqliteTransport, *update_ids: str, topic: str = "https://e.com/b/1") -> None:
    for update_id in update_ids:
        transport.dispatch(Update((topic,), data=update_id, id=update_id))


def test_create_transport_builds_a_sqlite_transport(database: Path) -> None:
    transport = create_transport(f"sqlite:///{database}")
    try:
        assert isinstance(transport, SqliteTransport)
        assert transport.history.path == database
    finally:
        transport.close()


def test_live_delivery_matches_topics_and_privacy(transports: Factory) -> None:
    transport = transports()
    books = Subscriber(["https://e.com/b/{id}"])
    anonymous = Subscriber(["*"])
    authorized = Subscriber(["*"], allowed_private=["*"])
    for subscriber in (books, anonymous, authorized):
        assert transport.add_subscriber(subscriber) is None
    publish(transport, "b1")
    transport.dispatch(Update(("https://e.com/secret",), private=True, id="s1"))
    publish(transport, "o1", topic="https://e.com/other")
    assert drained_ids(books) == ["b1"]
    assert drained_ids(anonymous) == ["b1", "o1"]
    assert drained_ids(authorized) == ["b1", "s1", "o1"]


def test_updates_read_back_are_the_updates_published(transports: Factory) -> None:
    transport = transports()
    update = Update(("https://e.com/a", "https://e.com/b"), "x\r\ny", True, "u1", "t", 5)
    transport.dispatch(update)
    assert list(transport.history.after(0)) == [update]


@pytest.mark.parametrize(
    ("requested", "answer", "expected"),
    [
        ("h1", "h1", ["h2", "h3", "live"]),
        ("h3", "h3", ["live"]),
        (EARLIEST, EARLIEST, ["h0", "h1", "h2", "h3", "live"]),
        ("unknown", EARLIEST, ["live"]),
    ],
)
def test_last_event_id_replay(
    transports: Factory, requested: str, answer: str, expected: list[str]
) -> None:
    transport = transports()
    publish(transport, *names("h", 4))
    subscriber = Subscriber(["*"], last_event_id=requested)
    assert transport.add_subscriber(subscriber) == answer
    publish(transport, "live")
    assert drained_ids(subscriber) == expected


def test_a_history_written_by_an_earlier_version_is_converted(database: Path) -> None:
    """Files whose ids were unique (table ``mercure_updates``) keep their order and ids."""
    legacy = sqlite3.connect(database)
    legacy.execute(
        "CREATE TABLE mercure_updates (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " update_id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL)"
    )
    for update_id in ("old1", "old2"):
        legacy.execute(
            "INSERT INTO mercure_updates (update_id, payload) VALUES (?, ?)",
            (update_id, encode_update(Update(("https://e.com/b/1",), id=update_id))),
        )
    legacy.commit()
    legacy.close()
    history = SqliteHistory(database, size=10)
    history.append(Update(("https://e.com/b/1",), id="old2"))  # ids may repeat now
    assert [u.id for u in history.after(0)] == ["old1", "old2", "old2"]
    assert history.position_of("old2") == 2
    history.close()


def test_history_survives_a_restart_of_the_app(transports: Factory) -> None:
    before = transports()
    publish(before, *names("r", 5))
    before.close()
    after = transports()
    assert after.subscribers() == ("r4", [])
    subscriber = Subscriber(["*"], last_event_id="r2")
    assert after.add_subscriber(subscriber) == "r2"
    publish(after, "r5")
    assert drained_ids(subscriber) == ["r3", "r4", "r5"]


def test_history_keeps_the_newest_size_updates(transports: Factory) -> None:
    transport = transports(size=10)
    publish(transport, *names("m", 25))
    assert len(transport.history) == 10
    assert transport.add_subscriber(Subscriber(["*"], last_event_id="m14")) == EARLIEST
    kept = Subscriber(["*"], last_event_id="m15")
    assert transport.add_subscriber(kept) == "m15"
    assert drained_ids(kept) == names("m", 9, start=16)


def test_subscribers_lists_local_subscribers(transports: Factory) -> None:
    transport = transports()
    assert transport.subscribers() == (EARLIEST, [])
    subscriber = Subscriber(["https://e.com/b/{id}"], payload={"u": 1})
    transport.add_subscriber(subscriber)
    publish(transport, "p")
    assert transport.subscribers() == ("p", [subscriber.info])
    transport.remove_subscriber(subscriber)
    assert transport.subscribers() == ("p", [])


def test_close_disconnects_and_refuses(transports: Factory) -> None:
    transport = transports()
    subscriber = Subscriber(["*"])
    transport.add_subscriber(subscriber)
    transport.close()
    assert subscriber.closed
    with pytest.raises(TransportClosedError):
        publish(transport, "late")


def test_a_failing_write_is_a_transport_error(database: Path) -> None:
    transport = SqliteTransport(SqliteHistory(database, 10, busy_timeout_ms=0))
    subscriber = Subscriber(["*"])
    transport.add_subscriber(subscriber)
    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TransportError, match="cannot store the update"):
            publish(transport, "blocked")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    publish(transport, "unblocked")
    assert drained_ids(subscriber) == ["unblocked"]
    transport.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///history.db", SqliteOptions(Path("history.db"))),
        ("sqlite:////var/lib/h.db?size=5", SqliteOptions(Path("/var/lib/h.db"), 5)),
        ("sqlite:///:memory:", SqliteOptions(Path(":memory:"))),
    ],
)
def test_url_options(url: str, expected: SqliteOptions) -> None:
    assert SqliteOptions.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "names no database file"),
        ("sqlite://host/x.db", "names no database file"),
        ("sqlite:///h.db?size=0", "must be a positive integer"),
        ("sqlite:///h.db?size=-3", "must be a positive integer"),
        ("sqlite:///h.db?maxlen=3", "unknown parameters"),
    ],
)
def test_bad_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SqliteOptions.from_url(url)


def test_a_missing_directory_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist; create it"):
        from_url(f"sqlite:///{tmp_path}/missing/history.db")
