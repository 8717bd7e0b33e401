"""The unit the hub moves: one Mercure update.

An :class:`Update` is immutable once built. ``topics[0]`` is the canonical topic, the rest
are alternates; every topic takes part in matching. ``id`` is assigned before dispatch
(by the publisher or the hub, ``urn:uuid:<uuid4>`` by default) and is the SSE ``id`` every
subscriber sees, whatever transport carried it; several updates may share it, as in the
reference hub. ``key``, when set, is an internal idempotency key: every transport stores and
delivers at most one update per key, so a publisher that retries (the gateway's outbox
relay) never makes a subscriber receive an update twice. Updates published over HTTP have
none. ``id`` and ``type`` are written verbatim
as SSE fields, so they may not contain CR, LF or NUL (construction raises
:class:`ValueError`)."""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass

SSE_FORBIDDEN = re.compile(r"[\r\n\x00]")
"""What may not stand in the SSE ``id`` and ``event`` fields: it would start a new field."""


def new_update_id() -> str:
    """Return a fresh globally unique update id, as the reference hub makes them."""
    return f"urn:uuid:{uuid.uuid4()}"


def new_key() -> str:
    """A fresh idempotency key: 128 random bits in hex (as ``uuid.uuid4().hex``)."""
    return os.urandom(16).hex()


@dataclass(frozen=True, slots=True)
class Update:
    """One update. ``data`` may be empty; ``private`` restricts delivery to authorized
    subscribers; ``type`` and ``retry`` map to the SSE ``event`` and ``retry`` fields."""

    topics: tuple[str, ...]
    data: str = ""
    private: bool = False
    id: str = ""
    type: str | None = None
    retry: int | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if not self.topics:
            raise ValueError("an update needs at least one topic")
        # CR, LF or NUL in the SSE id/event fields would let a publisher forge SSE fields.
        if self.id and SSE_FORBIDDEN.search(self.id):
            raise ValueError(f"update id {self.id!r} contains CR, LF or NUL")
        if self.type and SSE_FORBIDDEN.search(self.type):
            raise ValueError(f"update type {self.type!r} contains CR, LF or NUL")
        if not self.id:
            object.__setattr__(self, "id", new_update_id())
