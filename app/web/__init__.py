"""The live page served at ``/`` (placeholder)."""

from __future__ import annotations

from flask import Flask

from app.config.spec import ResourcesSpec


def init_app(app: Flask, spec: ResourcesSpec) -> None:
    """Serve the live page."""
