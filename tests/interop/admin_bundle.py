"""API Platform Admin built with Vite from the npm packages (``tests/interop/admin``), once.

The build (about 20 seconds) is kept under ``tests/interop/.cache/admin-<key>/``, where
the key is a hash of the lockfile and the page's sources: a run with the same lockfile
and sources reuses it; any change builds anew (older builds are removed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from tests.interop.clients import HERE, require_node

SOURCES = HERE / "admin"
CACHE = HERE / ".cache"
BUILD_TIMEOUT = 300


def bundle_key() -> str:
    """A hash of what the bundle is built from: the lockfile and the page's files."""
    digest = hashlib.sha256()
    for path in [HERE / "package-lock.json", *sorted(SOURCES.iterdir())]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def admin_bundle() -> Path:
    """The directory of the built Admin page (``index.html`` and ``assets/``)."""
    node = require_node("@api-platform/admin")
    target = CACHE / f"admin-{bundle_key()}"
    if (target / "index.html").is_file():
        return target
    CACHE.mkdir(exist_ok=True)
    building = CACHE / f"building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    vite = HERE / "node_modules" / "vite" / "bin" / "vite.js"
    result = subprocess.run(
        [node, str(vite), "build", "--config", str(SOURCES / "vite.config.js")],
        cwd=HERE,
        env={**os.environ, "ADMIN_OUT_DIR": str(building)},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if result.returncode != 0 or not (building / "index.html").is_file():
        shutil.rmtree(building, ignore_errors=True)
        raise RuntimeError(f"the Admin build failed:\n{result.stdout}\n{result.stderr}")
    for old in CACHE.glob("admin-*"):
        shutil.rmtree(old, ignore_errors=True)
    building.rename(target)
    return target
