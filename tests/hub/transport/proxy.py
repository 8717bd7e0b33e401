"""A TCP proxy the tests can freeze: what it has read from the server waits, unsent,
until it thaws, and :meth:`FreezableProxy.cut` drops it with every connection, as a
server that crashes drops the replies still in flight."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import gevent
from gevent.event import Event
from gevent.server import StreamServer

from tests.services import free_port


class FreezableProxy:
    """Forwards loopback connections on :attr:`port` to ``upstream_port``."""

    def __init__(self, upstream_port: int) -> None:
        self.port = free_port()
        self._upstream_port = upstream_port
        self._flowing = Event()
        self._flowing.set()
        self._sockets: list[socket.socket] = []
        self._server = StreamServer(("127.0.0.1", self.port), self._handle)

    def freeze(self) -> None:
        """Hold every reply the server sends from now on."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        """Close every connection, dropping the replies held."""
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()

    def _handle(self, client: socket.socket, _address: object) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
        except OSError:
            client.close()
            return
        self._sockets += [client, upstream]
        pumps = [
            gevent.spawn(self._pump, client, upstream, gated=False),
            gevent.spawn(self._pump, upstream, client, gated=True),
        ]
        gevent.joinall(pumps, count=1)
        for sock in (client, upstream):
            sock.close()
        gevent.killall(pumps)

    def _pump(self, source: socket.socket, target: socket.socket, *, gated: bool) -> None:
        try:
            while data := source.recv(65536):
                if gated:
                    self._flowing.wait()
                target.sendall(data)
        except OSError:
            return

    @contextmanager
    def running(self) -> Iterator[FreezableProxy]:
        self._server.start()
        try:
            yield self
        finally:
            self._server.stop(timeout=1)
            self.cut()
