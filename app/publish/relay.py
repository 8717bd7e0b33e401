"""Relaying a hub's outbox rows to the hub: at least once, in commit order, never lost.

One :class:`Relay` per hub and process. Three paths take a committed row to its hub:

- **at once**: right after the commit, in the committing greenlet, :meth:`Relay.committed`
  hands the rows to the hub (the built-in hub: a dispatch to its transport), so the usual
  latency is the same as publishing directly; a greenlet then deletes them, with the rows
  of every other commit relayed meanwhile, in one transaction once the event loop is idle
  or :data:`SETTLED_FOR` seconds later (rows delivered and not yet deleted do not count as
  pending for later writes of this process). It does so only when no older row of the hub
  is pending, whichever process wrote it; otherwise the rows queue
  behind the older ones, which keeps every item's updates in commit order across
  processes, reloads and outages.
- **follow** (built-in hub): rows queued behind another process's pending rows are relayed
  by their own process :data:`FOLLOW_EVERY` seconds later, in ``seq`` order with the rows
  still ahead of them (the other's rows in flight, or relayed and not deleted yet:
  relaying an update twice is harmless, below), unless one of those failed before.
- **backlog**: a greenlet that holds the hub's lease (one process at a time) relays, in
  ``seq`` order, every pending row as soon as the oldest one has waited :data:`STALE`
  seconds (rows whose writer died, handed them over while stopping, failed to deliver them,
  or queued them behind older ones). It is woken after each commit that queued rows and
  polls every ``poll`` seconds otherwise.

When the hub cannot take an update (Redis down, an external hub unreachable), the row stays,
the relay backs off (``retry_min_delay`` doubling up to ``retry_max_delay``, jittered) and
later commits queue behind it, so the hub receives them in commit order once it is back.
When the relay cannot read or write the outbox itself (the database down), it retries at
least every ``poll`` seconds, so what waits is relayed soon after the database is back.
An update the hub refuses for good (:class:`Rejected`) is kept as ``rejected`` and logged.
Hubs reached over HTTP go through the backlog path only (``immediate=False``), without
waiting.

Every row carries a stable key and every transport keeps an update once per key, so a row
relayed twice (a crash between the dispatch and the delete, both paths racing) reaches no
subscriber twice. An external hub is not told the key: there, a reply lost after the hub
took the update can make it publish the update twice, with the same id.

:meth:`Relay.drain` prepares a graceful stop: the lease is released so another process
takes over the backlog; with a hub whose transport is local to the process, new rows are
left for the next process instead of being dispatched to subscribers that are leaving.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

import gevent
from gevent.event import Event

from app.hub.update import Update
from app.publish.outbox import Outbox, Queued

__all__ = ["STALE", "Deliverer", "Rejected", "Relay", "Unavailable"]

logger = logging.getLogger("app.publish")

STALE = 1.0
"""Seconds the oldest pending row waits before the lease holder relays the backlog."""
POLL = 1.0
LEASE_TTL = 15.0
SETTLED_MAX = 100
"""Keys of relayed rows waiting for their ``DELETE`` beyond which it is done at once."""
SETTLED_FOR = 0.01
"""Seconds relayed rows wait for an idle event loop before they are deleted anyway: until
then other processes' later rows queue behind them."""
FOLLOW_EVERY = 0.02
"""Seconds from queuing rows behind another process's to relaying them with those, and
between two such passes."""


class Unavailable(Exception):
    """The hub cannot take the update now; it is retried later."""


class Rejected(Exception):
    """The hub refuses the update for good; it is kept as ``rejected``."""


class Deliverer(Protocol):
    """Hands one update to one hub."""

    def deliver(self, update: Update) -> None:
        """Return once the hub took ``update``; raise :class:`Unavailable` or
        :class:`Rejected`."""

    def close(self) -> None:
        """Release connections."""


