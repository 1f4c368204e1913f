"""A store read over the network (Redis) may fail in the middle of any key press: the
app says so and goes on, never a crash screen.

Handlers that read or write the store carry `@reads_store`; a `StateError` they raise
becomes one notice (the same one at most every few seconds, however fast the keys come).
"""

from __future__ import annotations

import functools
import inspect
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

from textual.app import App

from tui.state import StateError

REPEAT_SECONDS = 5.0
"""How long the same notice is not given again."""

_said: weakref.WeakKeyDictionary[App[Any], tuple[str, float]] = weakref.WeakKeyDictionary()

Handler = TypeVar("Handler", bound=Callable[..., Any])


def say_store_error(app: App[Any], error: StateError) -> None:
    """Tell of a store that failed, once for a while."""
    message = str(error)
    now = time.monotonic()
    last = _said.get(app)
    if last is not None and last[0] == message and now - last[1] < REPEAT_SECONDS:
        return
    _said[app] = (message, now)
    app.notify(message, title="Store not read", severity="error", timeout=10, markup=False)


def reads_store(handler: Handler) -> Handler:
    """Decorate a method of a widget, a screen, or a helper of one with an `app`: a
    StateError it raises is said."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def guarded_async(node: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(node, *args, **kwargs)
            except StateError as error:
                say_store_error(node.app, error)
                return None

        return cast(Handler, guarded_async)

    @functools.wraps(handler)
    def guarded(node: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(node, *args, **kwargs)
        except StateError as error:
            say_store_error(node.app, error)
            return None

    return cast(Handler, guarded)
