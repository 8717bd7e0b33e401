"""The hub's HTTP face: ``/.well-known/mercure`` (subscribe, publish) and the subscriptions API.

Statuses and ``text/plain`` bodies follow the reference hub (v0.24.2):

Subscribe (``GET``/``HEAD``): 400 ``Too many "topic" parameters.`` (more than
``max_topics``), then 401 for an invalid token or a missing one when anonymous
subscribers are refused, then 400 ``Missing "topic" parameter.``, 400 for URI templates
past the hub's template limits (the message names the setting; the reference has no such
limit, see :mod:`app.hub.topics`), 503 when the hub is
closed, a stream holding only ``retry`` and ending at once while its transport is
unreachable (so an ``EventSource`` comes back instead of giving up), else a
``text/event-stream`` (see :mod:`app.hub.stream`); while the process drains, the stream
ends right after its history; ``HEAD`` gets
the same headers, ``Last-Event-ID`` included, and an empty body.

Publish (``POST``): 401 for a missing/invalid token, a token without ``mercure.publish``,
or a cookie-authenticated request whose ``Origin``/``Referer`` is not a publish origin;
400 ``Bad Request`` for a body or query string Go's ``ParseForm`` refuses (see
:func:`read_post_form`); 400 for a missing topic, too many topics or a ``retry`` that is
not a uint64; 401 when a topic matches no ``mercure.publish`` selector; 403 for a topic in
the reserved ``/.well-known/mercure`` namespace; 400 for control characters or invalid
UTF-8 in a topic (quoted as Go's ``%q`` does, see :func:`go_quote`), CR/LF/NUL in ``id``
or ``type``, or invalid UTF-8 in ``id``, ``type`` or ``data`` (a deliberate difference:
the reference passes those bytes on, a Python string cannot carry them), and the id
``earliest``, which ``Last-Event-ID`` reserves (the reference accepts it, and a client
reconnecting after it would replay the whole history); 413 for an update larger than
``max_update_size`` (``MERCURE_MAX_UPDATE_SIZE``, measured by
:func:`~app.hub.size.update_size`; the reference has no such limit); 500
when the transport cannot take the update; else 200 with the update id.

Subscriptions API: 404 ``404 page not found`` (Go's ``http.NotFound``, after the ``ETag``
was set) for an unknown subscription.

CORS: responses to an ``Origin`` listed in ``cors_origins`` allow it with credentials;
``*`` allows any origin without credentials (anonymous use only).
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from flask import Blueprint, Response, request

from app.hub.auth import (
    AuthorizationError,
    Claims,
    Verifier,
    extract_token,
    origin_allowed,
    request_origin,
)
from app.hub.form import FormError, go_quote, parse_uint64, read_post_form
from app.hub.headers import add_security_headers
from app.hub.size import update_size
from app.hub.stream import SubscriberStream, client_socket, direct_framing, disable_nagle
from app.hub.subscriber import EARLIEST, Subscriber, SubscriberInfo
from app.hub.subscriptions import (
    SUBSCRIPTIONS_PATH,
    collection_document,
    find_subscription,
    query_escape,
)
from app.hub.topics import match_any, selectors_problem
from app.hub.transport.base import TransportClosedError, TransportError
from app.hub.update import SSE_FORBIDDEN, Update

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["HUB_PATH", "create_blueprint"]

HUB_PATH = "/.well-known/mercure"
OUTAGE_RETRY_MS = 2000
"""Reconnection delay suggested to subscribers while the transport is unreachable."""
ALLOWED_HEADERS = "authorization, cache-control, last-event-id"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
STREAM_HEADERS = {
    "Cache-Control": "private, no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expire": "0",
    "X-Accel-Buffering": "no",
}
# C0, DEL and C1 controls, and lone surrogates: the bytes of invalid UTF-8 (surrogateescape).
_TOPIC_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_INVALID_UTF8 = re.compile(r"[\ud800-\udfff]")


def text(body: str, status: int) -> Response:
    """A ``text/plain`` error answer, shaped like Go's ``http.Error``."""
    return Response(
        body + "\n",
        status=status,
        content_type="text/plain; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def _unauthorized() -> Response:
    return text("Unauthorized", 401)


def _authorize(
    verifier: Verifier, cookie_name: str, *, post_origins: tuple[str, ...] | None
) -> Claims | None:
    """Return the request's claims (``None`` when anonymous); raise AuthorizationError."""
    found = extract_token(
        request.headers.get("Authorization"),
        request.args.getlist("authorization"),
        request.cookies.get(cookie_name),
    )
    if found is None:
        return None
    if found.source == "cookie" and post_origins is not None:
        origin = request_origin(request.headers.get("Origin"), request.headers.get("Referer"))
        if origin is None:
            raise AuthorizationError(
                'an "Origin" or a "Referer" HTTP header must be present to use the '
                "cookie-based authorization mechanism"
            )
        if not origin_allowed(origin, post_origins):
            raise AuthorizationError(f"{origin!r}: origin not allowed to post updates")
    return verifier.verify(found.token)


def create_blueprint(hub: Hub) -> Blueprint:
    """The hub's blueprint, bound to ``hub``."""
    settings = hub.settings
    blueprint = Blueprint("mercure_hub", __name__)
    blueprint.after_request(add_security_headers)  # for a hub mounted alone
    # One bound method shared by every stream's clean-up (no closure per subscriber).
    disconnect = hub.disconnect

    @blueprint.after_request
    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if not origin:
            return response
        if "*" in settings.cors_origins:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin in settings.cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.vary.add("Origin")
        else:
            return response
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        return response

    @blueprint.route(HUB_PATH, methods=["OPTIONS"], provide_automatic_options=False)
    def preflight() -> Response:
        return Response(status=200)

    @blueprint.route(HUB_PATH, methods=["GET", "HEAD"])
    def subscribe() -> Response:
        topics = request.args.getlist("topic")
        if len(topics) > settings.max_topics:
            return text('Too many "topic" parameters.', 400)
        try:
            claims = _authorize(hub.subscriber_verifier, settings.cookie_name, post_origins=None)
        except AuthorizationError:
            return _unauthorized()
        if claims is None and not settings.anonymous:
            return _unauthorized()
        if not topics:
            return text('Missing "topic" parameter.', 400)
        problem = selectors_problem(topics, settings.template_limits)
        if problem is not None:
            return text(problem, 400)
        return _stream(hub, topics, claims, disconnect)

    @blueprint.route(HUB_PATH, methods=["POST"])
    def publish() -> Response:
        disable_nagle(client_socket(request.environ))
        try:
            claims = _authorize(
                hub.publisher_verifier,
                settings.cookie_name,
                post_origins=settings.publish_origins,
            )
        except AuthorizationError:
            return _unauthorized()
        if claims is None or claims.publish is None:
            return _unauthorized()
        try:
            form = read_post_form(request.stream, request.mimetype, request.query_string)
        except FormError:
            return text("Bad Request", 400)
        topics = form.get("topic", [])
        if not topics:
            return text('Missing "topic" parameter', 400)
        if len(topics) > settings.max_topics:
            return text("too many topics in update", 400)
        retry: int | None = None
        raw_retry = form.get("retry", [""])[0]
        if raw_retry:
            retry = parse_uint64(raw_retry)
            if retry is None:
                return text('Invalid "retry" parameter', 400)
        if not all(match_any(claims.publish, (t,), settings.template_limits) for t in topics):
            return _unauthorized()
        for topic in topics:
            if HUB_PATH in topic:
                return text(
                    f"{go_quote(topic)}: topic value references the reserved "
                    '"/.well-known/mercure" namespace',
                    403,
                )
            if _TOPIC_FORBIDDEN.search(topic):
                return text(
                    f"{go_quote(topic)}: topic contains a forbidden control character "
                    "or invalid UTF-8",
                    400,
                )
        update_id = form.get("id", [""])[0]
        event_type = form.get("type", [""])[0]
        data = form.get("data", [""])[0]
        if SSE_FORBIDDEN.search(update_id):
            return text('"id" field contains a forbidden control character', 400)
        if update_id == EARLIEST:
            return text('"id" field cannot be "earliest": it is reserved for Last-Event-ID', 400)
        if SSE_FORBIDDEN.search(event_type):
            return text('"type" field contains a forbidden control character', 400)
        for name, value in (("id", update_id), ("type", event_type), ("data", data)):
            if _INVALID_UTF8.search(value):
                return text(f'"{name}" field contains invalid UTF-8', 400)
        update = Update(
            topics=tuple(topics),
            data=data,
            private="private" in form,
            id=update_id,
            type=event_type or None,
            retry=retry,
        )
        size = update_size(update)
        if size > settings.max_update_size:
            return text(
                f"update too large: {size} bytes (SSE frame and topics), more than "
                f"MERCURE_MAX_UPDATE_SIZE={settings.max_update_size}",
                413,
            )
        try:
            hub.publish(update)
        except TransportError as exc:
            logger.error("failed to dispatch update %s to topics %s: %s", update.id, topics, exc)
            return text("Internal Server Error", 500)
        return Response(update.id, status=200, content_type="text/plain; charset=utf-8")

    if settings.subscriptions:
        _add_subscriptions_api(blueprint, hub)
    return blueprint


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
        framing=direct_framing(request.environ, sock),
    )
    return Response(
        body, status=200, content_type="text/event-stream", headers=headers, direct_passthrough=True
    )


