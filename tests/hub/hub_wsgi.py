"""A WSGI app carrying only the hub, configured from the environment, for gunicorn:
``gunicorn -c gunicorn.conf.py tests.hub.hub_wsgi:app`` (the hub used as a library)."""

from gevent import monkey

monkey.patch_all()

from flask import Flask  # noqa: E402

from app.hub import HubSettings, init_app  # noqa: E402

app = Flask("hub_only")
init_app(app, HubSettings.from_env())
