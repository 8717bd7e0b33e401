"""Active subscribers of every worker, kept in Redis so any worker can list them all.

Each worker (one :class:`RedisSubscriberRegistry`) owns one hash,
``<stream>:subscribers:<worker token>``, from subscriber id to the JSON of its
:class:`~app.hub.subscriber.SubscriberInfo`. The hash expires ``ttl`` seconds after the last
:meth:`RedisSubscriberRegistry.refresh`, so a worker that dies without clean-up drops out
of listings within ``ttl`` seconds; a live worker refreshes every ``ttl / 3`` seconds.

Writes are best effort: while Redis is unreachable the local subscribers keep being
served, the registry is marked stale and the next successful refresh or write rewrites
the whole hash (which also repairs it after a Redis restart). :meth:`others` reads every
other worker's hash and raises :class:`redis.exceptions.RedisError` when Redis is
unreachable; this worker's own subscribers are listed by the transport from memory.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any, cast

from gevent.event import Event
from redis import Redis
from redis.exceptions import RedisError

from app.hub.subscriber import SubscriberInfo

__all__ = ["DEFAULT_SUBSCRIBERS_TTL", "RedisSubscriberRegistry"]

DEFAULT_SUBSCRIBERS_TTL = 30
"""Seconds a worker's subscriber hash outlives its last refresh."""

log = logging.getLogger(__name__)

Command = Callable[[Any], object]
"""Queues one command on a redis-py pipeline."""


class RedisSubscriberRegistry:
    """This worker's subscribers in Redis, plus a view of every worker's.

    While the hash is known to be current, :meth:`add` and :meth:`remove` write through.
    Otherwise (start-up, a failed write, a rewrite in flight) they are queued and
    :attr:`wake` is set: the next :meth:`refresh` rewrites the hash from the local
    subscribers, then applies what was queued meanwhile, in order. A burst of connections
    during a rewrite therefore costs one rewrite plus one pipeline, never a rewrite each.
    """

    def __init__(
        self,
        client: Redis,
        stream: str,
        local: Callable[[], Iterable[SubscriberInfo]],
        ttl: int = DEFAULT_SUBSCRIBERS_TTL,
    ) -> None:
        if ttl < 3:
            raise ValueError(f"the subscribers ttl must be at least 3 seconds, got {ttl}")
        self.ttl = ttl
        self.wake = Event()
        self._client = client
        self._prefix = f"{stream}:subscribers:"
        self.key = f"{self._prefix}{uuid.uuid4().hex}"
        self._local = local
        # None: the hash is current and writes go through; a list: queued writes.
        self._pending: list[Command] | None = []

    @property
    def refresh_interval(self) -> float:
        return self.ttl / 3

    def add(self, info: SubscriberInfo) -> None:
        """Record a subscriber of this worker (best effort)."""
        self._write(lambda pipe: pipe.hset(self.key, info.id, _dump(info)))

    def remove(self, subscriber_id: str) -> None:
        """Forget a subscriber of this worker (best effort)."""
        self._write(lambda pipe: pipe.hdel(self.key, subscriber_id))

    def refresh(self) -> None:
        """Extend this worker's hash; rewrite it when it may be stale or is gone.

        Raises :class:`~redis.exceptions.RedisError` when Redis is unreachable (the hash
        then stays stale until the next successful refresh).
        """
        self.wake.clear()
        if self._pending is None and self._client.expire(self.key, self.ttl):
            return
        # The snapshot below already holds every change queued so far.
        self._pending = []
        mapping: dict[Any, Any] = {info.id: _dump(info) for info in self._local()}
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(self.key)
        if mapping:
            pipe.hset(self.key, mapping=mapping)
            pipe.expire(self.key, self.ttl)
        pipe.execute()
        # Changes made while the rewrite was in flight, in order.
        while self._pending:
            queued, self._pending = self._pending, []
            pipe = self._client.pipeline(transaction=True)
            for command in queued:
                command(pipe)
            pipe.expire(self.key, self.ttl)
            pipe.execute()
        self._pending = None

    def others(self) -> list[SubscriberInfo]:
        """The subscribers of every other worker (unordered)."""
        own = self.key.encode()
        keys = [
            key
            for key in self._client.scan_iter(match=f"{self._prefix}*", count=1000)
            if key != own
        ]
        if not keys:
            return []
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.hvals(key)
        infos: list[SubscriberInfo] = []
        for values in cast("list[list[bytes]]", pipe.execute()):
            infos.extend(SubscriberInfo.from_dict(json.loads(value)) for value in values)
        return infos

    def clear(self) -> None:
        """Remove this worker's hash (best effort, on shutdown)."""
        try:
            self._client.delete(self.key)
        except RedisError as error:
            log.warning("could not remove %s from Redis: %s", self.key, error)

    def _write(self, command: Command) -> None:
        if self._pending is not None:
            self._pending.append(command)
            self.wake.set()
            return
        try:
            pipe = self._client.pipeline(transaction=True)
            command(pipe)
            pipe.expire(self.key, self.ttl)
            pipe.execute()
        except (RedisError, OSError, ValueError) as error:  # a connection cut by shutdown too
            self._pending = []
            self.wake.set()
            log.warning("subscriber registry %s is stale until Redis answers: %s", self.key, error)


def _dump(info: SubscriberInfo) -> str:
    return json.dumps(info.to_dict(), separators=(",", ":"))
