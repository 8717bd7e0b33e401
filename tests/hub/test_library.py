"""The hub is usable as a library: importing it loads none of the gateway's other packages."""

from __future__ import annotations

import json
import subprocess
import sys

GATEWAY_PACKAGES = ("app.api", "app.models", "app.schemas", "app.config", "app.publish")

PROBE = """
import json, sys
from app.hub import Hub, HubSettings, Update, init_app
from app.hub.http import create_blueprint
print(json.dumps(sorted(m for m in sys.modules if m == "app" or m.startswith("app."))))
"""


def test_importing_the_hub_loads_no_gateway_package() -> None:
    # A fresh interpreter: this test process has already imported the whole gateway.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout)
    assert "app.hub" in loaded
    assert "app.hub.http" in loaded
    gateway = [
        module
        for module in loaded
        if any(module == name or module.startswith(name + ".") for name in GATEWAY_PACKAGES)
    ]
    assert gateway == []


def test_the_package_still_offers_the_factory() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from app import STARTUP_ERRORS, create_app; print(len(STARTUP_ERRORS))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert int(result.stdout) > 0