def _subscription_path(
    environ: dict[str, Any], infos: Iterable[SubscriberInfo]
) -> tuple[str | None, str | None]:
    """Split the request path after the subscriptions prefix into (topic, subscriber).

    With the raw request URI (gunicorn, werkzeug), each segment is unescaped as the
    reference does it, by Go's ``url.QueryUnescape`` (``+`` is a space). Without it (the
    gevent server), ``%2F`` was already decoded and ``+`` left as is: the path is matched
    against the known subscriptions in that decoded form, then split heuristically.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        rest = path.split(SUBSCRIPTIONS_PATH, 1)[-1].strip("/")
        if not rest:
            return None, None
        segments = [unquote_plus(part) for part in rest.split("/")]
        if len(segments) == 1:
            return segments[0], None
        return "/".join(segments[:-1]), segments[-1]
    rest = request.path[len(SUBSCRIPTIONS_PATH) :].strip("/")
    if not rest:
        return None, None
    infos = list(infos)
    for info in infos:
        for topic in info.topics:
            for form in _decoded_forms(topic):
                if rest == form:
                    return topic, None
                if any(rest == f"{form}/{sub}" for sub in _decoded_forms(info.id)):
                    return topic, info.id
    for info in infos:
        for known in _decoded_forms(info.id):
            if rest.endswith("/" + known) and len(rest) > len(known) + 1:
                return rest[: -len(known) - 1], info.id
    head, _, last = rest.rpartition("/")
    if head and last.startswith("urn:uuid:"):
        return head, last
    return rest, None


def _decoded_forms(value: str) -> tuple[str, ...]:
    """How ``value`` reads in a decoded path: ``+`` for a space if escaped as ours are."""
    plus = value.replace(" ", "+")
    return (value,) if plus == value else (plus, value)


def _add_subscriptions_api(blueprint: Blueprint, hub: Hub) -> None:
    settings = hub.settings

    @blueprint.route(SUBSCRIPTIONS_PATH, methods=["GET"])
    @blueprint.route(SUBSCRIPTIONS_PATH + "/<path:rest>", methods=["GET"])
    def subscriptions(rest: str | None = None) -> Response:
        try:
            claims = _authorize(hub.subscriber_verifier, settings.cookie_name, post_origins=None)
        except AuthorizationError:
            return _unauthorized()
        if claims is None or claims.subscribe is None:
            return _unauthorized()
        last_event_id, infos = hub.transport.subscribers()
        topic, subscriber_id = _subscription_path(request.environ, infos)
        path = SUBSCRIPTIONS_PATH
        if topic is not None:
            path += "/" + query_escape(topic)
        if subscriber_id is not None:
            path += "/" + query_escape(subscriber_id)
        if not match_any(claims.subscribe, (path,), settings.template_limits):
            return _unauthorized()
        headers = {"ETag": last_event_id, "Cache-Control": "must-revalidate"}
        if request.headers.get("If-None-Match") == last_event_id:
            return Response(status=304, headers=headers)
        if topic is not None and subscriber_id is not None:
            document = find_subscription(infos, topic, subscriber_id)
            if document is None:
                # Go's http.NotFound, after the reference already set the ETag.
                missing = text("404 page not found", 404)
                missing.headers.update(headers)
                return missing
            document["lastEventID"] = last_event_id
        else:
            document = collection_document(path, last_event_id, infos, topic)
        return Response(
            json.dumps(document, indent=2, ensure_ascii=False),
            status=200,
            content_type="application/ld+json",
            headers=headers,
        )
