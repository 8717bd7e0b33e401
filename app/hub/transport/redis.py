"""The Redis Streams transport: one gateway across workers, processes and machines.

``MERCURE_TRANSPORT_URL=redis://host:6379/0?stream=mercure&maxlen=100000`` (``rediss://``
for TLS; every other query parameter goes to redis-py). ``stream`` names the stream and
prefixes every key (default ``mercure``); ``maxlen`` is how many updates history keeps at
least (default 100000, ``XADD MAXLEN ~``); ``subscribers_ttl`` is how long, in seconds, a
worker's subscriber list outlives the worker (default 30); redis-py's ``max_connections``
sizes the blocking pool of short commands (default 50 per worker; the reader's
subscription has a connection of its own). Needs Redis 6.2 or later.

How it works (see :mod:`app.hub.transport.redis_stream` for the keys):

* :meth:`RedisTransport.dispatch` appends the update to the stream once and returns; it
  does not deliver. Redis being unreachable raises :class:`TransportError` (the hub
  answers 503) and nothing is retried, so nothing is appended twice.
* Each transport (one per worker) runs ONE reader greenlet. It subscribes to the
  channel every append publishes on (:mod:`app.hub.transport.redis_feed`), reads the
  stream from the last position it read up to its end with ``XRANGE``, then takes the
  entries as Redis pushes them, with no command per entry, for a non-blocking delivery
  to this worker's subscribers through :class:`~app.hub.transport.fanout.FanOut`. Each
  push names the entry before it: entries no push brought (a writer that does not
  publish) are read from the stream before it, and so is the stream's end after an idle
  wait. Every worker therefore delivers every update exactly once, in stream order,
  including its own.
* Connection loss (Redis restart, killed connection, network cut) is survived: the
  reader logs it, retries with exponential backoff (50 ms doubling to 5 s, jittered),
  subscribes again and reads the stream from the last position it read, so no entry is
  skipped or repeated. Local
  subscribers stay connected meanwhile and get the updates once Redis is back.
* A Redis that comes back empty (no persistence, a flushed database) has lost the entries
  appended just before it went away, some of them unread by some workers. Every update
  carries a key (one is made for updates published without one); each transport remembers
  what it appended in the last seconds and, when its last append is gone (see
  :class:`~app.hub.transport.redis_stream.StreamMark`; also after a Redis that came back
  from an append-only file without its last writes), appends again, before anything new,
  those its own reader had not read back; readers skip keys they delivered recently
  (:mod:`app.hub.transport.redis_recent`). So an update no reader had read when Redis
  lost it still reaches every worker once, in the order of its appender.
* ``Last-Event-ID`` replay: the requested id is looked up in the id index, the worker
  waits (up to 5 s) until its reader has read up to the stream's current end, registers
  the subscriber for live delivery at the reader's position P (the subscriber buffers
  live frames until the replay ends) and replays the entries after the requested id up
  to P with ``XRANGE``: every entry is either history (up to P) or live (after P), so
  there is no gap and no duplicate. Ids older than the newest ``maxlen`` are unknown: the
  answer is ``earliest`` and nothing is replayed.
* :meth:`RedisTransport.subscribers` lists every worker's subscribers from Redis
  (:mod:`app.hub.transport.redis_subscribers`).

Concurrency: gevent only (redis-py sockets are cooperative once monkey-patched). Build
the transport in the worker process, after the fork (no ``--preload``): it starts
greenlets and opens connections.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import gevent
from gevent.event import Event
from gevent.lock import Semaphore
from redis import BlockingConnectionPool, ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import NoPermissionError, RedisError
from redis.retry import Retry

from app.hub.sse import encode
from app.hub.subscriber import EARLIEST, Subscriber, SubscriberInfo
from app.hub.transport.base import Transport, TransportClosedError, TransportError
from app.hub.transport.fanout import FanOut
from app.hub.transport.redis_feed import Push, UpdateFeed
from app.hub.transport.redis_recent import DeliveredKeys, RecentAppends
from app.hub.transport.redis_stream import (
    ORIGIN,
    RedisStream,
    StreamMark,
    StreamResetError,
    position_key,
)
from app.hub.transport.redis_subscribers import DEFAULT_SUBSCRIBERS_TTL, RedisSubscriberRegistry
from app.hub.update import Update

__all__ = ["DEFAULT_MAXLEN", "DEFAULT_STREAM", "RedisOptions", "RedisTransport", "from_url"]

DEFAULT_STREAM = "mercure"
DEFAULT_MAXLEN = 100_000
READ_BLOCK_MS = 5_000
"""How long the reader waits for a push before it looks at the stream's end and pings."""
READ_COUNT = 100
"""Entries one read hands to the subscribers before the event loop runs their writes: well
under a subscriber's queue (``MERCURE_SUBSCRIBER_QUEUE_SIZE``), so a backlog arriving at
once (a hub catching up after an outage) is not mistaken for a slow subscriber."""
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 5.0
CATCH_UP_TIMEOUT = 5.0
COMMAND_TIMEOUT = 5.0
POOL_SIZE = 50
CONFIRM_TIMEOUT = 5.0
CONFIRM_RETRY = 0.25

