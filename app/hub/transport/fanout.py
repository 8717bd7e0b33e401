"""The local fan-out index every transport uses to deliver live updates in this process.

Subscribers whose selectors are all exact strings are indexed by topic in a dict, so an
update reaches them with one look-up per update topic. Subscribers with ``*``, a URI
template or a URL pattern are grouped by their shared compiled selection; each group's
selection is computed once per update (by its first member, see :mod:`app.hub.topics` and
:mod:`app.hub.matchers`), so ten
thousand subscribers to the same template cost one match, not ten thousand.

Contracts:

* An update's SSE frame is encoded once by :meth:`FanOut.deliver`, whatever the fan-out.
* Each matching, authorized subscriber receives an update exactly once, even when several
  update topics or selectors match it.
* Private updates reach only subscribers for which :meth:`Subscriber.authorized` holds.
* :meth:`deliver` never blocks and never switches greenlets (subscriber queues are
  non-blocking), so add/remove cannot interleave with a delivery; no lock is taken.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.hub.sse import encode
from app.hub.subscriber import Subscriber
from app.hub.update import Update

__all__ = ["FanOut"]


class FanOut:
    """An index of this process's subscribers, by exact topic and by selector group."""

    __slots__ = ("_count", "_exact", "_groups")

    def __init__(self) -> None:
        self._exact: dict[str, dict[Subscriber, None]] = {}
        self._groups: dict[object, dict[Subscriber, None]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Subscriber]:
        """Every indexed subscriber once (a snapshot, safe to mutate the index while iterating)."""
        seen: dict[Subscriber, None] = {}
        for members in self._exact.values():
            seen.update(members)
        for members in self._groups.values():
            seen.update(members)
        return iter(list(seen))

    def add(self, subscriber: Subscriber) -> None:
        """Index ``subscriber`` for live delivery (idempotent)."""
        if subscriber.exact_only:
            added = False
            for topic in subscriber.topics:
                members = self._exact.setdefault(topic, {})
                if subscriber not in members:
                    members[subscriber] = None
                    added = True
            if added:
                self._count += 1
            return
        group = self._groups.setdefault(subscriber.group, {})
        if subscriber not in group:
            group[subscriber] = None
            self._count += 1

    def remove(self, subscriber: Subscriber) -> None:
        """Remove ``subscriber`` from the index (idempotent)."""
        removed = False
        if subscriber.exact_only:
            for topic in subscriber.topics:
                members = self._exact.get(topic)
                if members is not None and subscriber in members:
                    del members[subscriber]
                    removed = True
                    if not members:
                        del self._exact[topic]
        else:
            group = self._groups.get(subscriber.group)
            if group is not None and subscriber in group:
                del group[subscriber]
                removed = True
                if not group:
                    del self._groups[subscriber.group]
        if removed:
            self._count -= 1

    def deliver(self, update: Update, frame: bytes | None = None) -> int:
        """Queue ``update`` to every matching authorized subscriber; return how many.

        ``frame`` is the update's encoded SSE frame when the caller already has it.
        """
        topics = update.topics
        exact = self._exact
        if len(topics) == 1:
            found = exact.get(topics[0])
            targets: list[dict[Subscriber, None]] = [found] if found else []
        else:
            union: dict[Subscriber, None] = {}
            for topic in topics:
                members = exact.get(topic)
                if members:
                    union.update(members)
            targets = [union] if union else []
        for group in self._groups.values():
            # Members of a group have the same selectors: the first one selects for all.
            if next(iter(group)).selects(update):
                targets.append(group)
        if not targets:
            return 0
        if frame is None:
            frame = encode(update)
        delivered = 0
        private = update.private
        for members in targets:
            for subscriber in members:
                if private and not subscriber.authorized(update):
                    continue
                if subscriber.dispatch(update, frame):
                    delivered += 1
        return delivered
