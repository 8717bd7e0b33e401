"""The gunicorn worker class: gunicorn's gevent worker, safe to stop under load.

gunicorn's gevent worker asks each new connection's listening socket for its name when
it starts reading the request. A graceful stop (``kill -HUP`` or ``SIGTERM``) closes the
listening sockets first; a connection accepted just before, whose handler has not run yet,
then fails with ``EBADF`` and its request is dropped without an answer. This worker reads
each listener's name once, before serving, so such a request is served like any other
while the worker drains.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.ggevent import GeventWorker as _GeventWorker  # type: ignore[import-untyped]

__all__ = ["GeventWorker"]


class _NamedListener:
    """A listening socket whose name outlives it."""

    def __init__(self, listener: Any, name: Any) -> None:
        self._listener = listener
        self._name = name

    def getsockname(self) -> Any:
        return self._name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._listener, attribute)


class GeventWorker(_GeventWorker):  # type: ignore[misc]
    """gunicorn's ``gevent`` worker, with listener names read before serving."""

    def run(self) -> None:
        self._named = {id(s): _NamedListener(s, s.getsockname()) for s in self.sockets}
        super().run()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        super().handle(self._named.get(id(listener), listener), client, addr)