class Relay:
    """Relays the rows of the hub ``hub`` from ``outbox`` through ``deliverer``."""

    def __init__(
        self,
        hub: str,
        outbox: Outbox,
        deliverer: Deliverer,
        *,
        immediate: bool,
        local: bool = False,
        retry_min_delay: float = 0.5,
        retry_max_delay: float = 60.0,
        poll: float = POLL,
    ) -> None:
        self.hub = hub
        self._outbox = outbox
        self._deliverer = deliverer
        self._immediate = immediate
        self._local = local
        self._min_delay = retry_min_delay
        self._max_delay = retry_max_delay
        self._poll = poll
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stuck: set[str] = set()
        self._draining = False
        self._wake = Event()
        self._closed = Event()
        self._renewed_at = 0.0
        self._greenlet: gevent.Greenlet[[], None] | None = None
        # Keys of rows relayed at once whose deletion is pending (one DELETE per batch).
        self._settled: list[str] = []
        self._deleting: list[str] = []
        self._deleter: gevent.Greenlet[[], None] | None = None
        self._follower: gevent.Greenlet[[], None] | None = None

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def committed(self, rows: Sequence[Queued]) -> None:
        """Relay the rows of a transaction that just committed. Never raises."""
        keys = [row.key for row in rows]
        if not self._immediate:
            self._wake.set()
            return
        if self._stuck or (self._draining and self._local) or any(row.behind for row in rows):
            self._stuck.update(keys)  # in order, behind what is pending
            self._wake.set()
            if self._follower is None and not self._renewed_at:  # the holder sweeps them
                self._follower = gevent.spawn(self._follow)
            return
        delivered: list[str] = []
        for index, row in enumerate(rows):
            try:
                self._deliverer.deliver(row.update)
            except Rejected as error:
                self._rejected(row, str(error))
                continue
            except Exception as error:  # unavailable, or a bug: the row must not be lost
                if not isinstance(error, Unavailable):
                    logger.exception("relaying update %s failed", row.update.id)
                self._stuck.update(keys[index:])  # later rows queue behind it, in order
                self._failed(row, str(error) or type(error).__name__)
                self._wake.set()
                break
            delivered.append(row.key)
        self._settle(delivered)

    def settled(self) -> list[str]:
        """Keys of rows this relay delivered and is about to delete: not pending for
        :meth:`Outbox.stage`'s check, so later writes need not queue behind them."""
        return [*self._deleting, *self._settled]

    def _settle(self, keys: list[str]) -> None:
        """Delete the rows of ``keys`` (delivered) soon, with those of other commits.

        Every commit relayed at once adds its keys; one greenlet deletes, in one
        transaction, all the keys added since its last ``DELETE``, as soon as the event
        loop is idle or :data:`SETTLED_FOR` seconds later, so a busy process shares one
        ``DELETE`` between many commits (past :data:`SETTLED_MAX` keys, the committing
        greenlet deletes them itself). A row not deleted yet may be relayed once more (by
        the backlog after :data:`STALE` seconds, or by another process following with its
        queued rows), which its key makes harmless.
        """
        if not keys:
            return
        self._settled += keys
        if len(self._settled) >= SETTLED_MAX:
            self._delete_batch()
        elif self._deleter is None:
            self._deleter = gevent.spawn(self._delete_settled)

    def _delete_settled(self) -> None:
        try:
            # A busy process deletes for many commits at once, an idle one at once.
            with gevent.Timeout(SETTLED_FOR, False):
                gevent.idle()
            while self._settled:
                self._delete_batch()
        finally:
            self._deleter = None

    def _delete_batch(self) -> None:
        batch, self._settled = self._settled, []
        self._deleting += batch
        try:
            self._safely(lambda: self._outbox.delete(batch))
        finally:
            done = set(batch)
            self._deleting = [key for key in self._deleting if key not in done]

    def _follow(self) -> None:
        """Relay the rows this process queued behind others, with those others, every
        :data:`FOLLOW_EVERY` seconds while rows queue (by then the other process has
        mostly relayed and deleted its own, see :data:`SETTLED_FOR`, so few are relayed
        twice), for as long as the backlog path would take (:data:`STALE` plus ``poll``).
        Stops early when a row that failed blocks them (the lease holder's backlog
        retries it, backing off) and when the relay drains or closes."""
        give_up = time.monotonic() + STALE + self._poll
        try:
            while self._stuck and not self._draining and time.monotonic() < give_up:
                if self._closed.wait(FOLLOW_EVERY) or not self._release():
                    break
        except Exception:
            logger.exception("relaying queued updates of hub %r failed", self.hub)
        finally:
            self._follower = None

    def _release(self) -> bool:
        """Relay the hub's pending rows in order, other processes' included, up to the
        last row this process queued; ``False`` when one of them fails or failed before.

        A row of another process ahead is relayed here rather than waited for: that
        process relays it too, or did and has not deleted it yet, and the hub keeps an
        update once per key, so it reaches no subscriber twice, and the rows still reach
        the hub in ``seq`` order, as from the backlog."""
        settled = set(self.settled())
        delivered: list[str] = []
        try:
            for row in self._outbox.pending(self.hub):
                if not self._stuck:
                    break
                if row.key in settled:
                    continue
                if row.attempts:
                    return False
                try:
                    self._deliverer.deliver(row.update)
                except Rejected as error:
                    self._rejected(row, str(error))
                except Exception as error:  # unavailable, or a bug: the backlog retries it
                    if not isinstance(error, Unavailable):
                        logger.exception("relaying update %s failed", row.update.id)
                    self._failed(row, str(error) or type(error).__name__)
                    return False
                else:
                    delivered.append(row.key)
                self._stuck.discard(row.key)
        finally:
            self._settle(delivered)
        self._forget_relayed()
        return True

    def _forget_relayed(self) -> None:
        """Drop from the queued keys those no longer pending: another process relayed
        them. Keys queued while the outbox is read stay."""
        asked = set(self._stuck)
        self._stuck -= asked - self._outbox.remaining(asked)

    def drain(self) -> None:
        """Stop relaying the backlog and hand it (and, for a local hub, new rows) over."""
        self._draining = True
        self._wake.set()

    def close(self) -> None:
        """Stop; rows not relayed stay in the outbox for the next process."""
        self._draining = True
        self._closed.set()
        self._wake.set()
        if self._greenlet is not None:
            self._greenlet.join(timeout=5)
            self._greenlet.kill(block=True, timeout=1)
        for helper in (self._follower, self._deleter):
            if helper is not None:
                helper.join(timeout=5)
        while self._settled:  # relayed rows are not left to be relayed again
            self._delete_batch()
        if self._renewed_at:  # held: hand it over now rather than when it expires
            self._renewed_at = 0.0
            self._safely(lambda: self._outbox.release(self.hub, self._owner))
        self._deliverer.close()

    def _run(self) -> None:
        failures = 0
        while not self._closed.is_set():
            self._wake.wait(self._poll)
            self._wake.clear()
            if self._closed.is_set():
                break
            try:
                if self._draining:
                    if self._renewed_at:  # once: another process takes the backlog over
                        self._outbox.release(self.hub, self._owner)
                        self._renewed_at = 0.0
                    continue
                if not self._renew():
                    if self._stuck:  # the holder relays them; are they gone yet?
                        self._forget_relayed()
                    continue
                if self._sweep():
                    failures = 0
                    continue
                longest = self._max_delay  # the hub failed: spare it
            except Exception:
                logger.exception(
                    "the relay of hub %r failed; its updates stay in the outbox", self.hub
                )
                longest = self._poll  # the database, mostly: one query tells it is back
            failures += 1
            self._closed.wait(min(self._backoff(failures), longest))

    def _sweep(self) -> bool:
        """Relay the backlog in order; ``False`` after a failure (back off)."""
        while not self._closed.is_set() and not self._draining:
            rows = self._outbox.pending(self.hub)
            if not rows:
                self._stuck.clear()
                return True
            fresh = rows[0].created_at > time.time() - STALE
            if self._immediate and fresh and not self._stuck:
                return True  # being relayed at once by the process that wrote it
            delivered: list[str] = []
            try:
                for row in rows:
                    if not self._renew(lazily=True):
                        return True
                    try:
                        self._deliverer.deliver(row.update)
                    except Unavailable as error:
                        self._failed(row, str(error))
                        return False
                    except Rejected as error:
                        self._rejected(row, str(error))
                        continue
                    if row.attempts:
                        logger.info(
                            "relayed update %s to hub %r after %d failed attempt(s)",
                            row.update.id,
                            self.hub,
                            row.attempts,
                        )
                    delivered.append(row.key)
                    self._stuck.discard(row.key)
            finally:
                self._outbox.delete(delivered)
        return True

    def _renew(self, *, lazily: bool = False) -> bool:
        now = time.monotonic()
        if lazily and now - self._renewed_at < LEASE_TTL / 3:
            return True
        held = self._outbox.acquire(self.hub, self._owner, LEASE_TTL)
        self._renewed_at = now if held else 0.0
        return held

    def _failed(self, row: Queued, reason: str) -> None:
        logger.warning(
            "hub %r cannot take update %s now (attempt %d: %s); it stays in the outbox and "
            "later updates wait behind it; topics: %s",
            self.hub,
            row.update.id,
            row.attempts + 1,
            reason,
            ", ".join(row.update.topics),
        )
        self._safely(lambda: self._outbox.failed(row.key, reason))

    def _rejected(self, row: Queued, reason: str) -> None:
        logger.error(
            "hub %r rejected update %s (%s); it is kept as rejected and not retried; topics: %s",
            self.hub,
            row.update.id,
            reason,
            ", ".join(row.update.topics),
        )
        self._safely(lambda: self._outbox.failed(row.key, reason, final=True))

    def _backoff(self, failures: int) -> float:
        delay = min(self._max_delay, self._min_delay * 2 ** min(failures - 1, 30))
        return float(delay / 2 + random.uniform(0, delay / 2))

    def _safely(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:
            logger.exception("the outbox of hub %r cannot be updated", self.hub)
