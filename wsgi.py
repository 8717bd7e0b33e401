"""WSGI entry point for gunicorn: ``gunicorn -c gunicorn.conf.py wsgi:app``.

gevent must patch the standard library before anything else imports sockets, threads or
the database drivers, so the patch is the first statement here. Once the app is built, it
is served only if its database matches ``resources.yaml`` (see :mod:`app.models.drift`):
otherwise loading fails with the list of differences and the commands that fix them, and
gunicorn stops ("App failed to load") instead of answering requests with a schema the
models do not match. Then the garbage collector is tuned for a long-lived worker (see
:mod:`app.runtime`).
"""

from gevent import monkey

monkey.patch_all()

from gunicorn.errors import AppImportError  # noqa: E402

from app import create_app  # noqa: E402
from app.models import drift  # noqa: E402
from app.runtime import tune_garbage_collector  # noqa: E402
from app.settings import Settings  # noqa: E402

settings = Settings.from_env()
app = create_app(settings)
_refusal = drift.refusal(drift.check(app), production=settings.production)
if _refusal is not None:
    raise AppImportError(f"refusing to serve: {_refusal}")
tune_garbage_collector()
