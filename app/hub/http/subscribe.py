"""Subscribing: ``GET``/``HEAD /.well-known/mercure``.

A request naming ``match`` parameters (or ``last_event_id``) speaks Mercure 1.0 (see
:mod:`.bearer`): 400 for an unknown ``match*`` name, a matcher value with a control or
format character or invalid UTF-8, past the limits of :func:`~app.hub.matchers.parse_matchers`
or a URL pattern that does not compile, or no matcher; 400 ``invalid_request`` for a token
in the query string or a malformed ``Authorization`` header; 401 ``invalid_token`` for a
token that fails validation; 401 (a bare challenge) without a token when anonymous
subscribers are refused; then the stream as below, with the history cursor in
``Mercure-Last-Event-ID`` when one was asked for. A request naming both ``topic`` and
``match`` parameters is a 400.

0.x: statuses and ``text/plain`` bodies follow the reference hub (v0.24.2): 400 ``Too many
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
from urllib.parse import parse_qsl

from flask import Response, request

from app.hub.auth import AuthorizationError
from app.hub.http.bearer import BearerError, bearer_grants, challenge, subscribe_protocol
from app.hub.http.responses import authorize, text, unauthorized
from app.hub.matchers import MatcherError, MatcherSet, parse_matchers
from app.hub.oauth import SUBSCRIBER
from app.hub.settings import PROTOCOL_1
from app.hub.stream import SubscriberStream, client_socket, direct_framing, disable_nagle
from app.hub.subscriber import Subscriber
from app.hub.topics import selectors_problem
from app.hub.transport.base import TransportClosedError, TransportError

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["subscribe"]

logger = logging.getLogger(__name__)

OUTAGE_RETRY_MS = 2000
"""Reconnection delay suggested to subscribers while the transport is unreachable."""
CURSOR_HEADER = "Mercure-Last-Event-ID"
"""The 1.0 response field carrying the history cursor."""
STREAM_HEADERS = {
    "Cache-Control": "private, no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expire": "0",
    "X-Accel-Buffering": "no",
}


def subscribe(hub: Hub, disconnect: Callable[[Subscriber], None]) -> Response:
    """Answer a subscription request (``GET``/``HEAD``)."""
    settings = hub.settings
    protocol = subscribe_protocol(settings, list(request.args.keys()))
    if protocol is None:
        return text(
            'A request uses either "topic" (Mercure 0.x) or "match" parameters (1.0), not both.',
            400,
        )
    if protocol == PROTOCOL_1:
        return _subscribe_v1(hub, disconnect)
    topics = request.args.getlist("topic")
    if not settings.v1 and any(name[:5].lower() == "match" for name in request.args):
        return text("Mercure 1.0 is disabled on this hub (MERCURE_PROTOCOLS).", 400)
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
    expires_at = None if claims is None else claims.expires_at
    return _stream(hub, subscriber, expires_at, disconnect, "Last-Event-ID")


def _subscribe_v1(hub: Hub, disconnect: Callable[[Subscriber], None]) -> Response:
    """A 1.0 subscription: ``match``/``match_<type>`` matchers and an access token."""
    settings = hub.settings
    pairs = parse_qsl(
        request.query_string.decode("latin-1"),
        keep_blank_values=True,
        encoding="utf-8",
        errors="surrogateescape",
    )
    try:
        matchers = parse_matchers(pairs, settings.template_limits.max_templates, settings.resource)
    except MatcherError as error:
        return text(str(error), 400)
    try:
        grants = bearer_grants(hub, SUBSCRIBER)
    except BearerError as failure:
        return challenge(settings, failure)
    if grants is None and not settings.anonymous:
        return challenge(settings, BearerError(401))
    base = settings.resource
    cursor = request.headers.get("Last-Event-ID")
    if cursor is None:
        cursor = next((value for name, value in pairs if name == "last_event_id"), None)
    subscriber = Subscriber(
        [matcher.value for matcher in matchers],
        last_event_id=cursor,
        max_queue=settings.queue_size,
        max_queue_bytes=settings.queue_bytes,
        selection=MatcherSet.of(matchers, base),
        authorization=None if grants is None else grants.reading(base),
        match_types=tuple(matcher.type for matcher in matchers),
        payloads=tuple(
            None if grants is None else grants.payload_for(matcher.value, base)
            for matcher in matchers
        ),
    )
    expires_at = None if grants is None else grants.expires_at
    return _stream(hub, subscriber, expires_at, disconnect, CURSOR_HEADER)


def _lifetime_end(write_timeout: float, expires_at: float | None) -> float | None:
    """Monotonic time at which the stream ends: randomised lifetime or token expiry."""
    now_monotonic = time.monotonic()
    ends_at = None
    if write_timeout:
        ends_at = now_monotonic + write_timeout * random.uniform(0.8, 1.0)
    if expires_at is not None:
        expires = now_monotonic + max(expires_at - time.time(), 0.0)
        ends_at = expires if ends_at is None else min(ends_at, expires)
    return ends_at


def _stream(
    hub: Hub,
    subscriber: Subscriber,
    expires_at: float | None,
    disconnect: Callable[[Subscriber], None],
    cursor_header: str,
) -> Response:
    """Connect ``subscriber`` and answer its event stream; the cursor of its history, when
    it asked for one, goes in ``cursor_header`` (``Last-Event-ID`` in 0.x,
    ``Mercure-Last-Event-ID`` in 1.0)."""
    settings = hub.settings
    headers = dict(STREAM_HEADERS)
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
        headers[cursor_header] = answer
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
        ends_at=(
            time.monotonic() if hub.draining else _lifetime_end(settings.write_timeout, expires_at)
        ),
        write_deadline=settings.dispatch_timeout,
        sock=sock,
        framing=direct_framing(request.environ, sock),
    )
    return Response(
        body, status=200, content_type="text/event-stream", headers=headers, direct_passthrough=True
    )
