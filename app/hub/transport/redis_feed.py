"""The update stream as Redis pushes it: a subscription to the channel every append
publishes on (see :mod:`app.hub.transport.redis_stream`).

A reader that waits for pushes sends no command per entry (a blocking ``XREAD`` per entry
costs a worker as much again as the entry itself), and every subscriber of the channel
gets the entries in stream order: the append script publishes in the same atomic step as
its ``XADD``. Each push names the entry that was last before it, so a reader that knows
where it stands sees at once whether it missed entries: appended by a writer that does not
publish, or published while it was not subscribed. Reading those from the stream is the
reader's part (:class:`~app.hub.transport.redis.RedisTransport`).

Redis drops pushes only with the connection (a subscriber whose output buffer outgrows
``client-output-buffer-limit pubsub`` is disconnected), and a connection cut without a
word (a network partition) is found by a ``PING`` sent after an idle wait: no answer by
the end of the next wait ends the subscription with :class:`ConnectionError`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Protocol, cast

from redis import Redis
from redis.connection import Connection
from redis.exceptions import ConnectionError

from app.hub.transport.codec import UpdateDecodeError, decode_update
from app.hub.update import Update

log = logging.getLogger(__name__)

_MESSAGE = re.compile(rb"((\d+)-(\d+)) ((\d+)-(\d+)) (.*)", re.DOTALL)
"""What the append script publishes: previous position, position, encoded update; a
message whose position is not after the previous one is not from an append."""


class _Connection(Protocol):
    """What the feed uses of a redis-py connection (typed here: redis-py's are not)."""

    def send_command(self, *args: str) -> None: ...
    def read_response(self, *, push_request: bool) -> object: ...
    def can_read(self, timeout: float) -> bool: ...
    def disconnect(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Push:
    """One pushed entry: its position, the position of the entry before it in the stream
    and its update (None when it cannot be decoded; that is logged)."""

    previous: str
    position: str
    update: Update | None


class UpdateFeed:
    """A subscription to ``channel`` on a connection of ``client``'s pool, held until
    :meth:`close` or a connection failure.

    Not safe for several greenlets: one reader owns it. Closing the pool's connections
    (``connection_pool.disconnect()``) ends a waiting :meth:`receive` at once.
    """

    def __init__(self, client: Redis, channel: str) -> None:
        self._pool = client.connection_pool
        self._channel = channel
        self._connection: _Connection | None = None
        self._pinged = False

    @property
    def subscribed(self) -> bool:
        return self._connection is not None

    def subscribe(self) -> None:
        """Subscribe and wait for Redis to confirm: every entry appended from then on is
        pushed. Raises :class:`redis.exceptions.RedisError` on failure."""
        self.close()
        connection = cast(_Connection, self._pool.get_connection())
        try:
            connection.send_command("SUBSCRIBE", self._channel)
            reply = connection.read_response(push_request=True)
            if not isinstance(reply, list) or _text(reply[0]).lower() != "subscribe":
                raise ConnectionError(f"unexpected answer to SUBSCRIBE: {reply!r}")
        except BaseException:
            self._discard(connection)
            raise
        self._connection = connection
        self._pinged = False

    def receive(self, timeout: float, count: int) -> list[Push]:
        """Up to ``count`` pushes, in stream order, waiting up to ``timeout`` seconds for
        the first; ``[]`` when none came. Raises :class:`ConnectionError` (and closes the
        subscription) when the connection is lost, or when it stayed silent for two waits
        in a row although pinged after the first."""
        connection = self._connection
        if connection is None:
            raise ConnectionError("the update feed is not subscribed")
        deadline = time.monotonic() + timeout
        pushes: list[Push] = []
        try:
            while not pushes:  # a reply that is not a push (a PONG) goes on waiting
                if not connection.can_read(max(0.0, deadline - time.monotonic())):
                    if self._pinged:
                        raise ConnectionError(
                            f"Redis did not answer a PING on the update feed within {timeout} s"
                        )
                    connection.send_command("PING")
                    self._pinged = True
                    return pushes
                self._take(connection.read_response(push_request=True), pushes)
                while len(pushes) < count and connection.can_read(0):
                    self._take(connection.read_response(push_request=True), pushes)
            return pushes
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """End the subscription (nothing to do when there is none)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._discard(connection)

    def _take(self, reply: object, pushes: list[Push]) -> None:
        """Add ``reply`` to ``pushes`` if it is a message; anything else (the answer to a
        ``PING``, a confirmation) only shows that the connection is alive."""
        self._pinged = False
        if not (isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message"):
            return
        match = _MESSAGE.fullmatch(reply[2])
        if match is None or _key(match, 4) <= _key(match, 1):
            log.error(
                "ignoring a message on %s that no append published: %.80r", self._channel, reply[2]
            )
            return
        previous, _, _, position, _, _, encoded = match.groups()
        update: Update | None
        try:
            update = decode_update(encoded)
        except UpdateDecodeError as error:
            log.error("skipping unreadable update %s pushed by Redis: %s", position, error)
            update = None
        pushes.append(Push(previous.decode(), position.decode(), update))

    def _discard(self, connection: _Connection) -> None:
        connection.disconnect()
        self._pool.release(cast(Connection, connection))


def _key(match: re.Match[bytes], group: int) -> tuple[int, int]:
    """Sort key of the position a :data:`_MESSAGE` match holds in groups ``group`` (the
    whole), ``group + 1`` (milliseconds) and ``group + 2`` (sequence)."""
    return int(match[group + 1]), int(match[group + 2])


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
