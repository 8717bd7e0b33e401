"""The application class answers Flask's ``ensure_sync`` once per function."""

from __future__ import annotations

import pytest

from app.application import Application


class Handler:
    def now(self) -> int:
        return 1

    async def later(self) -> int:
        return 2


def test_a_plain_method_is_returned_as_it_is_for_every_instance() -> None:
    app = Application(__name__)
    first, second = Handler(), Handler()
    for handler in (first, second, first):
        method = handler.now
        assert app.ensure_sync(method) is method
        assert app.ensure_sync(method)() == 1


def test_a_coroutine_method_still_goes_through_flask() -> None:
    """Flask runs a coroutine with asgiref, an extra the gateway does not install: it says
    so, each time, rather than returning the coroutine function as if it were plain."""
    app = Application(__name__)
    handler = Handler()
    for _ in range(2):
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(handler.later)
