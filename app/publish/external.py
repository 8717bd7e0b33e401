"""Publishing to an external Mercure hub over HTTP, durably and in order.

:class:`ExternalSink` writes committed updates to the :class:`~app.publish.outbox.Outbox`
and wakes its :class:`Sender`, a greenlet that ``POST``\\ s them one by one, oldest first, as
a standard Mercure publisher (form fields ``topic`` (repeated), ``data``, ``private``,
``id``, ``type``, ``retry``; ``Authorization: Bearer <MERCURE_JWT_TOKEN>``).

Outcomes of one attempt:

- ``200``: delivered, removed from the outbox;
- a connection error, a timeout, ``401`` (token not accepted yet), ``404``, ``408``,
  ``429``, any ``5xx`` or any other unexpected answer: logged as a warning with the
  update's id and topics, retried after an exponential backoff (``retry_min_delay``
  doubling up to ``retry_max_delay``, with jitter); later updates wait, so the hub
  receives updates in commit order;
- any other ``4xx`` (the hub refuses this update for good: bad field, forbidden topic):
  logged as an error with the topics and kept in the outbox as ``rejected``.

The update id is fixed before the first attempt, so a retry after a lost ``200`` (the only
case where a hub can receive an update twice) carries the same id. Committed data is never
touched by any of this.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Sequence

import gevent
import httpx
from gevent.event import Event

from app.hub.update import Update
from app.publish.outbox import Outbox, Queued
from app.publish.settings import ExternalHub

logger = logging.getLogger("app.publish")

LEASE_TTL = 30.0
IDLE_POLL = 1.0
_RETRIED_CLIENT_ERRORS = frozenset({401, 404, 408, 429})


def form(update: Update) -> dict[str, str | list[str]]:
    """The form fields of a Mercure publish request for ``update`` (``topic`` repeated)."""
    fields: dict[str, str | list[str]] = {
        "topic": list(update.topics),
        "data": update.data,
        "id": update.id,
    }
    if update.private:
        fields["private"] = "on"
    if update.type is not None:
        fields["type"] = update.type
    if update.retry is not None:
        fields["retry"] = str(update.retry)
    return fields


class Sender:
    """The greenlet delivering one hub's queued updates; see the module docstring."""

    def __init__(
        self,
        hub: ExternalHub,
        outbox: Outbox,
        *,
        retry_min_delay: float,
        retry_max_delay: float,
        timeout: float,
    ) -> None:
        self.hub = hub
        self._outbox = outbox
        self._min_delay = retry_min_delay
        self._max_delay = retry_max_delay
        self._client = httpx.Client(
            timeout=timeout, headers={"Authorization": f"Bearer {hub.jwt_token}"}
        )
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = Event()
        self._closed = Event()
        self._greenlet: gevent.Greenlet[[], None] | None = None
        self._renewed_at = 0.0

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        """Stop sending; queued updates stay in the outbox for the next start."""
        self._closed.set()
        self._wake.set()
        if self._greenlet is not None:
            self._greenlet.join(timeout=5)
            self._greenlet.kill(block=True, timeout=1)
        self._outbox.release(self.hub.name, self._owner)
        self._client.close()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self._drain()
            except Exception:
                logger.exception(
                    "the sender of hub %r failed; queued updates stay in %s and are retried",
                    self.hub.name,
                    self._outbox.path,
                )
                self._closed.wait(self._max_delay)

    def _drain(self) -> None:
        failures = 0
        while not self._closed.is_set():
            if not self._renew():
                self._idle(LEASE_TTL / 3)
                continue
            batch = self._outbox.head(self.hub.name)
            if not batch:
                self._idle(IDLE_POLL)
                continue
            for queued in batch:
                if self._closed.is_set() or not self._renew(lazily=True):
                    break
                if self._deliver(queued):
                    failures = 0
                    continue
                failures += 1
                self._closed.wait(self._backoff(failures))
                break

    def _renew(self, *, lazily: bool = False) -> bool:
        """Hold the lease; ``lazily`` skips the write while a third of it is left."""
        now = time.monotonic()
        if lazily and now - self._renewed_at < LEASE_TTL / 3:
            return True
        held = self._outbox.acquire(self.hub.name, self._owner, LEASE_TTL)
        if held:
            self._renewed_at = now
        return held

    def _idle(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _backoff(self, failures: int) -> float:
        delay = min(self._max_delay, self._min_delay * 2 ** min(failures - 1, 30))
        return float(delay / 2 + random.uniform(0, delay / 2))

    def _deliver(self, queued: Queued) -> bool:
        """One attempt; ``False`` means stop and back off (the update stays queued)."""
        update = queued.update
        topics = ", ".join(update.topics)
        try:
            response = self._client.post(self.hub.publish_url, data=form(update))
        except httpx.HTTPError as error:
            reason = f"{type(error).__name__}: {error}"
        else:
            if response.status_code == 200:
                self._outbox.delivered(queued.seq)
                if queued.attempts:
                    logger.info(
                        "delivered update %s to hub %r after %d failed attempt(s)",
                        update.id,
                        self.hub.name,
                        queued.attempts,
                    )
                return True
            reason = f"HTTP {response.status_code}: {response.text[:200].strip()}"
            status = response.status_code
            if 400 <= status < 500 and status not in _RETRIED_CLIENT_ERRORS:
                self._outbox.rejected(queued.seq, reason)
                logger.error(
                    "hub %r rejected update %s (%s); it will not be retried; topics: %s",
                    self.hub.name,
                    update.id,
                    reason,
                    topics,
                )
                return True
        self._outbox.failed(queued.seq, reason)
        logger.warning(
            "publishing update %s to hub %r at %s failed (attempt %d: %s); retrying with "
            "backoff, later updates wait; topics: %s",
            update.id,
            self.hub.name,
            self.hub.publish_url,
            queued.attempts + 1,
            reason,
            topics,
        )
        return False


class ExternalSink:
    """Queues updates durably for one external hub and wakes its sender."""

    def __init__(self, sender: Sender, outbox: Outbox) -> None:
        self._sender = sender
        self._outbox = outbox

    def send(self, updates: Sequence[Update]) -> None:
        try:
            self._outbox.push(self._sender.hub.name, updates)
        except Exception:
            logger.exception(
                "cannot queue %d update(s) for hub %r in %s; they are lost; topics: %s",
                len(updates),
                self._sender.hub.name,
                self._outbox.path,
                "; ".join(", ".join(u.topics) for u in updates),
            )
            return
        self._sender.wake()

    def close(self) -> None:
        self._sender.close()
