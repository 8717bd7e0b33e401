"""The subscriptions web API: ``GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]``.

Answers 401 without a token whose ``mercure.subscribe`` matches the requested path, 304 for
a matching ``If-None-Match``, and 404 ``404 page not found`` (Go's ``http.NotFound``, after
the ``ETag`` was set) for an unknown subscription; else the JSON-LD document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from flask import Response, request

from app.hub.auth import AuthorizationError
from app.hub.http.responses import authorize, text, unauthorized
from app.hub.subscriber import SubscriberInfo
from app.hub.subscriptions import (
    SUBSCRIPTIONS_PATH,
    collection_document,
    find_subscription,
    query_escape,
)
from app.hub.topics import match_any

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["subscriptions"]


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


def subscriptions(hub: Hub) -> Response:
    """Answer a subscriptions API request (``GET``)."""
    settings = hub.settings
    try:
        claims = authorize(hub.subscriber_verifier, settings.cookie_name, post_origins=None)
    except AuthorizationError:
        return unauthorized()
    if claims is None or claims.subscribe is None:
        return unauthorized()
    last_event_id, infos = hub.transport.subscribers()
    topic, subscriber_id = _subscription_path(request.environ, infos)
    path = SUBSCRIPTIONS_PATH
    if topic is not None:
        path += "/" + query_escape(topic)
    if subscriber_id is not None:
        path += "/" + query_escape(subscriber_id)
    if not match_any(claims.subscribe, (path,), settings.template_limits):
        return unauthorized()
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