_NOTHING_READ = ((0, 0), (0, 0))

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedisOptions:
    """A parsed ``redis://`` transport URL; ``redis_url`` is what redis-py receives."""

    redis_url: str
    stream: str = DEFAULT_STREAM
    maxlen: int = DEFAULT_MAXLEN
    subscribers_ttl: int = DEFAULT_SUBSCRIBERS_TTL

    @classmethod
    def from_url(cls, url: str) -> RedisOptions:
        parts = urlsplit(url)
        ours: dict[str, str] = {}
        theirs: list[tuple[str, str]] = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in _OUR_PARAMETERS:
                ours[key] = value
            else:
                theirs.append((key, value))
        shown = redact(url)
        stream = ours.get("stream", DEFAULT_STREAM)
        if not stream:
            raise ValueError(f"stream= in transport URL {shown} is empty; name the Redis stream")
        return cls(
            redis_url=urlunsplit(parts._replace(query=urlencode(theirs))),
            stream=stream,
            maxlen=_positive(ours, "maxlen", DEFAULT_MAXLEN, shown),
            subscribers_ttl=_positive(ours, "subscribers_ttl", DEFAULT_SUBSCRIBERS_TTL, shown),
        )


_OUR_PARAMETERS = frozenset({"stream", "maxlen", "subscribers_ttl"})


