"""Callbacks: overridable methods of the job class plus functions registered from outside.

Each event has a method on :class:`~q4m_fast.Job` (``on_error``, ``before_execute``, ...) and a
list of functions added with ``job.on(event, fn)``; functions get the job first, then the same
arguments as the method. A callback that raises is logged and does not stop the worker, except
``before_execute``, whose failure counts as the job's (the row goes back).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

__all__ = ["EVENTS", "Hooks"]

# event -> the method of Job that handles it
EVENTS: dict[str, str] = {
    "start": "on_start",  # work() begins
    "stop": "on_stop",  # work() ends
    "before_execute": "before_execute",  # (row)
    "after_execute": "after_execute",  # (row, duration): after every execute, whatever happened
    "success": "on_success",  # (row, duration)
    "abort": "on_abort",  # (row, duration): execute called queue_abort()
    "error": "on_error",  # (row, exception, duration): execute raised; the row went back
    "idle": "on_idle",  # (): a wait ended without a job
    "reconnect": "on_reconnect",  # (exception): the connection was lost and is reopened
}


class Hooks:
    def __init__(self, owner: Any, logger: logging.Logger, base: type | None = None) -> None:
        self._owner = owner
        self._logger = logger
        self._functions: dict[str, list[Callable[..., Any]]] = {event: [] for event in EVENTS}
        # Events whose method the owner's class overrides (all of them without a `base`):
        # emit() skips the base class's empty methods, which is most calls in a job loop.
        self._overridden = {
            event
            for event, method in EVENTS.items()
            if base is None or getattr(type(owner), method) is not getattr(base, method)
        }

    def add(self, event: str, function: Callable[..., Any]) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; events are {', '.join(EVENTS)}")
        if not callable(function):
            raise TypeError(f"a callback must be callable, not {type(function).__name__}")
        self._functions[event].append(function)

    def emit(self, event: str, *args: Any, propagate: bool = False) -> None:
        if event in self._overridden:
            self._call(getattr(self._owner, EVENTS[event]), event, args, propagate)
        for function in self._functions[event]:
            self._call(function, event, (self._owner, *args), propagate)

    def _call(
        self, callback: Callable[..., Any], event: str, args: tuple[Any, ...], propagate: bool
    ) -> None:
        try:
            callback(*args)
        except Exception:
            if propagate:
                raise
            self._logger.exception("%s callback %r raised; ignored", event, callback)
