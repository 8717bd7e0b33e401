"""OpenAPI document and Swagger UI built from the spec (placeholder)."""

from __future__ import annotations

from flask import Flask

from app.config.spec import ResourcesSpec


def init_app(app: Flask, spec: ResourcesSpec) -> None:
    """Serve ``/docs.json`` and ``/docs``."""
