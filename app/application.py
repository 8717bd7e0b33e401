"""The gateway's Flask application class.

Flask asks, on every request and for every hook and view it calls, whether the function
is a coroutine function (:meth:`flask.Flask.ensure_sync`, which the Flask documentation
names as the method to override); with the gateway's hooks that is about ten
``inspect.iscoroutinefunction`` calls per request. :class:`Application` answers once per
function: hooks, views and error handlers are plain functions registered at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType
from typing import Any

from flask import Flask

__all__ = ["Application"]

KNOWN_FUNCTIONS = 4096
"""Functions whose answer is kept: far more than an app registers at start-up, so that
functions made per request (``after_this_request``) cannot grow the table without end."""


class Application(Flask):
    """:class:`flask.Flask`, with :meth:`ensure_sync` answered once per plain function."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: dict[FunctionType, Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if type(func) is not FunctionType:  # bound methods are made anew on each access
            return super().ensure_sync(func)
        known = self._synchronous.get(func)
        if known is None:
            known = super().ensure_sync(func)
            if len(self._synchronous) < KNOWN_FUNCTIONS:
                self._synchronous[func] = known
        return known
