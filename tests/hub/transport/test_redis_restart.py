"""The Redis transport survives a restart of the Redis server itself.

A private, non-persistent redis-server is started on a free port for the test, stopped
while subscribers stay connected, and started again on the same port: empty.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from flask import Flask
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.hub import init_app
from app.hub.settings import HubSettings
from app.hub.subscriber import Subscriber
from app.hub.transport import TransportError
from app.hub.transport.redis import RedisTransport, from_url
from tests.deploy.gateway import JWT_KEY, PUBLISHER, Listener
from tests.deploy.gateway import publish as publish_over_http
from tests.deploy.servers import redis_server, running
from tests.hub.transport.frames import drained_ids, names, received_ids
from tests.hub.transport.proxy import FreezableProxy
from tests.hub.transport.test_redis import publish
from tests.services import LiveServer

pytestmark = pytest.mark.redis


def test_redis_restart_mid_stream_loses_and_repeats_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running(redis_server(tmp_path)) as server:
        url = f"redis://127.0.0.1:{server.port}/0?stream=restart"
        publisher, worker = from_url(url), from_url(url)
        try:
            subscribers = [Subscriber(["*"]), Subscriber(["*"])]
            publisher.add_subscriber(subscribers[0])
            worker.add_subscriber(subscribers[1])
            before, after = names("before", 20), names("after", 20)
            publish(publisher, *before)
            assert received_ids(subscribers[1], 20) == before

            server.stop()
            with pytest.raises(TransportError, match="cannot publish the update"):
                publish(publisher, "while-down")
            server.start()

            publish(publisher, *after)
            for subscriber in subscribers:
                received = received_ids(subscriber, 40 if subscriber is subscribers[0] else 20)
                assert received == (before + after if subscriber is subscribers[0] else after)
                assert not subscriber.closed
        finally:
            publisher.close()
            worker.close()
    assert "reconnecting" in caplog.text
    assert "is back; resuming after" in caplog.text


def forget_last_writes(port: int, stream: str, ids: list[str]) -> None:
    """What a Redis restarted from an append-only file synced every second may do: come
    back without its last writes (here the entries of ``ids`` and their index), its other
    entries and the stream's epoch intact; every client connection is cut."""
    client = Redis(port=port)
    try:
        for position, fields in client.xrange(stream):
            if fields[b"id"].decode() in ids:
                update_id, _, key = client.hget(f"{stream}:meta", position).decode().partition("\n")
                client.xdel(stream, position)
                client.hdel(f"{stream}:meta", position)
                client.hdel(f"{stream}:ids", update_id)
                client.hdel(f"{stream}:keys", key)
                client.lrem(f"{stream}:order", 0, position)
        client.client_kill_filter(_type="normal", skipme=True)
    finally:
        client.close()


@pytest.mark.parametrize("publishes_after_restart", [True, False])
@pytest.mark.parametrize("loss", ["restarted empty", "lost its last writes"])
def test_updates_no_reader_had_read_when_redis_lost_them_reach_everyone_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, publishes_after_restart: bool, loss: str
) -> None:
    """The readers lag (a frozen proxy holds the replies of both workers' readers) when
    Redis loses its last entries: it restarts empty (no persistence), or comes back without
    its last writes (an append-only file synced every second). The publisher appends again
    what it appended just before and its own reader had not delivered (at its next
    publish, or as soon as its reader is back when it publishes nothing more), not what its
    reader had delivered; both workers' subscribers receive every update once, in order."""
    with running(redis_server(tmp_path)) as server, FreezableProxy(server.port).running() as proxy:
        no_retry = Retry(NoBackoff(), 0)
        publisher = RedisTransport(
            Redis(port=server.port, retry=no_retry),
            Redis(port=proxy.port, retry=no_retry, socket_timeout=10),
            stream="lost",
        )
        worker = from_url(f"redis://127.0.0.1:{proxy.port}/0?stream=lost")
        try:
            own, other = Subscriber(["*"]), Subscriber(["*"])
            publisher.add_subscriber(own)
            worker.add_subscriber(other)
            read, unread, after = names("read", 5), names("unread", 5), names("after", 3)
            publish(publisher, *read)
            assert received_ids(other, 5) == read
            assert received_ids(own, 5) == read

            proxy.freeze()
            publish(publisher, *unread)
            if loss == "restarted empty":
                server.stop()
                proxy.cut()
                server.start()
            else:
                forget_last_writes(server.port, "lost", unread)
                proxy.cut()
            proxy.thaw()

            if publishes_after_restart:
                publish(publisher, *after)
                for subscriber in (own, other):
                    assert received_ids(subscriber, 8) == unread + after
            else:
                for subscriber in (own, other):
                    assert received_ids(subscriber, 5) == unread
                publish(publisher, *after)
                for subscriber in (own, other):
                    assert received_ids(subscriber, 3) == after
            # Stream order: a repeated update would have come before the last one.
            assert drained_ids(other) == drained_ids(own) == []
        finally:
            publisher.close()
            worker.close()
    assert "appending again the 5 updates" in caplog.text


def test_hub_over_http_refuses_publishing_while_redis_is_down_and_loses_nothing(
    tmp_path: Path, serve: Callable[..., LiveServer]
) -> None:
    with running(redis_server(tmp_path)) as server:
        settings = HubSettings(
            publisher_key=JWT_KEY,
            subscriber_key=JWT_KEY,
            heartbeat=0.0,
            transport_url=f"redis://127.0.0.1:{server.port}/0?stream=http",
        )
        application = Flask("redis_restart")
        hub = init_app(application, settings)
        try:
            live = serve(application)
            listener = Listener(live.url, ["https://example.com/books/{id}"])
            try:
                topic = "https://example.com/books/1"
                first = publish_over_http(live.url, topic, "before")
                server.stop()
                refused = httpx.post(
                    f"{live.url}/.well-known/mercure",
                    data={"topic": topic, "data": "while down"},
                    headers={"Authorization": f"Bearer {PUBLISHER}"},
                )
                assert refused.status_code in (500, 503)  # the hub's choice: unavailable
                # A subscriber resuming from an id, whose history cannot be read, is told to
                # come back, not refused (which would end an EventSource for good).
                later = httpx.get(
                    f"{live.url}/.well-known/mercure", params={"topic": topic, "lastEventID": first}
                )
                assert later.status_code == 200
                assert later.headers["content-type"].startswith("text/event-stream")
                assert later.text == ":\nretry: 2000\n\n"
                server.start()
                second = publish_over_http(live.url, topic, "after")
                assert listener.wait_for(2) == [first, second]
                assert not listener.closed_by_server
            finally:
                listener.close()
        finally:
            hub.close()
