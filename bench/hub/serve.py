"""Serve one fan-out server under test in this process: ``python -m bench.hub.serve KIND PORT``.

Every kind runs on the same server set-up, as gunicorn's gevent worker does it: gevent's
pywsgi in one process, a listening socket with ``TCP_NODELAY`` (small SSE frames must not
wait for delayed ACKs) and a deep backlog for 10,000 connections. Kinds:

* ``floor``: the raw floor of :mod:`bench.hub.floor` (raw sockets, no WSGI server);
* ``bare``: the naive baseline of :mod:`bench.hub.bare`;
* ``hub``: this project's built-in hub, mounted on a bare Flask app (the gateway as
  deployed, under gunicorn, is started by :mod:`bench.hub.gateway`);
* ``peer``: flask-mercure-sse's built-in hub (its own interpreter, see :mod:`bench.hub.peer`).

Prints ``ready`` on stdout once listening. Publisher and subscriber keys come from
``BENCH_JWT_KEY``.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

JWT_KEY_VARIABLE = "BENCH_JWT_KEY"


def bare_app() -> Callable[..., object]:
    from bench.hub.bare import application

    return application


def hub_app() -> Callable[..., object]:
    from flask import Flask

    from app import hub
    from app.hub.settings import HubSettings

    key = os.environ[JWT_KEY_VARIABLE]
    flask_app = Flask("bench_hub")
    hub.init_app(
        flask_app,
        HubSettings.from_env(
            {
                "MERCURE_PUBLISHER_JWT_KEY": key,
                "MERCURE_SUBSCRIBER_JWT_KEY": key,
                "MERCURE_PUBLISHER_JWT_ALG": "HS256",
                "MERCURE_SUBSCRIBER_JWT_ALG": "HS256",
            }
        ),
    )
    # As wsgi.py does for every gateway worker (the baselines run with Python's defaults).
    from app.runtime import tune_garbage_collector

    tune_garbage_collector()
    return flask_app


def peer_app() -> Callable[..., object]:
    from flask_mercure_sse.server.app import create_app

    key = os.environ[JWT_KEY_VARIABLE]
    return create_app(publisher_secret=key, subscriber_secret=key, subscriptions=False)


KINDS: dict[str, Callable[[], Callable[..., object]]] = {
    "bare": bare_app,
    "hub": hub_app,
    "peer": peer_app,
}


def listener(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    return sock


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if kind == "floor":
        from bench.hub.floor import handle

        server: StreamServer = StreamServer(listener(port), handle)
    else:
        application = KINDS[kind]()
        server = WSGIServer(listener(port), application, log=None, error_log=None)
    server.start()
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
