"""Active subscriptions: subscription events and the subscriptions web API documents.

1.0 (:func:`v1_documents`): one subscription per (subscriber, matcher), at
``/.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}``, both values
percent-encoded once as a whole (:func:`path_escape`); its events carry the reserved SSE
event type ``mercure`` and plain JSON documents (``type`` ``subscription``).

0.x: one subscription exists per (subscriber, topic selector). Its IRI, which is also the topic
of its events, is ``/.well-known/mercure/subscriptions/{topic}/{subscriber}`` with both
values escaped as the reference hub escapes them, by Go's ``url.QueryEscape`` (see
:func:`query_escape`): a space becomes ``+``, and every byte but ASCII letters, digits and
``-_.~`` is percent-encoded.

Security: subscription events are always private, so only subscribers whose token's
``mercure.subscribe`` matches the subscription IRI receive them; the API likewise requires
the requested URL to match ``mercure.subscribe`` (checked by the HTTP layer). Each
protocol keeps to its own subscribers: its events reach subscribers of that protocol only
(:meth:`~app.hub.subscriber.Subscriber.authorized`), and its API lists only them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from app.hub.namespace import MERCURE_EVENT_TYPE, SUBSCRIPTIONS_PATH
from app.hub.subscriber import SubscriberInfo
from app.hub.update import Update

__all__ = [
    "JSONLD_CONTEXT",
    "MERCURE_EVENT_TYPE",
    "SUBSCRIPTIONS_PATH",
    "collection_document",
    "find_subscription",
    "query_escape",
    "subscription_document",
    "subscription_id",
    "subscription_updates",
    "v1_collection",
    "v1_documents",
    "v1_find",
    "v1_subscription_id",
]

JSONLD_CONTEXT = "https://mercure.rocks/"


def query_escape(value: str) -> str:
    """``value`` escaped as Go's ``url.QueryEscape`` does.

    ``quote_plus`` with no safe character is the same function for valid UTF-8: both keep
    ASCII letters, digits and ``-_.~``, turn a space into ``+`` and percent-encode every
    other byte of the UTF-8 encoding with upper-case hex (``*`` is ``%2A``, ``+`` is
    ``%2B``, ``~`` stays).
    """
    return quote_plus(value, safe="")


def subscription_id(topic: str, subscriber_id: str) -> str:
    """The IRI of the subscription of ``subscriber_id`` to ``topic``."""
    return f"{SUBSCRIPTIONS_PATH}/{query_escape(topic)}/{query_escape(subscriber_id)}"


def subscription_document(
    info: SubscriberInfo, topic: str, *, active: bool = True, context: bool = True
) -> dict[str, Any]:
    """The JSON-LD document of one subscription, in the reference hub's key order."""
    document: dict[str, Any] = {}
    if context:
        document["@context"] = JSONLD_CONTEXT
    document["id"] = subscription_id(topic, info.id)
    document["type"] = "Subscription"
    document["subscriber"] = info.id
    document["topic"] = topic
    document["active"] = active
    if info.payload is not None:
        document["payload"] = info.payload
    return document


def subscription_updates(info: SubscriberInfo, *, active: bool) -> list[Update]:
    """The private updates announcing that ``info``'s subscriptions started or ended
    (1.0 documents under the reserved ``mercure`` event type for a 1.0 subscriber)."""
    if info.match_types is not None:
        return [
            Update(
                topics=(document["id"],),
                data=json.dumps(document, indent=2, ensure_ascii=False),
                private=True,
                type=MERCURE_EVENT_TYPE,
            )
            for document in v1_documents(info, active=active)
        ]
    updates = []
    for topic in info.topics:
        document = subscription_document(info, topic, active=active)
        updates.append(
            Update(
                topics=(document["id"],),
                data=json.dumps(document, indent=2, ensure_ascii=False),
                private=True,
            )
        )
    return updates


def path_escape(value: str) -> str:
    """``value`` percent-encoded once, as a whole, as RFC 6570 expands a simple variable:
    every character but ASCII letters, digits and ``-._~`` (``%`` included)."""
    return quote(value, safe="")


def v1_subscription_id(match_type: str, match: str, subscriber_id: str) -> str:
    """The 1.0 IRI (and event topic) of ``subscriber_id``'s subscription to a matcher."""
    return f"{SUBSCRIPTIONS_PATH}/{match_type}/{path_escape(match)}/{path_escape(subscriber_id)}"


def v1_documents(info: SubscriberInfo, *, active: bool = True) -> list[dict[str, Any]]:
    """The 1.0 documents of ``info``'s subscriptions (plain JSON, no context)."""
    documents = []
    match_types = info.match_types or ()
    payloads = info.payloads or ()
    for index, (match_type, match) in enumerate(zip(match_types, info.topics, strict=False)):
        document: dict[str, Any] = {
            "id": v1_subscription_id(match_type, match, info.id),
            "type": "subscription",
            "match_type": match_type,
            "match": match,
            "subscriber": info.id,
            "active": active,
        }
        payload = payloads[index] if index < len(payloads) else None
        if payload is not None:
            document["payload"] = payload
        documents.append(document)
    return documents


def v1_collection(
    path: str,
    subscribers: Iterable[SubscriberInfo],
    match_type: str | None = None,
    match: str | None = None,
) -> dict[str, Any]:
    """The 1.0 ``subscriptions`` collection at ``path``, optionally of one matcher."""
    subscriptions = [
        document
        for info in subscribers
        if info.match_types is not None
        for document in v1_documents(info)
        if match_type is None or (document["match_type"], document["match"]) == (match_type, match)
    ]
    return {"id": path, "type": "subscriptions", "subscriptions": subscriptions}


def v1_find(
    subscribers: Iterable[SubscriberInfo], match_type: str, match: str, subscriber_id: str
) -> dict[str, Any] | None:
    """The 1.0 document of one subscription, or ``None``."""
    for info in subscribers:
        if info.id == subscriber_id and info.match_types is not None:
            for document in v1_documents(info):
                if (document["match_type"], document["match"]) == (match_type, match):
                    return document
    return None


def collection_document(
    path: str,
    last_event_id: str,
    subscribers: Iterable[SubscriberInfo],
    topic: str | None = None,
) -> dict[str, Any]:
    """The ``Subscriptions`` collection at ``path``, optionally limited to one ``topic``:
    0.x subscribers only (1.0 ones are listed by :func:`v1_collection`)."""
    subscriptions = [
        subscription_document(info, selector, context=False)
        for info in subscribers
        if info.match_types is None
        for selector in info.topics
        if topic is None or selector == topic
    ]
    return {
        "@context": JSONLD_CONTEXT,
        "id": path,
        "type": "Subscriptions",
        "lastEventID": last_event_id,
        "subscriptions": subscriptions,
    }


def find_subscription(
    subscribers: Iterable[SubscriberInfo], topic: str, subscriber_id: str
) -> dict[str, Any] | None:
    """The document of 0.x subscriber ``subscriber_id``'s subscription to ``topic``, or
    ``None``."""
    for info in subscribers:
        if info.id == subscriber_id and info.match_types is None and topic in info.topics:
            return subscription_document(info, topic)
    return None
