"""One connected subscriber: what it asked for, what it may see, and its outgoing frames.

A :class:`Subscriber` is created per SSE connection and handed to a transport. Transports
(and the shared :class:`~app.hub.transport.fanout.FanOut`) call :meth:`Subscriber.dispatch`
with an update and its pre-encoded frame; the connection's greenlet waits with
:meth:`Subscriber.wait` and takes every queued frame in one :meth:`Subscriber.drain`.

Contracts:

* Security: :meth:`matches` is true only when an update topic matches a requested selector
  and, for a private update, an update topic matches a selector of the token's
  ``mercure.subscribe`` claim. Anonymous subscribers (``allowed_private=None``) never match
  private updates. Subscription events (see :mod:`app.hub.subscriptions`) reach the
  subscribers of their own protocol only, as the subscriptions API of each protocol lists
  its own subscribers: a 0.x subscriber never receives a 1.0 one's, nor the reverse.
  :meth:`dispatch` itself does not check; callers check first.
* Matching costs time linear in the update's topics: both selector lists are compiled
  once, at construction, under the hub's template ``limits`` (see :mod:`app.hub.topics`).
* Never blocks: :meth:`dispatch` appends to a bounded queue and signals an event. When
  more than ``max_queue`` live frames, or more than ``max_queue_bytes`` bytes of them (one
  frame is always accepted by an empty queue), wait, the subscriber is marked
  ``overflowed`` and disconnected (its client reconnects with ``Last-Event-ID``);
  publishing continues. Queued frames are the transport's own bytes, shared by every
  subscriber (history replays included); :meth:`drain` hands them out at most
  :data:`DRAIN_CHUNK` bytes at a time, so what a connection copies to write is bounded
  too, whatever the size of an update.
* History without gap or duplicate: when a Last-Event-ID was requested, live updates
  dispatched before :meth:`history_dispatched` are buffered; history frames go first, then
  the buffered live frames whose ids were not already sent from history.
* Single-threaded: meant for gevent greenlets; no method switches greenlets except
  :meth:`wait`, so a delivery loop over many subscribers runs without interleaving.
* Small when idle (there may be tens of thousands): ``__slots__``, a plain list as the
  frame queue (empty between wake-ups), the replay structures only for a subscriber that
  sent a Last-Event-ID, and :attr:`id` generated on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gevent.event import Event

from app.hub.namespace import MERCURE_EVENT_TYPE, SUBSCRIPTIONS_PATH
from app.hub.topics import DEFAULT_LIMITS, Selection, TemplateLimits, is_template
from app.hub.update import Update, new_update_id

__all__ = [
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_MAX_QUEUE_BYTES",
    "DRAIN_CHUNK",
    "EARLIEST",
    "Matching",
    "Sink",
    "Subscriber",
    "SubscriberInfo",
]

_EVENT_TOPICS = SUBSCRIPTIONS_PATH + "/"
"""Only the hub publishes there (see :mod:`app.hub.namespace`)."""


class Matching(Protocol):
    """A compiled set of selectors or matchers (:class:`~app.hub.topics.Selection`, or
    :class:`~app.hub.matchers.MatcherSet` for 1.0)."""

    @property
    def exact_only(self) -> bool: ...

    def matches(self, topics: tuple[str, ...]) -> bool: ...


DEFAULT_MAX_QUEUE = 1000
DEFAULT_MAX_QUEUE_BYTES = 16 * 1024 * 1024
"""Bytes of frames one subscriber may have waiting (``MERCURE_SUBSCRIBER_QUEUE_BYTES``)."""
DRAIN_CHUNK = 64 * 1024
"""The most bytes :meth:`Subscriber.drain` hands out at once."""
EARLIEST = "earliest"
"""The reserved Last-Event-ID meaning "everything kept" (request) or "unknown" (response)."""


class Sink(Protocol):
    """What a subscriber tells of each live frame queued, instead of waking its connection."""

    def queued(self) -> None: ...


@dataclass(frozen=True)
class SubscriberInfo:
    """What the subscriptions API and subscription events expose about a subscriber.

    ``match_types`` is ``None`` for a 0.x subscriber (``topics`` are its ``topic``
    selectors, ``payload`` its token's ``mercure.payload``); for a 1.0 subscriber it holds
    the matcher type of each of ``topics`` (its matcher values), and ``payloads`` the
    payload of each subscription (``None`` where its token gives none).
    """

    id: str
    topics: tuple[str, ...]
    payload: Any = None
    match_types: tuple[str, ...] | None = None
    payloads: tuple[Any, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable form, for transports sharing subscribers across workers."""
        raw = {"id": self.id, "topics": list(self.topics), "payload": self.payload}
        if self.match_types is not None:
            raw["match_types"] = list(self.match_types)
            raw["payloads"] = list(self.payloads or ())
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SubscriberInfo:
        match_types = raw.get("match_types")
        payloads = raw.get("payloads")
        return cls(
            id=str(raw["id"]),
            topics=tuple(raw["topics"]),
            payload=raw.get("payload"),
            match_types=None if match_types is None else tuple(match_types),
            payloads=None if payloads is None else tuple(payloads),
        )


class Subscriber:
    """A subscriber connection's selectors, authorization and bounded frame queue."""

    __slots__ = (
        "_authorization",
        "_buffered",
        "_event",
        "_frames",
        "_history",
        "_history_ids",
        "_id",
        "_ready",
        "_replay",
        "_selection",
        "allowed_private",
        "closed",
        "exact_only",
        "group",
        "info_extra",
        "interrupt",
        "max_queue",
        "max_queue_bytes",
        "overflowed",
        "payload",
        "queued_bytes",
        "request_last_event_id",
        "response_last_event_id",
        "sink",
        "topics",
    )

    def __init__(
        self,
        topics: tuple[str, ...] | list[str],
        *,
        allowed_private: tuple[str, ...] | list[str] | None = None,
        payload: Any = None,
        last_event_id: str | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES,
        subscriber_id: str | None = None,
        limits: TemplateLimits = DEFAULT_LIMITS,
        selection: Matching | None = None,
        authorization: Matching | None = None,
        match_types: tuple[str, ...] | None = None,
        payloads: tuple[Any, ...] | None = None,
    ) -> None:
        """A 0.x subscriber by default: ``topics`` are selectors and ``allowed_private`` its
        token's ``mercure.subscribe``, both compiled under ``limits``. A 1.0 subscriber
        passes its compiled ``selection`` (its matchers) and ``authorization`` (its
        token's ``subscribe`` grants, ``None`` when anonymous), with ``topics`` the
        matcher values, ``match_types`` their types and ``payloads`` their payloads."""
        if not topics:
            raise ValueError("a subscriber needs at least one topic selector")
        self._id: str | None = subscriber_id or None
        # 1.0 matchers were deduplicated by (type, value): one value may come twice.
        self.topics: tuple[str, ...] = (
            tuple(dict.fromkeys(topics)) if selection is None else tuple(topics)
        )
        self.allowed_private: tuple[str, ...] | None = (
            None if allowed_private is None else tuple(allowed_private)
        )
        # Compiled once per connection (shared between identical selections).
        self._selection: Matching = (
            Selection.of(self.topics, limits) if selection is None else selection
        )
        self._authorization: Matching | None = authorization
        if authorization is None and self.allowed_private is not None:
            self._authorization = Selection.of(self.allowed_private, limits)
        # Subscribers with one shared selection are delivered to as one group.
        self.group: object = self._selection
        self.info_extra: tuple[tuple[str, ...], tuple[Any, ...] | None] | None = (
            None if match_types is None else (match_types, payloads)
        )
        self.payload: Any = payload
        self.request_last_event_id: str | None = last_event_id or None
        self.response_last_event_id: str | None = None
        self.max_queue = max_queue
        self.max_queue_bytes = max_queue_bytes
        self.queued_bytes = 0
        self.exact_only: bool = (
            not any(t == "*" or is_template(t) for t in self.topics)
            if selection is None
            else selection.exact_only
        )
        self.closed = False
        self.overflowed = False
        self.interrupt: Callable[[], None] | None = None
        # Set by a stream that writes its socket itself: told of live frames instead of
        # waking the connection's greenlet (see app.hub.stream, "direct writes").
        self.sink: Sink | None = None
        self._frames: list[bytes | memoryview] = []
        # The replayed history, written before the live frames; not counted against the
        # live queue's bounds (the transport's history bounds it). None when done.
        self._replay: list[bytes | memoryview] | None = None
        self._event = Event()
        self._ready = self.request_last_event_id is None
        # Replay state, only while a requested history is being read (None otherwise).
        self._history: list[bytes] | None = None
        self._history_ids: set[str] | None = None
        self._buffered: list[tuple[str, bytes]] | None = None
        if not self._ready:
            self._history, self._history_ids, self._buffered = [], set(), []

    def __repr__(self) -> str:
        return f"<Subscriber {self.id} topics={list(self.topics)!r}>"

    @property
    def id(self) -> str:
        """The subscriber's id: the one given, else a ``urn:uuid:`` fixed on first use."""
        subscriber_id = self._id
        if subscriber_id is None:
            subscriber_id = self._id = new_update_id()
        return subscriber_id

    @property
    def info(self) -> SubscriberInfo:
        extra = self.info_extra
        if extra is None:
            return SubscriberInfo(id=self.id, topics=self.topics, payload=self.payload)
        return SubscriberInfo(
            id=self.id, topics=self.topics, match_types=extra[0], payloads=extra[1]
        )

    # -- matching ------------------------------------------------------------------------

    def authorized(self, update: Update) -> bool:
        """Whether the token allows this update (always true for public updates), and,
        for a subscription event, whether it is one of this subscriber's protocol (1.0
        events carry :data:`MERCURE_EVENT_TYPE`, 0.x ones no type)."""
        if not update.private:
            return True
        authorization = self._authorization
        if authorization is None or not authorization.matches(update.topics):
            return False
        if update.topics[0].startswith(_EVENT_TOPICS):
            return (update.type == MERCURE_EVENT_TYPE) == (self.info_extra is not None)
        return True

    def selects(self, update: Update) -> bool:
        """Whether one update topic matches one requested selector."""
        return self._selection.matches(update.topics)

    def matches(self, update: Update) -> bool:
        """Whether this subscriber must receive ``update`` (selected and authorized)."""
        return self.selects(update) and self.authorized(update)

    # -- delivery (called by transports) -------------------------------------------------

    def dispatch(self, update: Update, frame: bytes, *, from_history: bool = False) -> bool:
        """Queue ``frame`` (the encoded ``update``) without blocking.

        Returns ``False`` when the subscriber is closed or has just overflowed. Callers
        must have checked :meth:`matches` (or selection and :meth:`authorized`).
        """
        if self.closed:
            return False
        if not self._ready:
            return self._replaying(update, frame, from_history)
        if from_history:
            return True
        frames = self._frames
        queued = self.queued_bytes + len(frame)
        if len(frames) >= self.max_queue or (frames and queued > self.max_queue_bytes):
            self._overflow()
            return False
        frames.append(frame)
        self.queued_bytes = queued
        sink = self.sink
        if sink is None:
            self._event.set()
        else:
            sink.queued()
        return True

    def _replaying(self, update: Update, frame: bytes, from_history: bool) -> bool:
        """:meth:`dispatch` while history is being read: keep history, buffer live frames."""
        history, history_ids, buffered = self._history, self._history_ids, self._buffered
        if history is None or history_ids is None or buffered is None:
            return False
        if from_history:
            history.append(frame)
            history_ids.add(update.id)
            return True
        if len(buffered) >= self.max_queue:
            self._overflow()
            return False
        buffered.append((update.id, frame))
        return True

    def history_dispatched(self, response_last_event_id: str | None) -> None:
        """End the history replay: queue history, then buffered live frames not in history.

        ``response_last_event_id`` is the value of the ``Last-Event-ID`` response header.
        """
        self.response_last_event_id = response_last_event_id
        if self._ready:
            return
        self._ready = True
        history, sent, buffered = self._history, self._history_ids or set(), self._buffered
        self._history = self._history_ids = self._buffered = None
        if history:
            self._replay = list(history)  # the transport's frames, not a copy
        frames = self._frames
        frames.extend(frame for update_id, frame in buffered or () if update_id not in sent)
        self.queued_bytes = sum(len(frame) for frame in frames)
        if frames or history:
            self._event.set()

    def _overflow(self) -> None:
        self.overflowed = True
        self.disconnect()

    def wake(self) -> None:
        """Wake the connection's greenlet without queueing anything."""
        self._event.set()

    def disconnect(self) -> None:
        """Close the subscriber: drop queued frames and wake its connection to end.

        Calls :attr:`interrupt` once, if the connection set it, to abort a write blocked
        on a peer that stopped reading.
        """
        self.closed = True
        interrupt, self.interrupt = self.interrupt, None
        if interrupt is not None:
            interrupt()
        self._frames.clear()
        self.queued_bytes = 0
        self._replay = None
        if self._buffered is not None:
            self._buffered.clear()
        if self._history is not None:
            self._history.clear()
        self._event.set()

    # -- consumption (called by the connection's greenlet) -------------------------------

    def wait(self, timeout: float | None) -> bool:
        """Block this greenlet until frames are queued or the subscriber closes.

        Returns ``True`` when woken, ``False`` when ``timeout`` seconds passed first.
        """
        if self._frames or self._replay or self.closed:
            return True
        woken: bool = self._event.wait(timeout)
        return woken

    def sleep(self) -> None:
        """Block this greenlet until :meth:`wake`, :meth:`disconnect` or the end of a
        history replay, whatever is queued: the greenlet of a stream whose :attr:`sink`
        writes live frames waits only for what it must handle itself."""
        self._event.wait(None)

    def drain(self) -> bytes:
        """Return queued frames (the replayed history first) joined into one chunk of at
        most :data:`DRAIN_CHUNK` bytes, or the start of a larger first frame (``b""`` when
        none). Whatever is left stays queued: :meth:`wait` returns at once meanwhile."""
        self._event.clear()
        frames = self._frames
        replay = self._replay
        if replay is None:
            if not frames:
                return b""
            if len(frames) == 1 and len(frames[0]) <= DRAIN_CHUNK:  # the usual case
                chunk = bytes(frames.pop())
                self.queued_bytes = 0
                return chunk
            parts: list[bytes | memoryview] = []
        else:
            parts = _take(replay, DRAIN_CHUNK, [])
            if replay:
                return b"".join(parts)
            self._replay = None
        budget = DRAIN_CHUNK - sum(len(part) for part in parts)
        taken = len(parts)
        parts = _take(frames, budget, parts)
        self.queued_bytes -= sum(len(part) for part in parts[taken:])
        return b"".join(parts)


def _take(
    frames: list[bytes | memoryview], budget: int, parts: list[bytes | memoryview]
) -> list[bytes | memoryview]:
    """Move up to ``budget`` bytes from the front of ``frames`` to ``parts``: whole frames,
    or, when ``parts`` is empty, the start of a larger first frame (its rest stays first,
    uncopied). Returns ``parts``."""
    count = 0
    for frame in frames:
        if len(frame) > budget:
            break
        parts.append(frame)
        budget -= len(frame)
        count += 1
    del frames[:count]
    if not parts and frames:
        first = frames[0]
        view = first if isinstance(first, memoryview) else memoryview(first)
        frames[0] = view[budget:]
        parts.append(view[:budget])
    return parts
