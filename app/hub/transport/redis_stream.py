"""The Redis side of the Redis transport: one stream of updates plus an id index.

Keys, all derived from the stream name ``S`` (Redis 6.2 or later):

- ``S``: the stream. Each update is one entry with fields ``id`` (the Mercure update id)
  and ``u`` (the encoded update, see :mod:`app.hub.transport.codec`). Entries are appended
  with ``XADD S MAXLEN ~ <maxlen>``, so Redis keeps at least ``maxlen`` of the newest.
- ``S:ids``: hash from Mercure update id to the stream entry id of its first occurrence
  (ids may repeat); ``S:keys``: hash from idempotency key to stream entry id;
  ``S:order``: the entry ids in append order, and ``S:meta``: hash from entry id to the
  update id and the key, joined by a newline. They cover exactly the newest ``maxlen``
  entries, so every indexed id is still in the stream (approximate trimming never drops
  below ``maxlen``). An older
  id is unknown: this is the bound on how far back ``Last-Event-ID`` reaches (an id whose
  first occurrence was trimmed is unknown too, even if it repeats later).
- ``S:feed``: not a key but a Pub/Sub channel. Every append also publishes there, in the
  same atomic step, ``<previous> <position> <encoded update>``: the position of the entry
  that was last before it (:data:`ORIGIN` for none), its own and the update (see
  :mod:`app.hub.transport.redis_feed`).
- ``S:epoch``: a random token naming this incarnation of the stream. It is written by the
  first append after the keys were lost (a Redis restarted without persistence, a flushed
  database, a deleted stream) and never changes otherwise. An appender that remembers the
  epoch, key and position of its previous append (:class:`StreamMark`) learns at its next
  one whether that append may have vanished: the epoch changed, or (a Redis that came back
  from an append-only file without its last writes) the key is no longer indexed while
  older entries remain.

Appending is one Lua script, atomic on the server: an update whose key is already indexed
(the outbox relay retrying after a lost reply) is not appended again. Stream entry ids (``ms-seq``)
are assigned by Redis and strictly increase, which gives every reader the same total order.
Every method raises :class:`redis.exceptions.RedisError` subclasses on failure; callers map
them. Nothing here retries: a retried ``XADD`` could duplicate an update.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis
from redis.exceptions import RedisError

from app.hub.transport.codec import UpdateDecodeError, decode_update, encode_update
from app.hub.update import Update

log = logging.getLogger(__name__)

ORIGIN = "0-0"
"""Position before every entry."""

_LOST = """
local function before(a, b)
    local am, as = string.match(a, '^(%d+)-(%d+)$')
    local bm, bs = string.match(b, '^(%d+)-(%d+)$')
    am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
    return am < bm or (am == bm and as < bs)
end
local epoch = redis.call('GET', KEYS[6])
if not epoch then
    epoch = ARGV[1]
    redis.call('SET', KEYS[6], epoch)
end
local lost = false
if ARGV[2] ~= '' then
    if ARGV[2] ~= epoch then
        lost = true
    elseif ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[4], ARGV[3]) == 0 then
        local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
        lost = #oldest == 0 or before(oldest[1][1], ARGV[4])
    end
end
"""
"""Lua shared by both scripts: ``lost`` tells whether the caller's last append (epoch
ARGV[2], key ARGV[3], position ARGV[4]) may be gone; ``epoch`` is the stream's epoch,
written (ARGV[1]) if it had none. The last append is gone when the epoch changed, or when
its key is no longer indexed although older entries are still in the stream (trimming
removes the oldest first): a Redis that came back from an append-only file without its
last writes."""

_CHECK = (
    _LOST
    + """
if lost then return {'reset', epoch} end
return {'ok', epoch}
"""
)

_APPEND = (
    _LOST
    + """
if lost then return {'reset', epoch} end
local maxlen, id, encoded, key = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
if key ~= '' then
    local known = redis.call('HGET', KEYS[4], key)
    if known then return {'ok', known, epoch} end
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local previous = '0-0'
if #last > 0 then previous = last[1][1] end
local position = redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'id', id, 'u', encoded)
redis.call('PUBLISH', ARGV[9], previous .. ' ' .. position .. ' ' .. encoded)
redis.call('HSETNX', KEYS[2], id, position)
if key ~= '' then redis.call('HSET', KEYS[4], key, position) end
redis.call('HSET', KEYS[5], position, id .. '\\n' .. key)
local excess = redis.call('RPUSH', KEYS[3], position) - tonumber(maxlen)
if excess > 0 then
    for _, old in ipairs(redis.call('LPOP', KEYS[3], excess)) do
        local meta = redis.call('HGET', KEYS[5], old)
        if meta then
            local cut = string.find(meta, '\\n', 1, true)
            local oldid, oldkey = string.sub(meta, 1, cut - 1), string.sub(meta, cut + 1)
            if redis.call('HGET', KEYS[2], oldid) == old then redis.call('HDEL', KEYS[2], oldid) end
            if oldkey ~= '' and redis.call('HGET', KEYS[4], oldkey) == old then
                redis.call('HDEL', KEYS[4], oldkey)
            end
            redis.call('HDEL', KEYS[5], old)
        else
            redis.call('HDEL', KEYS[2], old)  -- written by an earlier version: an update id
        end
    end
