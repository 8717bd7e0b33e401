"""The Redis Streams transport against the real Redis server, in process.

Several transports on one stream stand for several workers. Each test uses its own stream
name, and deletes its keys afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import gevent
import pytest
from redis import Redis

from app.hub.subscriber import EARLIEST, Subscriber
from app.hub.transport import TransportClosedError, TransportError, create_transport
from app.hub.transport.redis import RedisOptions, RedisTransport, from_url, redact
from app.hub.update import Update
from tests.hub.transport.frames import names, received_ids

pytestmark = pytest.mark.redis

Factory = Callable[..., RedisTransport]


@pytest.fixture
def transports(redis_url: str, stream: str) -> Iterator[Factory]:
    """``transports(**query)`` builds a transport ("a worker") on the test's stream."""
    built: list[RedisTransport] = []

    def build(**query: object) -> RedisTransport:
        params = "&".join(f"{key}={value}" for key, value in {"stream": stream, **query}.items())
        transport = from_url(f"{redis_url}?{params}")
        built.append(transport)
        return transport

    yield build
    for transport in built:
        transport.close()


def publish(
    transport: RedisTransport, *ids: str, topic: str = "https://example.com/books/1"
) -> None:
    for update_id in ids:
        transport.dispatch(Update((topic,), data=f"data of {update_id}", id=update_id))


def test_create_transport_builds_a_redis_transport(redis_url: str, stream: str) -> None:
    transport = create_transport(f"{redis_url}?stream={stream}")
    try:
        assert isinstance(transport, RedisTransport)
        assert transport.stream.name == stream
    finally:
        transport.close()


def test_every_worker_delivers_every_update_once_in_order(transports: Factory) -> None:
    workers = [transports(), transports(), transports()]
    subscribers = [Subscriber(["https://example.com/books/{id}"]) for _ in workers]
    for worker, subscriber in zip(workers, subscribers, strict=True):
        assert worker.add_subscriber(subscriber) is None
    expected = names("urn:test:", 30)
    publish(workers[0], *expected[:10])
    publish(workers[1], *expected[10:20])
    publish(workers[2], *expected[20:])
    for subscriber in subscribers:
        assert received_ids(subscriber, 30) == expected


def test_updates_keep_their_fields_and_privacy(transports: Factory) -> None:
    worker, other = transports(), transports()
    anonymous = Subscriber(["*"])
    authorized = Subscriber(["*"], allowed_private=["https://example.com/secret/{id}"])
    worker.add_subscriber(anonymous)
    worker.add_subscriber(authorized)
    other.dispatch(
        Update(("https://example.com/secret/1",), data="a\nb", private=True, id="p1", type="t")
    )
    other.dispatch(Update(("https://example.com/public",), data="", id="x1", retry=500))
    authorized.wait(10)
    assert received_ids(authorized, 2) == ["p1", "x1"]
    assert received_ids(anonymous, 1) == ["x1"]


def test_last_event_id_replays_after_it_then_continues_live(transports: Factory) -> None:
    publisher, worker = transports(), transports()
    publish(publisher, *names("h", 5))
    subscriber = Subscriber(["*"], last_event_id="h1")
    assert worker.add_subscriber(subscriber) == "h1"
    publish(publisher, "live")
    assert received_ids(subscriber, 4) == ["h2", "h3", "h4", "live"]


@pytest.mark.parametrize(
    ("requested", "answer", "expected"),
    [
        ("earliest", EARLIEST, ["h0", "h1", "h2", "live"]),
        ("never-published", EARLIEST, ["live"]),
        ("h2", "h2", ["live"]),
    ],
)
def test_last_event_id_answers(
    transports: Factory, requested: str, answer: str, expected: list[str]
) -> None:
    worker = transports()
    publish(worker, *names("h", 3))
    subscriber = Subscriber(["*"], last_event_id=requested)
    assert worker.add_subscriber(subscriber) == answer
    publish(worker, "live")
    assert received_ids(subscriber, len(expected)) == expected


def test_replay_during_publishing_has_no_gap_and_no_duplicate(transports: Factory) -> None:
    publisher, worker = transports(), transports()
    expected = names("u", 300)
    published: list[str] = []
    joined: list[tuple[int, Subscriber]] = []

    def publish_all() -> None:
        for update_id in expected:
            # Keep joins interleaved with publishing: at most 50 updates between two joins.
            while len(joined) < len(published) // 50:
                gevent.sleep(0.001)
            publish(publisher, update_id)
            published.append(update_id)
            gevent.sleep(0)

    writer = gevent.spawn(publish_all)
    while not writer.dead:
        if published:
            # Resume after the newest update published so far, as a reconnecting client.
            index = len(published) - 1
            subscriber = Subscriber(["*"], last_event_id=published[index])
            assert worker.add_subscriber(subscriber) == published[index]
            joined.append((index, subscriber))
        gevent.sleep(0.005)
    writer.get()
    assert len(joined) >= (len(expected) - 1) // 50
    for index, subscriber in joined:
        assert received_ids(subscriber, len(expected) - index - 1) == expected[index + 1 :]


def test_history_is_bounded_by_maxlen(transports: Factory) -> None:
    worker = transports(maxlen=10)
    publish(worker, *names("m", 30))
    forgotten = Subscriber(["*"], last_event_id="m5")
    assert worker.add_subscriber(forgotten) == EARLIEST
    kept = Subscriber(["*"], last_event_id="m25")
    assert worker.add_subscriber(kept) == "m25"
    assert received_ids(kept, 4) == names("m", 4, start=26)


