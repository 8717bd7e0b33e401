"""A graceful stop of one gateway process: drain, then close.

gunicorn calls :func:`drain` when a worker is told to stop (``TERM``, and the old workers
of a ``HUP`` reload): the worker has stopped accepting connections, its open streams end so
that their clients reconnect (with ``Last-Event-ID``) to a worker that stays, and the
publishing relays hand their backlog over. Requests still in flight are served normally:
the hub keeps publishing, so a REST write accepted while draining still publishes.
:func:`close` runs once the worker serves nothing any more: the relays stop (rows not
relayed stay in the outbox for the next process), then the hub closes.

The app closes itself: :func:`create_app` calls :func:`register`, so a serving process
(gevent-patched, as ``wsgi.py`` and gunicorn's gevent workers are) that exits normally
closes every app it built and did not close, from :mod:`atexit`. gunicorn's
``worker_exit`` hook calls :func:`close` earlier; closing twice does nothing more.
"""

from __future__ import annotations

import atexit
import gc
import logging
import weakref

from flask import Flask
from gevent import monkey

from app.hub import EXTENSION_KEY as HUB_KEY
from app.hub import Hub
from app.publish import EXTENSION_KEY as PUBLISHER_KEY
from app.publish import Publisher

__all__ = ["close", "drain", "register"]

logger = logging.getLogger(__name__)

CLOSED_KEY = "gateway_closed"
"""``app.extensions`` key set once :func:`close` ran."""

_open: weakref.WeakSet[Flask] = weakref.WeakSet()
"""Apps built and not closed yet; an app dropped by its owner is forgotten with it."""


def register(app: Flask) -> None:
    """Close ``app`` when the process exits, unless it was closed before."""
    _open.add(app)


def drain(app: Flask) -> None:
    """Prepare ``app``'s process to stop; idempotent."""
    publisher: Publisher | None = app.extensions.get(PUBLISHER_KEY)
    hub: Hub | None = app.extensions.get(HUB_KEY)
    if publisher is not None:
        publisher.drain()
    if hub is not None:
        hub.drain()


def close(app: Flask) -> None:
    """Release ``app``'s background work and connections; idempotent."""
    _open.discard(app)
    if app.extensions.get(CLOSED_KEY):
        return
    app.extensions[CLOSED_KEY] = True
    publisher: Publisher | None = app.extensions.get(PUBLISHER_KEY)
    hub: Hub | None = app.extensions.get(HUB_KEY)
    if publisher is not None:
        publisher.close()
    if hub is not None:
        hub.close()


@atexit.register
def _close_open_apps() -> None:
    # Only where gevent patched the standard library (wsgi.py, gunicorn's gevent workers):
    # elsewhere (a flask command) a background greenlet would block the whole process in a
    # socket call while being stopped, and none has run anything worth closing.
    if not monkey.is_module_patched("socket"):
        return
    gc.collect()  # apps nobody holds any more are not closed: they opened nothing alive
    for app in list(_open):
        try:
            close(app)
        except Exception:  # one app's failure must not keep the others open
            logger.exception("closing the gateway at exit failed")
