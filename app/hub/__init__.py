"""The built-in Mercure hub (placeholder)."""

from __future__ import annotations

from flask import Flask

from app.hub.settings import HubSettings


class Hub:
    """Placeholder hub."""


def init_app(app: Flask, settings: HubSettings) -> Hub:
    """Mount the hub on ``app``."""
    return Hub()
