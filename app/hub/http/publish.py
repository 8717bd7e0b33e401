"""Publishing: ``POST /.well-known/mercure``.

Statuses and ``text/plain`` bodies follow the reference hub (v0.24.2): 401 for a
missing/invalid token, a token without ``mercure.publish``, or a cookie-authenticated
request whose ``Origin``/``Referer`` is not a publish origin; 400 ``Bad Request`` for a body
or query string Go's ``ParseForm`` refuses (see :func:`~app.hub.form.read_post_form`); 400
for a missing topic, too many topics or a ``retry`` that is not a uint64; 401 when a topic
matches no ``mercure.publish`` selector; 403 for a topic in the reserved
``/.well-known/mercure`` namespace; 400 for control characters or invalid UTF-8 in a topic
(quoted as Go's ``%q`` does, see :func:`~app.hub.form.go_quote`), CR/LF/NUL in ``id`` or
``type``, or invalid UTF-8 in ``id``, ``type`` or ``data`` (a deliberate difference: the
reference passes those bytes on, a Python string cannot carry them), and the id
``earliest``, which ``Last-Event-ID`` reserves (the reference accepts it, and a client
reconnecting after it would replay the whole history); 413 for an update larger than
``max_update_size`` (``MERCURE_MAX_UPDATE_SIZE``, measured by
:func:`~app.hub.size.update_size`; the reference has no such limit); 500 when the transport
cannot take the update; else 200 with the update id.

While the hub also speaks 1.0 (``MERCURE_PROTOCOLS``), two 1.0 rules apply to 0.x
publishers as well, since 1.0 subscribers rely on them: a topic that addresses the hub's
namespace (below the hub's path) once resolved against the hub's URL is a 403 like the
plain one, and the event
type ``mercure``, which 1.0 reserves to the hub's subscription events, is a 400. A request
carrying a 1.0 access token is answered by :mod:`.publish_v1`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import Response, request

from app.hub.auth import AuthorizationError
from app.hub.form import FormError, go_quote, parse_uint64, read_post_form
from app.hub.http.bearer import token_protocol
from app.hub.http.publish_v1 import publish_v1
from app.hub.http.responses import authorize, published, text, unauthorized
from app.hub.namespace import HUB_PATH, reserved
from app.hub.settings import PROTOCOL_1
from app.hub.stream import client_socket, disable_nagle
from app.hub.subscriber import EARLIEST
from app.hub.subscriptions import MERCURE_EVENT_TYPE
from app.hub.topics import match_any
from app.hub.update import SSE_FORBIDDEN

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["publish"]


# C0, DEL and C1 controls, and lone surrogates: the bytes of invalid UTF-8 (surrogateescape).
_TOPIC_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_INVALID_UTF8 = re.compile(r"[\ud800-\udfff]")


def publish(hub: Hub) -> Response:
    """Answer a publish request (``POST``)."""
    settings = hub.settings
    disable_nagle(client_socket(request.environ))
    if token_protocol(settings) == PROTOCOL_1:
        return publish_v1(hub)
    try:
        claims = authorize(
            hub.publisher_verifier,
            settings.cookie_name,
            post_origins=settings.publish_origins,
        )
    except AuthorizationError:
        return unauthorized()
    if claims is None or claims.publish is None:
        return unauthorized()
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
        return unauthorized()
    for topic in topics:
        # Beside 1.0, the 1.0 check of what lies below the hub's path too (the
        # subscription events 1.0 subscribers trust), without reading a 0.x topic such as
        # "?q" or "#f" as the hub's own URL.
        if HUB_PATH in topic or (settings.v1 and reserved(topic, settings.resource, itself=False)):
            return text(
                f"{go_quote(topic)}: topic value references the reserved "
                '"/.well-known/mercure" namespace',
                403,
            )
        if _TOPIC_FORBIDDEN.search(topic):
            return text(
                f"{go_quote(topic)}: topic contains a forbidden control character or invalid UTF-8",
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
    if settings.v1 and event_type == MERCURE_EVENT_TYPE:
        # 1.0 subscribers trust that events of this type come from the hub itself.
        return text('"type" field cannot be "mercure": it is reserved for the hub', 400)
    for name, value in (("id", update_id), ("type", event_type), ("data", data)):
        if _INVALID_UTF8.search(value):
            return text(f'"{name}" field contains invalid UTF-8', 400)
    return published(
        hub,
        topics,
        data=data,
        private="private" in form,
        update_id=update_id,
        event_type=event_type,
        retry=retry,
    )
