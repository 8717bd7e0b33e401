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

Appending is one Lua script, atomic on the server: an update whose key is already indexed
(the outbox relay retrying after a lost reply) is not appended again. Stream entry ids (``ms-seq``)
are assigned by Redis and strictly increase, which gives every reader the same total order.
Every method raises :class:`redis.exceptions.RedisError` subclasses on failure; callers map
them. Nothing here retries: a retried ``XADD`` could duplicate an update.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis

from app.hub.transport.codec import UpdateDecodeError, decode_update, encode_update
from app.hub.update import Update

log = logging.getLogger(__name__)

ORIGIN = "0-0"
"""Position before every entry."""

_APPEND = """
local key = ARGV[4]
if key ~= '' then
    local known = redis.call('HGET', KEYS[4], key)
    if known then return known end
end
local position = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
                            'id', ARGV[2], 'u', ARGV[3])
redis.call('HSETNX', KEYS[2], ARGV[2], position)
if key ~= '' then redis.call('HSET', KEYS[4], key, position) end
redis.call('HSET', KEYS[5], position, ARGV[2] .. '\\n' .. key)
local excess = redis.call('RPUSH', KEYS[3], position) - tonumber(ARGV[1])
if excess > 0 then
    for _, old in ipairs(redis.call('LPOP', KEYS[3], excess)) do
        local meta = redis.call('HGET', KEYS[5], old)
        if meta then
            local cut = string.find(meta, '\\n', 1, true)
            local id, oldkey = string.sub(meta, 1, cut - 1), string.sub(meta, cut + 1)
            if redis.call('HGET', KEYS[2], id) == old then redis.call('HDEL', KEYS[2], id) end
            if oldkey ~= '' and redis.call('HGET', KEYS[4], oldkey) == old then
                redis.call('HDEL', KEYS[4], oldkey)
            end
            redis.call('HDEL', KEYS[5], old)
        else
            redis.call('HDEL', KEYS[2], old)  -- written by an earlier version: an update id
        end
    end
end
return position
"""


def position_key(position: str) -> tuple[int, int]:
    """Sort key of a stream entry id ``ms-seq``."""
    milliseconds, _, sequence = position.partition("-")
    return int(milliseconds), int(sequence or 0)


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One update read from the stream at ``position``."""

    position: str
    update: Update


class RedisStream:
    """Append to and read from the update stream named ``name``.

    ``client`` must not retry commands on its own (``retry=Retry(NoBackoff(), 0)``); the
    blocking :meth:`read` should get a client of its own whose socket timeout exceeds the
    block time.
    """

    def __init__(self, client: Redis, name: str, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, got {maxlen}")
        self.name = name
        self.maxlen = maxlen
        self._client = client
        self._keys = [name, f"{name}:ids", f"{name}:order", f"{name}:keys", f"{name}:meta"]
        self._append = client.register_script(_APPEND)

    def append(self, update: Update) -> str:
        """Append ``update`` (once per key) and return its stream position."""
        position = self._append(
            keys=self._keys,
            args=[self.maxlen, update.id, encode_update(update), update.key or ""],
        )
        return _text(position)

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

    def read(self, after: str, block_ms: int, count: int) -> tuple[str, list[StreamEntry]]:
        """Entries after ``after`` (at most ``count``), waiting up to ``block_ms`` for one.

        Returns the position of the last entry read (``after`` when none) and the entries;
        an entry that cannot be decoded is logged and skipped, never read again.
        """
        reply = cast(
            "list[Any] | None",
            self._client.xread({self.name: after}, count=count, block=block_ms),
        )
        entries: list[StreamEntry] = []
        if not reply:
            return after, entries
        for raw_position, fields in reply[0][1]:
            after = _text(raw_position)
            entry = _entry(after, fields)
            if entry is not None:
                entries.append(entry)
        return after, entries


def _entry(position: str, fields: dict[bytes, bytes]) -> StreamEntry | None:
    try:
        return StreamEntry(position, decode_update(fields[b"u"]))
    except (KeyError, UpdateDecodeError) as error:
        log.error("skipping unreadable entry %s of the update stream: %s", position, error)
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
