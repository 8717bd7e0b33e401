"""The subscriptions web API.

1.0 (a request carrying a 1.0 access token): ``GET
/.well-known/mercure/subscriptions[/{match_type}/{match}[/{subscriber}]]``, each segment
percent-encoded once; ``401``/``403 insufficient_scope`` (RFC 6750) unless a ``subscribe``
grant matches the requested path, ``404`` for an unknown matcher type or subscription,
``304`` for a matching ``If-None-Match``; else plain JSON (``application/json``) with the
cursor in ``Link: <hub>; rel="mercure"; last-event-id="..."``.

0.x: ``GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]``, listing 0.x
subscribers only (as each protocol's subscription events go to its own). Answers 401
without a token whose ``mercure.subscribe`` matches the requested path, 304 for a
matching ``If-None-Match``, and 404 ``404 page not found`` (Go's ``http.NotFound``, after
the ``ETag`` was set) for an unknown subscription; else the JSON-LD document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, unquote_plus

from flask import Response, request

from app.hub.auth import AuthorizationError
from app.hub.http.bearer import BearerError, bearer_grants, challenge, token_protocol
from app.hub.http.responses import authorize, text, unauthorized
from app.hub.matchers import MATCHER_TYPES
from app.hub.oauth import SUBSCRIBER
from app.hub.settings import PROTOCOL_1
from app.hub.subscriber import SubscriberInfo
from app.hub.subscriptions import (
    SUBSCRIPTIONS_PATH,
    collection_document,
    find_subscription,
    path_escape,
    query_escape,
    v1_collection,
    v1_find,
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
    if token_protocol(settings) == PROTOCOL_1:
        return _subscriptions_v1(hub)
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


def _v1_segments(environ: dict[str, Any]) -> list[str] | None:
    """The percent-decoded path segments after the subscriptions prefix (1.0 API), read
    from the raw request URI so an escaped ``/`` in a matcher stays inside its segment;
    ``None`` when the shape is not ``[{match_type}/{match}[/{subscriber}]]``."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        rest = path.split(SUBSCRIPTIONS_PATH, 1)[-1]
    else:  # a server that gives only the decoded path
        rest = quote(request.path[len(SUBSCRIPTIONS_PATH) :], safe="/")
    rest = rest.strip("/")
    if not rest:
        return []
    segments = [unquote(part, errors="surrogateescape") for part in rest.split("/")]
    if len(segments) not in (2, 3):
        return None
    return segments


def _subscriptions_v1(hub: Hub) -> Response:
    """The 1.0 API: plain JSON, the cursor in the ``rel="mercure"`` link, RFC 6750 answers."""
    settings = hub.settings
    try:
        grants = bearer_grants(hub, SUBSCRIBER)
    except BearerError as failure:
        return challenge(settings, failure)
    if grants is None:
        return challenge(settings, BearerError(401))
    segments = _v1_segments(request.environ)
    if segments is None or (segments and segments[0] not in MATCHER_TYPES):
        return text("404 page not found", 404)
    path = SUBSCRIPTIONS_PATH
    if segments:
        path += f"/{segments[0]}/{path_escape(segments[1])}"
    if len(segments) == 3:
        path += "/" + path_escape(segments[2])
    if not grants.may_subscribe(path, settings.resource):
        return challenge(settings, BearerError(403, "insufficient_scope"))
    last_event_id, infos = hub.transport.subscribers()
    headers = {
        "ETag": f'"{last_event_id}"',
        "Cache-Control": "must-revalidate",
        "Link": (
            f'<{settings.resource}>; rel="mercure"; last-event-id="{last_event_id}"; '
            'type="mercure"; content-type="application/json"'
        ),
    }
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return Response(status=304, headers=headers)
    document: dict[str, Any] | None
    if len(segments) == 3:
        document = v1_find(infos, segments[0], segments[1], segments[2])
        if document is None:
            missing = text("404 page not found", 404)
            missing.headers.update(headers)
            return missing
    elif segments:
        document = v1_collection(path, infos, segments[0], segments[1])
    else:
        document = v1_collection(path, infos)
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        status=200,
        content_type="application/json",
        headers=headers,
    )
