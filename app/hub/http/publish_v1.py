"""Publishing in Mercure 1.0: ``POST /.well-known/mercure`` with a JWT access token.

In order: ``401`` (RFC 6750 challenge) without a token, ``401 invalid_token`` for a token
that fails validation, ``400 invalid_request`` for a token in the query string or a
malformed ``Authorization`` header; ``400`` for a body Go's ``ParseForm`` would refuse, no
``topic``, a topic, ``id`` or ``type`` holding a control or format character or invalid
UTF-8, a topic that is exactly ``*`` or that addresses the hub's reserved namespace once
resolved against the hub's URL (dot-segments removed, escaped unreserved characters
decoded, so ``/.well-known/%6Dercure/x`` and ``/a/../.well-known/mercure`` are caught), an
``id`` that starts with ``#`` or is ``earliest``, the reserved ``type`` ``mercure``, a
``retry`` that is not ASCII digits, or ``data`` that is not UTF-8; ``413`` for more than
``MERCURE_MAX_TOPICS`` topics or an update larger than ``MERCURE_MAX_UPDATE_SIZE``;
``403 insufficient_scope`` unless a ``publish`` grant matches every topic; ``500`` when the
transport cannot take it; else ``200`` with the update id. Unknown fields are ignored.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import Response, request

from app.hub.form import FormError, read_post_form
from app.hub.http.bearer import BearerError, bearer_grants, challenge
from app.hub.http.responses import published, text
from app.hub.matchers import WILDCARD, invalid_value
from app.hub.namespace import reserved
from app.hub.oauth import PUBLISHER
from app.hub.subscriber import EARLIEST
from app.hub.subscriptions import MERCURE_EVENT_TYPE

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["publish_v1"]


_DIGITS = re.compile(r"[0-9]+")
_UINT64_MAX = (1 << 64) - 1


def publish_v1(hub: Hub) -> Response:
    """Answer a 1.0 publish request."""
    settings = hub.settings
    try:
        grants = bearer_grants(hub, PUBLISHER, post_origins=settings.publish_origins)
    except BearerError as failure:
        return challenge(settings, failure)
    if grants is None:
        return challenge(settings, BearerError(401))
    try:
        form = read_post_form(request.stream, request.mimetype, request.query_string)
    except FormError:
        return text("Bad Request", 400)
    topics = form.get("topic", [])
    if not topics:
        return text('Missing "topic" field.', 400)
    if len(topics) > settings.max_topics:
        return text(f"More than {settings.max_topics} topics in one update.", 413)
    base = settings.resource
    for topic in topics:
        if invalid_value(topic):
            return text(
                f"Topic {topic!r} holds a control or format character or invalid UTF-8.", 400
            )
        if topic == WILDCARD:
            return text('The topic "*" is reserved for the wildcard matcher.', 400)
        if reserved(topic, base):
            return text(f"Topic {topic!r} addresses the hub's reserved namespace.", 400)
    update_id = form.get("id", [""])[0]
    event_type = form.get("type", [""])[0]
    data = form.get("data", [""])[0]
    raw_retry = form.get("retry", [""])[0]
    if invalid_value(update_id) or update_id.startswith("#") or update_id == EARLIEST:
        return text(
            '"id" must not start with "#", be "earliest", or hold a control or format character.',
            400,
        )
    if invalid_value(event_type):
        return text('"type" holds a control or format character or invalid UTF-8.', 400)
    if event_type == MERCURE_EVENT_TYPE:
        return text('The event type "mercure" is reserved for the hub.', 400)
    if any(0xD800 <= ord(character) <= 0xDFFF for character in data):
        return text('"data" is not valid UTF-8.', 400)
    retry: int | None = None
    if "retry" in form and raw_retry:
        if not _DIGITS.fullmatch(raw_retry) or int(raw_retry) > _UINT64_MAX:
            return text('"retry" must be ASCII digits.', 400)
        retry = int(raw_retry)
    if not all(grants.may_publish(topic, base) for topic in topics):
        return challenge(settings, BearerError(403, "insufficient_scope"))
    return published(
        hub,
        topics,
        data=data,
        private="private" in form,
        update_id=update_id,
        event_type=event_type,
        retry=retry,
    )
