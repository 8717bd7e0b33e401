"""Root fixtures shared by every test package.

The test process is patched by gevent before anything else is imported, exactly as
``wsgi.py`` patches production workers, so that a real gevent server can run on a
loopback port inside the test process while blocking clients (httpx, psycopg, redis)
yield to it cooperatively.
"""

from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402

import gevent  # noqa: E402
import pytest  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from tests.services import LiveServer  # noqa: E402


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    """Start WSGI apps on real gevent servers bound to free loopback ports.

    ``serve(app)`` returns a :class:`LiveServer` whose ``url`` is ``http://127.0.0.1:PORT``;
    every server started is stopped when the test ends.
    """
    servers: list[WSGIServer] = []

    def start(wsgi_app: object, port: int = 0) -> LiveServer:
        # As gunicorn does: TCP_NODELAY on the listener (inherited by accepted sockets),
        # so a response's separate writes are not held back by Nagle's algorithm.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(1024)
        server = WSGIServer(listener, wsgi_app, log=None, error_log=None)
        server.start()
        servers.append(server)
        gevent.sleep(0)
        return LiveServer(server)

    yield start
    for server in servers:
        server.stop(timeout=1)
