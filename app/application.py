"""The gateway's Flask application class.

Flask asks, on every request and for every hook and view it calls, whether the function
is a coroutine function (:meth:`flask.Flask.ensure_sync`, which the Flask documentation
names as the method to override); with the gateway's hooks that is about ten
``inspect.iscoroutinefunction`` calls per request. :class:`Application` answers once per
function: hooks, views and error handlers are plain functions registered at start-up, or
methods of objects made at start-up (class-based views, extensions' teardowns), whose
answer is their function's.
"""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType, MethodType
from typing import Any

from flask import Flask

__all__ = ["Application"]

KNOWN_FUNCTIONS = 4096
"""Functions whose answer is kept: far more than an app registers at start-up, so that
functions made per request (``after_this_request``) cannot grow the table without end."""


class Application(Flask):
    """:class:`flask.Flask`, with :meth:`ensure_sync` answered once per plain function
    and once per method's function."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: dict[FunctionType, Callable[..., Any]] = {}
        self._plain_methods: dict[Callable[..., Any], bool] = {}
        """A method's function -> whether its bound methods are returned as they are."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if type(func) is MethodType:  # made anew on each access: known by its function
            function = func.__func__
            plain = self._plain_methods.get(function)
            if plain is None:
                plain = super().ensure_sync(func) is func
                if len(self._plain_methods) < KNOWN_FUNCTIONS:
                    self._plain_methods[function] = plain
            return func if plain else super().ensure_sync(func)
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        known = self._synchronous.get(func)
        if known is None:
            known = super().ensure_sync(func)
            if len(self._synchronous) < KNOWN_FUNCTIONS:
                self._synchronous[func] = known
        return known