class RedisTransport(Transport):
    """Shares updates, history and the subscriber list through one Redis stream.

    ``client`` serves short commands (the reader's reads of the stream among them);
    ``reader_client`` holds the reader's subscription on a connection of its own. Neither
    may retry on its own. ``block_ms`` is how long the reader waits for a push before it
    looks at the stream's end and pings Redis.
    """

    shared = True

    def __init__(
        self,
        client: Redis,
        reader_client: Redis,
        *,
        stream: str = DEFAULT_STREAM,
        maxlen: int = DEFAULT_MAXLEN,
        subscribers_ttl: int = DEFAULT_SUBSCRIBERS_TTL,
        block_ms: int = READ_BLOCK_MS,
        description: str = "Redis",
    ) -> None:
        self.description = description
        self._client = client
        self._reader_client = reader_client
        self._stream = RedisStream(client, stream, maxlen)
        self._fanout = FanOut()
        self._registry = RedisSubscriberRegistry(client, stream, self._local_infos, subscribers_ttl)
        self._block_ms = block_ms
        self._feed = UpdateFeed(reader_client, self._stream.channel)
        self._position: str | None = None
        self._read_window = _NOTHING_READ
        """Positions (after, upto] last read from the stream rather than pushed."""
        self._mark: StreamMark | None = None
        self._appending = Semaphore()
        self._appended = RecentAppends()
        self._delivered = DeliveredKeys()
        self._waiters: list[tuple[tuple[int, int], Event]] = []
        self._closed = False
        self._stopping = Event()
        try:
            self._position = self._stream.tail()
            self._registry.refresh()
        except RedisError as error:
            log.warning("%s is unreachable at start-up (%s); will keep trying", description, error)
        self._greenlets = [
            gevent.spawn(self._read_forever),
            gevent.spawn(self._refresh_forever),
        ]

    @property
    def stream(self) -> RedisStream:
        return self._stream

    # -- Transport -----------------------------------------------------------------------

    def dispatch(self, update: Update) -> None:
        if self._closed:
            raise TransportClosedError()
        if update.key is None:
            update = dataclasses.replace(update, key=f"redis:{uuid.uuid4().hex}")
        try:
            with self._appending:
                try:
                    self._mark = self._stream.append(update, self._mark)
                except StreamResetError as reset:
                    self._append_again(reset.epoch)
                    self._mark = self._stream.append(update, self._mark)
                self._appended.add(update)
        except (RedisError, OSError, ValueError) as error:
            # OSError/ValueError: close() cut the connection under this command.
            if self._closed:
                raise TransportClosedError() from error
            if not isinstance(error, RedisError):
                raise
            raise self._unavailable("cannot publish the update", error) from error

    def add_subscriber(self, subscriber: Subscriber) -> str | None:
        if self._closed:
            raise TransportClosedError()
        requested = subscriber.request_last_event_id
        answer: str | None = None
        if requested is None:
            self._fanout.add(subscriber)
        else:
            try:
                answer = self._replay(subscriber, requested)
            except RedisError as error:
                self._fanout.remove(subscriber)
                raise self._unavailable("cannot read the update history", error) from error
            if self._closed:  # closed while the history was read
                self._fanout.remove(subscriber)
                subscriber.disconnect()
                raise TransportClosedError()
        self._registry.add(subscriber.info)
        return answer

    def remove_subscriber(self, subscriber: Subscriber) -> None:
        self._fanout.remove(subscriber)
        if not self._closed:
            self._registry.remove(subscriber.id)

    def subscribers(self) -> tuple[str, list[SubscriberInfo]]:
        if self._closed:
            raise TransportClosedError()
        try:
            last_event_id = self._stream.newest_update_id() or EARLIEST
            remote = self._registry.others()
        except RedisError as error:
            raise self._unavailable("cannot list subscribers", error) from error
        return last_event_id, [*self._local_infos(), *remote]

    def check(self) -> None:
        """One ``PING`` to the server (waiting at most the command timeout)."""
        if self._closed:
            raise TransportClosedError()
        try:
            self._client.ping()
        except RedisError as error:
            raise self._unavailable("cannot reach Redis", error) from None

    def close(self) -> None:
        if self._closed:
            return
        self._confirm_appends()
        self._closed = True
        self._stopping.set()
        self._registry.wake.set()
        self._stop_background()
        for subscriber in self._fanout:
            self._fanout.remove(subscriber)
            subscriber.disconnect()
        self._registry.clear()
        for waiter in self._waiters:
            waiter[1].set()
        self._client.close()
        self._reader_client.close()

    def _append_again(self, epoch: str) -> None:
        """Append again, in the stream of ``epoch``, what this transport appended in the
        last seconds before the stream lost its last entries and its own reader had not
        delivered yet (had it, the other workers' readers most likely had too, and their
        subscribers would get them twice on reconnecting); those the stream kept are
        skipped by their key, so this may be interrupted and retried. ``self._mark``
        moves only when all are in. Call with ``self._appending`` held."""
        updates = self._unread_appends()
        if updates:
            log.warning(
                "stream %r lost its last entries (Redis restarted without persistence or "
                "without its last writes, or its keys were deleted); appending again the "
                "%d updates this worker appended just before and had not read back",
                self._stream.name,
                len(updates),
            )
        mark = StreamMark(epoch, "", "")
        for update in updates:
            mark = self._stream.append(update, mark)
        self._mark = mark

    def _unread_appends(self) -> list[Update]:
        """What this transport appended in the last seconds and its reader has not
        delivered yet: what a Redis that loses its last entries would lose for good."""
        return [u for u in self._appended.updates() if u.key not in self._delivered]

    def _check_stream(self) -> None:
        """After the reader lost and found Redis again: if the stream lost this worker's
        last appends meanwhile, append them again, even if it publishes nothing more."""
        if self._mark is None or not self._unread_appends():
            return
        with self._appending:
            epoch = self._stream.lost_since(self._mark)
            if epoch is not None:
                self._append_again(epoch)

    def _confirm_appends(self) -> None:
        """Before closing: make sure the stream still holds what this transport appended
        last and its reader has not read back (appending it again after a reset), waiting
        up to :data:`CONFIRM_TIMEOUT` for a Redis that is away, since no one else
        remembers those updates."""
        deadline = time.monotonic() + CONFIRM_TIMEOUT
        while True:
            try:
                self._check_stream()
                return
            except RedisError as error:
                if time.monotonic() >= deadline:
                    log.warning(
                        "closing without confirming the last %d updates appended to stream "
                        "%r and not read back: %s is unavailable (%s); if it restarts "
                        "without them, no worker will deliver them",
                        len(self._unread_appends()),
                        self._stream.name,
                        self.description,
                        error,
                    )
                    return
                gevent.sleep(CONFIRM_RETRY)

    # -- history -------------------------------------------------------------------------

    def _replay(self, subscriber: Subscriber, requested: str) -> str:
        after = ORIGIN if requested == EARLIEST else self._stream.position_of(requested)
        self._catch_up(self._stream.tail())
        if self._position is None:
            raise RedisError("the stream reader has not reached Redis yet")
        if after is None:
            # Unknown id: nothing is replayed, only what is published from now on.
            self._fanout.add(subscriber)
            subscriber.history_dispatched(EARLIEST)
            return EARLIEST
        # Atomically (no greenlet switch): entries up to `upto` were delivered before the
        # subscriber joined, every later one reaches it live (buffered until the replay
        # ends). So the history is exactly (after, upto]: no gap, no duplicate.
        self._fanout.add(subscriber)
        upto = self._position
        for entry in self._stream.between(after, upto):
            if subscriber.matches(entry.update):
                subscriber.dispatch(entry.update, encode(entry.update), from_history=True)
        subscriber.history_dispatched(requested)
        return requested

    def _catch_up(self, position: str) -> None:
        """Wait until the reader has delivered ``position`` (the stream's end when a replay
        starts), so the replay never ends before an update the client already has."""
        target = position_key(position)
        if self._position is not None and position_key(self._position) >= target:
            return
        waiter = (target, Event())
        self._waiters.append(waiter)
        try:
            if not waiter[1].wait(CATCH_UP_TIMEOUT):
                log.warning(
                    "the stream reader did not reach %s within %s s; replaying anyway",
                    position,
                    CATCH_UP_TIMEOUT,
                )
        finally:
            self._waiters.remove(waiter)

    # -- background greenlets ------------------------------------------------------------

    def _read_forever(self) -> None:
        delay = BACKOFF_FIRST
        logged = ""  # the last failure logged while reconnecting: a new one is logged too
        while not self._closed:
            try:
                self._read_once()
            except Exception as error:  # the reader must outlive any failure
                if self._closed:
                    return  # close() cut the connection
                self._feed.close()
                if not isinstance(error, RedisError):
                    log.exception("unexpected error reading stream %r", self._stream.name)
                elif delay == BACKOFF_FIRST or str(error) != logged:
                    log.warning(
                        "lost %s while reading stream %r after %s (%s; %s); reconnecting",
                        self.description,
                        self._stream.name,
                        self._position,
                        error,
                        self._advice(error),
                    )
                logged = str(error)
                self._stopping.wait(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if delay != BACKOFF_FIRST:
                log.warning("%s is back; resuming after %s", self.description, self._position)
                self.on_reconnect()
                delay = BACKOFF_FIRST
                try:
                    self._check_stream()
                except RedisError as error:
                    log.warning("cannot check stream %r for a reset: %s", self._stream.name, error)
                except Exception:  # the reader must outlive any failure
                    log.exception("unexpected error checking stream %r", self._stream.name)

    def _read_once(self) -> None:
        feed = self._feed
        if not feed.subscribed:
            # Every entry appended once the subscription is confirmed is pushed; every
            # earlier one is in the stream, read now up to its end. A push may bring an
            # entry read here, but only one after `before`.
            before = self._stream.tail()
            if self._position is None:
                self._position = before
            feed.subscribe()
            self._read_to_tail(before)
        else:
            pushes = feed.receive(self._block_ms / 1000, READ_COUNT)
            if pushes:
                self._take(pushes)
            else:  # idle: entries of a writer that does not push, or a reset stream
                self._read_to_tail()
        if self._waiters:
            assert self._position is not None
            reached = position_key(self._position)
            for target, event in self._waiters:
                if target <= reached:
                    event.set()

    def _take(self, pushes: list[Push]) -> None:
        """Deliver ``pushes`` in order; one that does not follow our position goes through
        :meth:`_follows` first. One whose update cannot be decoded is left to the stream:
        the next push reveals it as a gap, and reading the stream logs and skips it."""
        deliver = self._deliver
        for push in pushes:
            update = push.update
            if update is None or (push.previous != self._position and not self._follows(push)):
                continue
            deliver(push.position, update)
        gevent.sleep(0)  # let the streams write what was queued before the next read

    def _follows(self, push: Push) -> bool:
        """Whether ``push``, which does not follow our position, is delivered next: after
        reading from the stream the entries no push brought, when it follows those; or
        after a reset, when the stream now ends before our position. A push that brings
        an entry read from the stream already is skipped, and so is one the stream does
        not bear out (a message on the channel that no append published): the stream is
        what the reader trusts, and the next push's ``previous`` reveals any entry
        skipped here."""
        assert self._position is not None
        low, high = self._read_window
        position, previous = position_key(push.position), position_key(push.previous)
        if low < position <= high:
            return False
        ours = position_key(self._position)
        if previous < position:
            if previous > ours:
                self._read_stream(push.previous)
                return True
            if position_key(self._stream.tail()) < ours:
                self._reset(push.previous)
                return True
        log.error(
            "ignoring a push on %s that no append published (%s after %s)",
            self._stream.channel,
            push.position,
            push.previous,
        )
        return False

    def _read_to_tail(self, pushed_after: str = ORIGIN) -> None:
        """Deliver what the stream holds after our position; or, when it now ends before
        our position (it was deleted, or Redis came back from an older snapshot),
        continue from its end. Pushes received later for the entries read here (those
        after ``pushed_after`` too, when the subscription began there) are skipped."""
        assert self._position is not None
        tail = self._stream.tail()
        if position_key(tail) < position_key(self._position):
            self._reset(tail)
        elif tail != self._position:
            low = max(position_key(self._position), position_key(pushed_after))
            self._read_window = (low, position_key(tail))
            self._read_stream(tail)

    def _read_stream(self, upto: str) -> None:
        """Deliver the stream's entries after our position up to ``upto``, fetched
        :data:`READ_COUNT` at a time (each fetch lets the streams write)."""
        assert self._position is not None
        for entry in self._stream.between(self._position, upto, page=READ_COUNT):
            self._deliver(entry.position, entry.update)
        self._position = upto

    def _deliver(self, position: str, update: Update) -> None:
        """Move to ``position`` and deliver its ``update`` unless delivered recently.
        Delivery never switches greenlets, so the position moves with the deliveries; it
        moves first, so an update that cannot be delivered is never read again."""
        self._position = position
        if self._delivered.first_time(update.key):
            self._fanout.deliver(update)

    def _reset(self, end: str) -> None:
        log.warning(
            "stream %r ends at %s, before %s which this worker already read; "
            "it was reset, continuing from its end",
            self._stream.name,
            end,
            self._position,
        )
        self._position = end
        self._read_window = _NOTHING_READ

    def _refresh_forever(self) -> None:
        registry = self._registry
        while not self._closed:
            try:
                registry.refresh()
            except RedisError as error:
                log.debug("cannot refresh the subscriber registry: %s", error)
                self._stopping.wait(BACKOFF_MAX)  # no busy loop while Redis is away
            registry.wake.wait(registry.refresh_interval)

    def _stop_background(self) -> None:
        """Let the greenlets end by themselves: a greenlet killed inside a redis-py call
        could leave a half-opened socket behind. Closing the reader's connections ends its
        wait for a push at once; killing is the last resort."""
        reader, refresher = self._greenlets
        for _attempt in range(10):
            if reader.dead:
                break
            self._reader_client.connection_pool.disconnect()
            reader.join(0.2)
        refresher.join(COMMAND_TIMEOUT + 1)
        gevent.killall(self._greenlets, block=True, timeout=1)

    # -- helpers -------------------------------------------------------------------------

    def _local_infos(self) -> list[SubscriberInfo]:
        return [subscriber.info for subscriber in self._fanout]

    def _unavailable(self, what: str, error: RedisError) -> TransportError:
        return TransportError(
            f"{what}: {self.description} is unavailable ({error}); {self._advice(error)}"
        )

    def _advice(self, error: RedisError) -> str:
        """How to fix ``error``: a Redis user without the ACL permissions the transport
        needs, or a Redis that cannot be reached."""
        text = str(error)
        if isinstance(error, NoPermissionError) or "can't publish" in text:
            name = self._stream.name
            return (
                f"give the Redis user the keys ~{name}* and the channel &{self._stream.channel}"
                f" (ACL SETUSER <user> ~{name}* &{self._stream.channel} +@all)"
            )
        return "check that Redis is running and that MERCURE_TRANSPORT_URL points at it"


def from_url(url: str) -> RedisTransport:
    """Build a transport from ``redis://host:port/db?stream=...&maxlen=...`` (see module)."""
    options = RedisOptions.from_url(url)
    no_retry = Retry(NoBackoff(), 0)
    # Many greenlets share a few connections: a command waits for a free one (up to
    # COMMAND_TIMEOUT) instead of failing. `max_connections` in the URL overrides the size.
    pool = BlockingConnectionPool.from_url(
        options.redis_url,
        max_connections=POOL_SIZE,
        timeout=COMMAND_TIMEOUT,
        retry=no_retry,
        socket_timeout=COMMAND_TIMEOUT,
        socket_connect_timeout=COMMAND_TIMEOUT,
    )
    reader_pool = ConnectionPool.from_url(
        options.redis_url,
        max_connections=1,
        retry=no_retry,
        socket_timeout=COMMAND_TIMEOUT,
        socket_connect_timeout=COMMAND_TIMEOUT,
        client_name=f"mercure-reader:{options.stream}",
    )
    return RedisTransport(
        Redis.from_pool(pool),
        Redis.from_pool(reader_pool),
        stream=options.stream,
        maxlen=options.maxlen,
        subscribers_ttl=options.subscribers_ttl,
        description=f"Redis at {redact(options.redis_url)} (stream {options.stream!r})",
    )


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:" if parts.username else ":"
    return urlunsplit(parts._replace(netloc=f"{user}***@{netloc}"))


def _positive(options: dict[str, str], name: str, default: int, shown: str) -> int:
    raw = options.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{name}={raw!r} in transport URL {shown} must be a positive integer, "
            f"e.g. {name}={default}"
        )
    return value
