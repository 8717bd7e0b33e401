"""Updates as text, for transports that store or ship them out of process.

:func:`encode_update` and :func:`decode_update` are exact inverses for every
:class:`~app.hub.update.Update` (topics, data, privacy, id, type, retry, key), so an update read
back from Redis or SQLite is equal to the one published and keeps the id clients see.
The format is compact JSON with one-letter keys; it is internal to the gateway and
versioned by the ``v`` key so stored history can outlive a format change.
"""

from __future__ import annotations

import json
from typing import Any

from app.hub.update import Update

FORMAT_VERSION = 1


class UpdateDecodeError(ValueError):
    """A stored update cannot be read back (corrupt entry or unknown format version)."""


def encode_update(update: Update) -> str:
    """Return the text form of ``update``."""
    document: dict[str, Any] = {"v": FORMAT_VERSION, "i": update.id, "t": list(update.topics)}
    if update.data:
        document["d"] = update.data
    if update.private:
        document["p"] = 1
    if update.type is not None:
        document["y"] = update.type
    if update.retry is not None:
        document["r"] = update.retry
    if update.key is not None:
        document["k"] = update.key
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def decode_update(text: str | bytes) -> Update:
    """Return the update encoded in ``text``; raise :class:`UpdateDecodeError` if unreadable."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("v") != FORMAT_VERSION:
            raise UpdateDecodeError(f"unknown stored update format: {str(text)[:80]!r}")
        return Update(
            topics=tuple(document["t"]),
            data=document.get("d", ""),
            private=bool(document.get("p", 0)),
            id=document["i"],
            type=document.get("y"),
            retry=document.get("r"),
            key=document.get("k"),
        )
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, UpdateDecodeError):
            raise
        raise UpdateDecodeError(f"corrupt stored update {str(text)[:80]!r}: {error}") from error