end
return {'ok', position, epoch}
"""
)


@dataclass(frozen=True, slots=True)
class StreamMark:
    """What an appender knows of its last append: the stream's epoch then, the update's
    key and its position."""

    epoch: str
    key: str
    position: str


def position_key(position: str) -> tuple[int, int]:
    """Sort key of a stream entry id ``ms-seq``."""
    milliseconds, _, sequence = position.partition("-")
    return int(milliseconds), int(sequence or 0)


class StreamResetError(RedisError):
    """The stream's epoch is not the one the appender expected: entries appended before
    may be gone. Nothing was appended; ``epoch`` is the stream's current epoch. A
    :class:`RedisError`, so that a reset met again while recovering from one fails like
    any other Redis failure (the caller retries later)."""

    def __init__(self, epoch: str) -> None:
        super().__init__(f"the update stream was reset (now epoch {epoch})")
        self.epoch = epoch


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One update read from the stream at ``position``."""

    position: str
    update: Update


class RedisStream:
    """Append to and read from the update stream named ``name``.

    ``client`` must not retry commands on its own (``retry=Retry(NoBackoff(), 0)``).
    """

    def __init__(self, client: Redis, name: str, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, got {maxlen}")
        self.name = name
        self.maxlen = maxlen
        self.channel = f"{name}:feed"
        """The Pub/Sub channel every append publishes on."""
        self._client = client
        self._keys = [
            name,
            f"{name}:ids",
            f"{name}:order",
            f"{name}:keys",
            f"{name}:meta",
            f"{name}:epoch",
        ]
        self._append = client.register_script(_APPEND)
        self._check = client.register_script(_CHECK)

    def append(self, update: Update, last: StreamMark | None = None) -> StreamMark:
        """Append ``update`` (once per key) and return the mark of this append.

        ``last`` is the mark of the caller's previous append (None for a first one): when
        that append may be gone (see :meth:`lost_since`), nothing is appended and
        :class:`StreamResetError` is raised, so that the caller can append again what it
        appended before, ahead of ``update``. A mark without key and position checks the
        epoch only.
        """
        reply = cast(
            "list[bytes]",
            self._append(
                keys=self._keys,
                args=[
                    *self._mark_args(last),
                    self.maxlen,
                    update.id,
                    encode_update(update),
                    update.key or "",
                    self.channel,
                ],
            ),
        )
        if _text(reply[0]) == "reset":
            raise StreamResetError(_text(reply[1]))
        return StreamMark(_text(reply[2]), update.key or "", _text(reply[1]))

    def lost_since(self, last: StreamMark) -> str | None:
        """The stream's epoch if the append marked ``last`` may be gone, else None."""
        reply = cast("list[bytes]", self._check(keys=self._keys, args=self._mark_args(last)))
        return _text(reply[1]) if _text(reply[0]) == "reset" else None

    @staticmethod
    def _mark_args(last: StreamMark | None) -> list[str]:
        if last is None:
            return [uuid.uuid4().hex, "", "", ""]
        return [uuid.uuid4().hex, last.epoch, last.key, last.position]

    def position_of(self, update_id: str) -> str | None:
        """Stream position of the update with ``update_id``, or None when not indexed."""
        position = cast("bytes | None", self._client.hget(self._keys[1], update_id))
        return None if position is None else _text(position)

    def tail(self) -> str:
        """Position of the newest entry, or :data:`ORIGIN` for an empty stream."""
        newest = cast("list[Any]", self._client.xrevrange(self.name, count=1))
        return _text(newest[0][0]) if newest else ORIGIN

    def newest_update_id(self) -> str | None:
        """Mercure id of the newest update, or None for an empty stream."""
        newest = cast("list[Any]", self._client.xrevrange(self.name, count=1))
        return _text(newest[0][1][b"id"]) if newest else None

    def between(self, after: str, upto: str, page: int = 1000) -> Iterator[StreamEntry]:
        """Entries after position ``after`` up to and including ``upto``, oldest first,
        fetched ``page`` at a time."""
        start = f"({after}" if after != ORIGIN else "-"
        while position_key(after) < position_key(upto):
            rows = cast("list[Any]", self._client.xrange(self.name, start, upto, count=page))
            for raw_position, fields in rows:
                after = _text(raw_position)
                entry = _entry(after, fields)
                if entry is not None:
                    yield entry
            if len(rows) < page:
                return
            start = f"({after}"


def _entry(position: str, fields: dict[bytes, bytes]) -> StreamEntry | None:
    try:
        return StreamEntry(position, decode_update(fields[b"u"]))
    except (KeyError, UpdateDecodeError) as error:
        log.error("skipping unreadable entry %s of the update stream: %s", position, error)
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
