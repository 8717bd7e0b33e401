"""gunicorn settings: gevent workers holding many long-lived SSE connections.

Metrics: every master gets a fresh directory for prometheus_client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, created under ``METRICS_DIR`` when set, else under the
system's temporary directory, and removed when the master exits), so a scrape sums the
values of every worker; a worker's live gauges go when it exits. ``METRICS_ADDRESS``
(``HOST:PORT``) is bound beside the public address: the app answers ``/metrics`` (and the
probes) there, and only there unless ``METRICS_TOKEN`` is set (see docs/observability.md).
``LOG_FORMAT=json`` writes gunicorn's own log and access lines as JSON objects as well.

HOST, PORT, WEB_CONCURRENCY (workers), WORKER_CONNECTIONS, GRACEFUL_TIMEOUT and
LIMIT_REQUEST_LINE override the defaults (declared in app/environment.py's table, whose
defaults a test compares with these; this file reads them before any of app is imported).
Several workers need a transport shared between processes
(``MERCURE_TRANSPORT_URL=redis://...``); with the in-process ``memory://`` or ``sqlite://``
transports gunicorn refuses to start more than one worker (see docs/deployment.md).
"""

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from urllib.parse import urlsplit

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# A private listener for Prometheus and probes: the app serves only those there.
metrics_address = os.environ.get("METRICS_ADDRESS", "").strip()
if metrics_address:
    bind = [bind, metrics_address]
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
# gunicorn's gevent worker, serving the connections it accepted just before a stop.
worker_class = "app.worker.GeventWorker"
# Each open SSE stream holds one connection (and one file descriptor) for its lifetime.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "20000"))
# SSE streams are long-lived; the worker heartbeat is independent of request length.
timeout = 30
# On reload or shutdown, open SSE streams are closed at once (post_worker_init below):
# clients reconnect with Last-Event-ID and a durable transport replays what they missed.
# Other requests get this long to finish.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))
keepalive = 5
# The longest request line (method, URL with its query string, version), in bytes. A
# subscribe URL carries one `topic` parameter per selector and the hub accepts up to 1000
# of them, but gunicorn's default of 4094 answers 414 from about 90 URL topics on. 8190
# is the largest bounded value gunicorn takes: about 8 KB of URL, 1000 one-letter topics
# or 150 to 200 full URLs. 0 would mean unlimited and is not safe on its own: with
# gunicorn's pure-Python parser (no gunicorn_h1c), a client that never ends its request
# line grows the worker's buffer without bound; the hub's topic cap only applies once
# the line is read. Set LIMIT_REQUEST_LINE=0 only behind a proxy that bounds the line
# itself, such as deploy/nginx.conf (large_client_header_buffers 64k: 1000 URL topics).
limit_request_line = int(os.environ.get("LIMIT_REQUEST_LINE", "8190"))
accesslog = "-"
errorlog = "-"
# The response's X-Request-Id is the id the gateway's own log lines carry.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    from gunicorn.glogging import Logger as _TextLogger
    from pythonjsonlogger.json import JsonFormatter

    def _json_formatter() -> logging.Formatter:
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    class JsonLogger(_TextLogger):  # type: ignore[misc]
        """gunicorn's own log and access lines as JSON objects, and everything else
        logged (Python's warnings included) through one JSON handler on the root logger.
        gunicorn's handlers are kept and given a JSON formatter (replacing them through
        ``logconfig_dict`` leaves handlers behind that fail at interpreter exit)."""

        def setup(self, cfg):  # type: ignore[no-untyped-def]
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(_json_formatter())
            root = logging.getLogger()
            if not any(getattr(h, "json_lines", False) for h in root.handlers):
                handler = logging.StreamHandler(sys.stderr)
                handler.setFormatter(_json_formatter())
                handler.json_lines = True  # the app adds the request id to it
                root.addHandler(handler)
            logging.captureWarnings(True)
            sys.unraisablehook = _unraisable_as_json

    def _unraisable_as_json(  # type: ignore[no-untyped-def]
        unraisable,
        _dumps=json.dumps,
        _stderr=sys.stderr,
        _now=time.time,
        _strftime=time.strftime,
        _localtime=time.localtime,
    ):
        """Python's "Exception ignored in ..." reports (some come at interpreter exit,
        when logging no longer works) as one JSON line too; bound early for that."""
        try:
            message = (
                f"exception ignored in {unraisable.object!r}: "
                f"{unraisable.exc_type.__name__}: {unraisable.exc_value}"
            )
            now = _now()
            stamp = f"{_strftime('%Y-%m-%d %H:%M:%S', _localtime(now))},{int(now % 1 * 1000):03d}"
            record = {"time": stamp, "level": "ERROR", "logger": "python", "message": message}
            _stderr.write(_dumps(record))
            _stderr.write("\n")
        except Exception:  # nothing more can be done at that point
            pass

    logger_class = JsonLogger
