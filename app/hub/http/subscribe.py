"""Subscribing: ``GET``/``HEAD /.well-known/mercure``.

Statuses and ``text/plain`` bodies follow the reference hub (v0.24.2): 400 ``Too many
"topic" parameters.`` (more than ``max_topics``), then 401 for an invalid token or a missing
one when anonymous subscribers are refused, then 400 ``Missing "topic" parameter.``, 400 for
URI templates past the hub's template limits (the message names the setting; the reference
has no such limit, see :mod:`app.hub.topics`), 503 when the hub is closed, a stream holding
only ``retry`` and ending at once while its transport is unreachable (so an ``EventSource``
comes back instead of giving up), else a ``text/event-stream`` (see :mod:`app.hub.stream`);
while the process drains, the stream ends right after its history; ``HEAD`` gets the same
headers, ``Last-Event-ID`` included, and an empty body.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Response, request

from app.hub.auth import AuthorizationError, Claims
from app.hub.http.responses import authorize, text, unauthorized
from app.hub.stream import SubscriberStream, client_socket, disable_nagle
from app.hub.subscriber import Subscriber
from app.hub.topics import selectors_problem
from app.hub.transport.base import TransportClosedError, TransportError

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["subscribe"]

logger = logging.getLogger(__name__)

OUTAGE_RETRY_MS = 2000
"""Reconnection delay suggested to subscribers while the transport is unreachable."""
STREAM_HEADERS = {
    "Cache-Control": "private, no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expire": "0",
    "X-Accel-Buffering": "no",
}


def subscribe(hub: Hub, disconnect: Callable[[Subscriber], None]) -> Response:
    """Answer a subscription request (``GET``/``HEAD``)."""
    settings = hub.settings
    topics = request.args.getlist("topic")
    if len(topics) > settings.max_topics:
        return text('Too many "topic" parameters.', 400)
    try:
        claims = authorize(hub.subscriber_verifier, settings.cookie_name, post_origins=None)
    except AuthorizationError:
        return unauthorized()
    if claims is None and not settings.anonymous:
        return unauthorized()
    if not topics:
        return text('Missing "topic" parameter.', 400)
    problem = selectors_problem(topics, settings.template_limits)
    if problem is not None:
        return text(problem, 400)
    return _stream(hub, topics, claims, disconnect)


def _lifetime_end(write_timeout: float, claims: Claims | None) -> float | None:
    """Monotonic time at which the stream ends: randomised lifetime or token expiry."""
    now_monotonic = time.monotonic()
    ends_at = None
    if write_timeout:
        ends_at = now_monotonic + write_timeout * random.uniform(0.8, 1.0)
    if claims is not None and claims.expires_at is not None:
        expires = now_monotonic + max(claims.expires_at - time.time(), 0.0)
        ends_at = expires if ends_at is None else min(ends_at, expires)
    return ends_at


def _stream(
    hub: Hub,
    topics: list[str],
    claims: Claims | None,
    disconnect: Callable[[Subscriber], None],
) -> Response:
    settings = hub.settings
    headers = dict(STREAM_HEADERS)
    last_event_id = request.headers.get("Last-Event-ID") or request.args.get("lastEventID")
    subscriber = Subscriber(
        topics,
        allowed_private=None if claims is None else (claims.subscribe or ()),
        payload=None if claims is None else claims.payload,
        last_event_id=last_event_id,
        max_queue=settings.queue_size,
        max_queue_bytes=settings.queue_bytes,
        limits=settings.template_limits,
    )
    try:
        answer = hub.connect(subscriber)
    except TransportClosedError:
        return text("Service Unavailable", 503)
    except TransportError as exc:
        # A passing outage (Redis restarting): a 503 would end an EventSource for good,
        # an event stream that ends at once makes it come back after ``retry``.
        logger.error("cannot register a subscriber to %s: %s", subscriber.topics, exc)
        come_back = f":\nretry: {OUTAGE_RETRY_MS}\n\n".encode()
        return Response(come_back, status=200, content_type="text/event-stream", headers=headers)
    if answer is not None:
        headers["Last-Event-ID"] = answer
    if request.method == "HEAD":
        # Headers only. A sized empty body: the gevent server would otherwise answer HEAD
        # with a chunked terminator, which breaks the connection's next response.
        hub.disconnect(subscriber)
        return Response(b"", status=200, content_type="text/event-stream", headers=headers)
    sock = client_socket(request.environ)
    disable_nagle(sock)
    body = SubscriberStream(
        subscriber,
        on_close=disconnect,
        heartbeat=settings.heartbeat,
        ends_at=time.monotonic() if hub.draining else _lifetime_end(settings.write_timeout, claims),
        write_deadline=settings.dispatch_timeout,
        sock=sock,
    )
    return Response(
        body, status=200, content_type="text/event-stream", headers=headers, direct_passthrough=True
    )
