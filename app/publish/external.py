"""Delivering updates to an external Mercure hub over HTTP, as a standard publisher.

:class:`HttpDeliverer` ``POST``\\ s one update: form fields ``topic`` (repeated), ``data``,
``private``, ``id``, ``type``, ``retry``; ``Authorization: Bearer <MERCURE_JWT_TOKEN>``,
the same form in both protocols (``MERCURE_PROTOCOL_VERSION`` only decides which token the
hub is sent; a 1.0 hub answers ``403`` to a topic the token does not grant, and ``400`` to
the reserved type ``mercure``: both are rejections).
The outbox relay (:mod:`app.publish.relay`) calls it for every row, oldest first, and
retries what fails. Outcomes:

- ``200``: delivered;
- a connection error, a timeout, ``401`` (token not accepted yet), ``404``, ``408``,
  ``429``, any ``5xx`` or any other unexpected answer: :class:`Unavailable` (retried after
  a backoff; later updates wait, so the hub receives updates in commit order);
- any other ``4xx`` (the hub refuses this update for good: bad field, forbidden topic):
  :class:`Rejected`.

The update id is fixed when its outbox row is written, so a retry after a lost ``200``
(the only case where a hub can receive an update twice) carries the same id.
"""

from __future__ import annotations

import httpx

from app.hub.update import Update
from app.publish.relay import Rejected, Unavailable
from app.publish.settings import ExternalHub

__all__ = ["HttpDeliverer", "form"]

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


class HttpDeliverer:
    """Publishes to ``hub`` with one attempt per call, bounded by ``timeout`` seconds."""

    def __init__(self, hub: ExternalHub, timeout: float) -> None:
        self.hub = hub
        self._client = httpx.Client(
            timeout=timeout, headers={"Authorization": f"Bearer {hub.jwt_token}"}
        )

    def deliver(self, update: Update) -> None:
        try:
            response = self._client.post(self.hub.publish_url, data=form(update))
        except httpx.HTTPError as error:
            raise Unavailable(
                f"{type(error).__name__} at {self.hub.publish_url}: {error}"
            ) from None
        if response.status_code == 200:
            return
        reason = f"HTTP {response.status_code}: {response.text[:200].strip()}"
        status = response.status_code
        if 400 <= status < 500 and status not in _RETRIED_CLIENT_ERRORS:
            raise Rejected(reason)
        raise Unavailable(f"{reason} at {self.hub.publish_url}")

    def close(self) -> None:
        self._client.close()
