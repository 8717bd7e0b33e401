"""The Redis transport's reader takes entries as Redis pushes them, and falls back on the
stream whenever a push does not follow what it read: entries appended without a push,
a connection that went silent, a stream reset to older entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import gevent
import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.hub.subscriber import Subscriber
from app.hub.transport import TransportError
from app.hub.transport.codec import encode_update
from app.hub.transport.redis import RedisTransport, from_url
from app.hub.update import Update
from tests.deploy.servers import redis_server, running
from tests.hub.transport.frames import drained_ids, received_ids
from tests.hub.transport.proxy import FreezableProxy
from tests.hub.transport.test_redis import publish

pytestmark = pytest.mark.redis

BLOCK_MS = 200


def transport(url: str, reader_url: str, stream: str) -> RedisTransport:
    """A worker whose reader waits :data:`BLOCK_MS` for a push before it looks at the
    stream's end; its subscription goes to ``reader_url``, everything else to ``url``."""
    no_retry = Retry(NoBackoff(), 0)
    return RedisTransport(
        Redis.from_url(url, retry=no_retry),
        Redis.from_url(reader_url, retry=no_retry, socket_timeout=5),
        stream=stream,
        block_ms=BLOCK_MS,
    )


@pytest.fixture
def worker(redis_url: str, stream: str) -> Iterator[RedisTransport]:
    built = transport(redis_url, redis_url, stream)
    yield built
    built.close()


@pytest.fixture
def subscriber(worker: RedisTransport) -> Subscriber:
    """A subscriber to every topic of ``worker``."""
    subscribed = Subscriber(["*"])
    worker.add_subscriber(subscribed)
    return subscribed


def send_on_channel(url: str, channel: str, *messages: str) -> None:
    """Publish ``messages`` on ``channel`` as a client other than the append script."""
    client = Redis.from_url(url)
    try:
        for message in messages:
            client.publish(channel, message)
    finally:
        client.close()


def append_without_push(url: str, stream: str, update_id: str) -> None:
    """Append as a writer that does not publish on the channel would (without a key, so
    that no reader can tell it delivered the entry before)."""
    client = Redis.from_url(url)
    try:
        update = Update(("https://example.com/books/1",), data="old", id=update_id)
        client.xadd(stream, {"id": update_id, "u": encode_update(update)})
    finally:
        client.close()


def test_entries_appended_without_a_push_are_delivered_in_stream_order(
    worker: RedisTransport,
    subscriber: Subscriber,
    redis_url: str,
    stream: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    publish(worker, "a1")
    append_without_push(redis_url, stream, "old1")
    append_without_push(redis_url, stream, "old2")
    send_on_channel(redis_url, worker.stream.channel, "not an append")
    publish(worker, "a2")
    # The push of a2 names old2 as its predecessor: old1 and old2 are read from the stream.
    assert received_ids(subscriber, 4) == ["a1", "old1", "old2", "a2"]
    assert "no append published" in caplog.text
    # With no push after it, an entry is found at the stream's end after an idle wait.
    append_without_push(redis_url, stream, "old3")
    assert received_ids(subscriber, 1) == ["old3"]
    assert drained_ids(subscriber) == []


def test_a_silent_connection_is_found_by_a_ping_and_replaced(
    tmp_path: Path, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    with running(redis_server(tmp_path)) as server, FreezableProxy(server.port).running() as proxy:
        direct, frozen = (f"redis://127.0.0.1:{port}" for port in (server.port, proxy.port))
        publisher = transport(direct, direct, stream)
        worker = transport(direct, frozen, stream)
        try:
            subscriber = Subscriber(["*"])
            worker.add_subscriber(subscriber)
            publish(publisher, "before")
            assert received_ids(subscriber, 1) == ["before"]
            proxy.freeze()  # the connection stays open but nothing comes back
            with caplog.at_level("WARNING"):
                received_ids(subscriber, 1, timeout=3 * BLOCK_MS / 1000)
                publish(publisher, "while-silent")
                proxy.thaw()
                assert received_ids(subscriber, 1) == ["while-silent"]
            assert "did not answer a PING" in caplog.text
            assert drained_ids(subscriber) == []
        finally:
            publisher.close()
            worker.close()


def test_messages_on_the_channel_that_no_append_published_are_ignored(
    worker: RedisTransport,
    subscriber: Subscriber,
    redis_url: str,
    stream: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    publish(worker, "a1")
    append_without_push(redis_url, stream, "raw1")
    publish(worker, "a2")
    assert received_ids(subscriber, 3) == ["a1", "raw1", "a2"]
    tail = worker.stream.tail()
    fake = encode_update(Update(("https://example.com/books/1",), data="fake", id="fake"))
    send_on_channel(
        redis_url,
        worker.stream.channel,
        f"0-0 0-1 {fake}",  # as if the stream had been reset
        f"{tail} 99999999999999-0 not an update",  # far ahead
        f"{tail} 1-0 {fake}",  # before its own predecessor
    )
    append_without_push(redis_url, stream, "raw2")
    publish(worker, "a3")
    assert received_ids(subscriber, 2) == ["raw2", "a3"]
    assert drained_ids(subscriber) == []
    assert caplog.text.count("that no append published") == 2
    assert "skipping unreadable update" in caplog.text


def test_a_push_after_a_reset_to_older_entries_continues_from_it(
    worker: RedisTransport,
    subscriber: Subscriber,
    redis_url: str,
    stream: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stream replaced by one whose entries are older than what the reader read (Redis
    restored from an earlier snapshot, here without a restart): the reader continues
    from the first push of the new stream."""
    publish(worker, "a1")
    assert received_ids(subscriber, 1) == ["a1"]
    client = Redis.from_url(redis_url)
    try:
        client.delete(stream)
        update = Update(("https://example.com/books/1",), data="restored", id="r1", key="r1")
        encoded = encode_update(update)
        client.xadd(stream, {"id": "r1", "u": encoded}, id="1-1")
    finally:
        client.close()
    send_on_channel(redis_url, worker.stream.channel, f"0-0 1-1 {encoded}")
    assert received_ids(subscriber, 1) == ["r1"]
    assert "it was reset, continuing from its end" in caplog.text


def test_a_redis_user_without_the_channel_is_told_which_permission_it_lacks(
    redis_url: str, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Redis.from_url(redis_url)
    user = f"feed-test-{stream.rsplit(':', 1)[1]}"
    admin.acl_setuser(
        user,
        enabled=True,
        passwords=["+secret"],
        keys=[f"{stream}*"],
        commands=["+@all"],
        reset_channels=True,
    )
    parts = urlsplit(redis_url)
    as_user = parts._replace(netloc=f"{user}:secret@{parts.hostname}:{parts.port or 6379}")
    worker = from_url(f"{urlunsplit(as_user)}?stream={stream}")
    try:
        with pytest.raises(TransportError, match=rf"the channel &{stream}:feed"):
            publish(worker, "a1")
        with gevent.Timeout(5, False):
            while "the channel &" not in caplog.text:
                gevent.sleep(0.05)
        assert f"lost Redis at redis://{user}:***@" in caplog.text
        assert f"(ACL SETUSER <user> ~{stream}* &{stream}:feed +@all)" in caplog.text
    finally:
        worker.close()
        admin.acl_deluser(user)
        admin.close()
