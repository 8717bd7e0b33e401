"""The closest Python peer, flask-mercure-sse 0.4.1, in a virtualenv of its own.

It is never a dependency of the gateway: :func:`peer_python` returns an interpreter that
can import it, in this order: ``BENCH_PEER_PYTHON`` when set; the running interpreter when
it already has the package; a cached virtualenv under ``$XDG_CACHE_HOME`` (default
``~/.cache``) ``/mercure-gateway-bench/peer-venv``, created on first use with
``pip install flask-mercure-sse==0.4.1`` unless ``install`` is false. ``None`` means the peer
cannot be measured here (it does not install, or installing was not allowed); the reason is
returned beside it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from pathlib import Path

PEER_REQUIREMENT = "flask-mercure-sse==0.4.1"


def cache_root() -> Path:
    """The benchmarks' cache directory: ``$XDG_CACHE_HOME`` (default ``~/.cache``)
    ``/mercure-gateway-bench``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mercure-gateway-bench"


def cache_dir() -> Path:
    return cache_root() / "peer-venv"


def _has_peer(python: str) -> bool:
    probe = subprocess.run(
        [python, "-c", "import flask_mercure_sse, gevent"], capture_output=True, check=False
    )
    return probe.returncode == 0


def peer_python(*, install: bool = True) -> tuple[str | None, str]:
    """Return ``(interpreter or None, how it was found or why it is missing)``."""
    configured = os.environ.get("BENCH_PEER_PYTHON")
    if configured:
        if _has_peer(configured):
            return configured, f"BENCH_PEER_PYTHON={configured}"
        return None, f"BENCH_PEER_PYTHON={configured} cannot import flask_mercure_sse"
    if importlib.util.find_spec("flask_mercure_sse") is not None:
        return sys.executable, "the running interpreter"
    target = cache_dir()
    python = target / "bin" / "python"
    if python.exists() and _has_peer(str(python)):
        return str(python), f"cached virtualenv {target}"
    if not install:
        return None, f"{PEER_REQUIREMENT} is not installed (quick mode does not install it)"
    print(f"installing {PEER_REQUIREMENT} into {target} (once)...", file=sys.stderr)
    venv.create(target, with_pip=True, clear=True)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", PEER_REQUIREMENT],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not _has_peer(str(python)):
        return None, f"{PEER_REQUIREMENT} does not install: {result.stderr.strip()[-300:]}"
    return str(python), f"virtualenv {target}"
