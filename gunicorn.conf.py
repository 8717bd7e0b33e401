"""gunicorn settings: gevent workers holding many long-lived SSE connections.

HOST, PORT, WEB_CONCURRENCY (workers), WORKER_CONNECTIONS and GRACEFUL_TIMEOUT override
the defaults. The in-memory hub needs exactly one worker; use MERCURE_TRANSPORT_URL with
Redis to run several (see README, "Deployment").
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gevent"
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "20000"))
# SSE streams are long-lived; the worker heartbeat is independent of request length.
timeout = 30
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))
keepalive = 5
accesslog = "-"
errorlog = "-"
