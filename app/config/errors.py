"""Errors raised for a broken resources file."""

from __future__ import annotations


class ConfigError(Exception):
    """``resources.yaml`` is unusable; the message names file, line, dotted key and fix."""
