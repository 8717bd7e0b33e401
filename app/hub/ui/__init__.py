"""The hub's debug UI at ``/.well-known/mercure/ui/`` (placeholder)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Serve the debug UI."""