# The app starts greenlets and opens transport connections: build it in each worker.
preload_app = False
# gunicorn's control socket lives at one path per user: two gateways would fight over it.
control_socket_disable = True

# Transports shared between processes; every other one allows a single worker.
SHARED_TRANSPORT_SCHEMES = frozenset({"redis", "rediss"})


def transport_refusal(workers: int, transport_url: str | None) -> str | None:
    """Why ``workers`` workers cannot run with ``transport_url`` (None when they can)."""
    if workers <= 1:
        return None
    url = (transport_url or "").strip() or "memory://"
    scheme = urlsplit(url).scheme.lower()
    if scheme in SHARED_TRANSPORT_SCHEMES:
        return None
    return (
        f"refusing to start {workers} workers with MERCURE_TRANSPORT_URL={url!r}: the "
        f"{scheme}:// transport delivers updates only inside the process that published "
        "them, so subscribers connected to one worker would miss updates published "
        "through another. Set MERCURE_TRANSPORT_URL=redis://HOST:6379/0 to share updates "
        "between workers, or run one worker (WEB_CONCURRENCY=1, gunicorn -w 1)."
    )


def on_starting(server):  # type: ignore[no-untyped-def]
    """Refuse several workers with a process-local transport, before any worker starts;
    give this master a fresh metrics directory, which the workers inherit."""
    refusal = transport_refusal(server.cfg.workers, os.environ.get("MERCURE_TRANSPORT_URL"))
    if refusal is not None:
        server.log.error(refusal)
        sys.exit(1)
    if metrics_enabled():
        # METRICS_DIR, if set, is the parent of each master's own directory.
        parent = os.environ.get("METRICS_DIR", "").strip()
        if parent:
            os.makedirs(parent, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
            prefix=f"gateway-metrics-{os.getpid()}-", dir=parent or None
        )
        # prometheus_client picks its value class when imported, and the master may have
        # imported it already (loading the worker class imports the app): pick again, now
        # that the directory is set, so that the workers it forks write there.
        from prometheus_client import values

        values.ValueClass = values.get_value_class()


def metrics_enabled() -> bool:
    # As the app reads the METRICS flag: unset is on; 0, false, no, off (or empty) are off.
    raw = os.environ.get("METRICS")
    return raw is None or raw.strip().lower() not in {"0", "false", "no", "off", ""}


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A worker is gone: its live gauges (connected subscribers) go with it; its counters
    stay in the sums."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and metrics_enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, directory)


def on_exit(server):  # type: ignore[no-untyped-def]
    """Remove this master's metrics directory."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.path.basename(directory).startswith(f"gateway-metrics-{os.getpid()}-"):
        shutil.rmtree(directory, ignore_errors=True)


def nworkers_changed(server, new_value, old_value):  # type: ignore[no-untyped-def]
    """Refuse TTIN (adding workers at run time) the same way, by going back to one."""
    refusal = transport_refusal(new_value, os.environ.get("MERCURE_TRANSPORT_URL"))
    if refusal is not None and old_value is not None:
        server.log.error(refusal)
        server.num_workers = old_value


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """On a graceful stop (TERM, and for old workers on a HUP reload), drain the app at
    once: its streams end so that subscribers reconnect (to the new workers on a reload)
    with Last-Event-ID, while requests in flight, REST writes included, are still served
    and published until the worker exits (see app/lifecycle.py)."""
    import signal

    import gevent

    from app.lifecycle import drain

    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    stop = worker.handle_exit

    def handle_exit(sig, frame):  # type: ignore[no-untyped-def]
        stop(sig, frame)
        gevent.spawn(drain, app)  # outside the signal handler

    signal.signal(signal.SIGTERM, handle_exit)
    signal.siginterrupt(signal.SIGTERM, False)


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    """Stop the relays (rows not relayed stay in the outbox), then close the hub. The app
    would also close itself at the process's exit (app/lifecycle.py); this is earlier,
    and closing twice does nothing more."""
    from app.lifecycle import close

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        close(app)
