"""Serve one of the two apps under test: ``python -m bench.rest.serve KIND DATABASE``.

``KIND`` is ``generic`` (the gateway from :func:`app.create_app` with the shipped
``resources.yaml``) or ``handwritten`` (:mod:`bench.rest.handwritten`). Both run on the
same server: one gevent ``pywsgi`` server, patched and with the garbage collector tuned as
``wsgi.py`` does for production workers, in its own process pinned to one CPU. Prints
``PORT <n>`` once it listens, then serves until SIGTERM arrives or its parent exits.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import jwt  # noqa: E402
from flask import Flask  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from app.runtime import tune_garbage_collector  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources.yaml"
USER_KEY = "bench-only-users-key-of-at-least-32-bytes"
ADMIN_TOKEN = jwt.encode({"sub": "bench", "roles": ["admin"]}, USER_KEY, algorithm="HS256")
"""A bearer token of an administrator, who may write books under the shipped rules."""


def build(kind: str, database: Path, mercure: bool = True) -> Flask:
    """The app under test, over the SQLite file ``database``."""
    url = f"sqlite:///{database}"
    if kind == "handwritten":
        from bench.rest.handwritten import create_handwritten_app

        return create_handwritten_app(url, mercure=mercure)
    from app import create_app
    from app.config import load_resources
    from app.settings import Settings

    spec = load_resources(RESOURCES)
    if not mercure:
        import dataclasses

        from app.config.spec import MercureSpec

        spec = dataclasses.replace(
            spec,
            resources=tuple(
                dataclasses.replace(r, mercure=MercureSpec(enabled=False)) for r in spec.resources
            ),
        )
    # A throw-away hub key (the development default would only add a warning) and the
    # users' key the load generator's administrator token is signed with: the shipped
    # security rules are judged on every request.
    environ = {"MERCURE_JWT_KEY": secrets.token_urlsafe(32), "AUTH_JWT_KEY": USER_KEY}
    settings = Settings(database_url=url, resources_path=RESOURCES)
    return create_app(settings, spec=spec, environ=environ)


def listener() -> socket.socket:
    """A loopback listening socket whose connections have ``TCP_NODELAY`` (inherited).

    pywsgi writes a response's headers and body in two sends; without ``TCP_NODELAY``
    Nagle's algorithm holds the body until the client's delayed ACK (about 40 ms per
    keep-alive request). gunicorn sets the same option on its listeners.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["generic", "handwritten"])
    parser.add_argument("database", type=Path)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    parser.add_argument(
        "--no-mercure",
        action="store_true",
        help="no Mercure: nothing published, no Mercure discovery Link",
    )
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    application = build(args.kind, args.database, mercure=not args.no_mercure)
    # The collector tuning wsgi.py gives every gateway worker, given to both apps alike so
    # that the comparison is of the apps' code, not of their processes' settings.
    tune_garbage_collector()
    server = WSGIServer(listener(), application, log=None, error_log=sys.stderr)
    server.start()
    print(f"PORT {server.server_port}", flush=True)

    parent = os.getppid()

    def orphaned() -> None:
        while os.getppid() == parent:
            gevent.sleep(1)
        server.stop(timeout=1)

    gevent.signal_handler(signal.SIGTERM, lambda: server.stop(timeout=1))
    gevent.spawn(orphaned)
    server.serve_forever()


if __name__ == "__main__":
    main()