def test_history_survives_a_restart_of_the_app(transports: Factory) -> None:
    before = transports()
    publish(before, *names("r", 4))
    before.close()
    after = transports()
    subscriber = Subscriber(["*"], last_event_id="r0")
    assert after.add_subscriber(subscriber) == "r0"
    assert received_ids(subscriber, 3) == ["r1", "r2", "r3"]


def test_subscribers_of_every_worker_are_listed(transports: Factory) -> None:
    first, second = transports(), transports()
    assert first.subscribers() == (EARLIEST, [])
    one = Subscriber(["https://example.com/a"], payload={"user": 1})
    two = Subscriber(["https://example.com/b/{id}"])
    first.add_subscriber(one)
    second.add_subscriber(two)
    publish(first, "last")
    for worker in (first, second):
        last_event_id, infos = worker.subscribers()
        assert last_event_id == "last"
        assert sorted(infos, key=lambda info: info.id) == sorted(
            [one.info, two.info], key=lambda info: info.id
        )
    second.remove_subscriber(two)
    assert first.subscribers()[1] == [one.info]


def test_a_closed_worker_drops_out_of_the_listing(transports: Factory) -> None:
    first, second = transports(), transports()
    subscriber = Subscriber(["*"])
    second.add_subscriber(subscriber)
    assert first.subscribers()[1] == [subscriber.info]
    second.close()
    assert subscriber.closed
    assert first.subscribers()[1] == []
    with pytest.raises(TransportClosedError):
        second.dispatch(Update(("t",)))


def test_killed_reader_connection_loses_and_repeats_nothing(
    transports: Factory, redis_url: str, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    publisher, worker = transports(), transports()
    subscriber = Subscriber(["*"])
    worker.add_subscriber(subscriber)
    admin = Redis.from_url(redis_url)
    expected = names("k", 200)
    try:
        for batch in range(4):
            publish(publisher, *expected[batch * 50 : (batch + 1) * 50])
            # Kill both workers' subscriptions while updates are pushed, mid-stream.
            killed = 0
            with gevent.Timeout(10, False):
                while killed < 2:
                    for client in admin.client_list():
                        subscribed = "P" in client["flags"]
                        if client["name"] == f"mercure-reader:{stream}" and subscribed:
                            admin.client_kill_filter(_id=client["id"])
                            killed += 1
                    gevent.sleep(0.01)
            assert killed >= 2
    finally:
        admin.close()
    assert received_ids(subscriber, 200) == expected
    assert "reconnecting" in caplog.text


def test_publishing_without_redis_raises_a_clear_error(stream: str) -> None:
    transport = from_url(f"redis://127.0.0.1:1/0?stream={stream}")
    try:
        with pytest.raises(TransportError, match="MERCURE_TRANSPORT_URL"):
            transport.dispatch(Update(("t",)))
        with pytest.raises(TransportError, match="unavailable"):
            transport.add_subscriber(Subscriber(["*"], last_event_id="x"))
    finally:
        transport.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://h:6379/2", RedisOptions("redis://h:6379/2")),
        (
            "redis://h/0?stream=s&maxlen=10&subscribers_ttl=9",
            RedisOptions("redis://h/0", stream="s", maxlen=10, subscribers_ttl=9),
        ),
        (
            "rediss://h/0?ssl_cert_reqs=none&stream=s",
            RedisOptions("rediss://h/0?ssl_cert_reqs=none", stream="s"),
        ),
    ],
)
def test_url_options(url: str, expected: RedisOptions) -> None:
    assert RedisOptions.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://h/0?maxlen=0", "maxlen='0' in transport URL redis://h/0"),
        ("redis://h/0?maxlen=lots", "must be a positive integer"),
        ("redis://h/0?stream=", "name the Redis stream"),
        ("redis://:secret@h/0?maxlen=x", r"redis://:\*\*\*@h/0"),
    ],
)
def test_bad_url_options_are_explained(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisOptions.from_url(url)


def test_redact_hides_passwords() -> None:
    assert redact("redis://user:pw@h:1/0") == "redis://user:***@h:1/0"
    assert redact("redis://h:1/0") == "redis://h:1/0"


def test_a_lost_subscriber_list_is_rewritten_by_the_next_refresh(
    transports: Factory, redis_url: str, stream: str
) -> None:
    first, second = transports(), transports(subscribers_ttl=3)
    subscriber = Subscriber(["*"])
    second.add_subscriber(subscriber)
    admin = Redis.from_url(redis_url)
    try:
        # As after a Redis restart without persistence: the worker's hash is gone.
        # (The worker's refresh may run as soon as this greenlet yields, so the deletion is
        # checked by its count, not by listing the subscribers in between.)
        assert admin.delete(*admin.scan_iter(match=f"{stream}:subscribers:*")) >= 1
        with gevent.Timeout(10, False):
            while first.subscribers()[1] != [subscriber.info]:
                gevent.sleep(0.1)
        assert first.subscribers()[1] == [subscriber.info]
        assert 0 < admin.ttl(next(admin.scan_iter(match=f"{stream}:subscribers:*"))) <= 3
    finally:
        admin.close()


def test_many_concurrent_subscribers_share_a_small_connection_pool(transports: Factory) -> None:
    worker = transports(max_connections=2)
    subscribers = [Subscriber(["*"], last_event_id=EARLIEST) for _ in range(100)]
    joining = [gevent.spawn(worker.add_subscriber, subscriber) for subscriber in subscribers]
    publish(worker, "during")
    gevent.joinall(joining, raise_error=True)
    publish(worker, "after")
    assert len(worker.subscribers()[1]) == 100
    for subscriber in subscribers:
        assert received_ids(subscriber, 2) == ["during", "after"]
