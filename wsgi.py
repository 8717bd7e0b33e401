"""WSGI entry point for gunicorn: ``gunicorn -c gunicorn.conf.py wsgi:app``.

gevent must patch the standard library before anything else imports sockets, threads or
the database drivers, so the patch is the first statement here. Once the app is built, the
garbage collector is tuned for a long-lived worker (see :mod:`app.runtime`).
"""

from gevent import monkey

monkey.patch_all()

from app import create_app  # noqa: E402
from app.runtime import tune_garbage_collector  # noqa: E402

app = create_app()
tune_garbage_collector()
