"""Capped exponential backoff with jitter, for reconnecting.

Jitter matters: after a server restart every worker of a fleet reconnects, and without it they all
retry in the same instant, again and again.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    def __init__(self, initial: float = 0.1, cap: float = 10.0) -> None:
        self.initial = initial
        self.cap = cap
        self.attempts = 0

    def next_delay(self) -> float:
        """Between half and all of ``min(cap, initial * 2**attempts)`` ("equal jitter")."""
        ceiling = min(self.cap, self.initial * 2.0 ** min(self.attempts, 32))
        self.attempts += 1
        return ceiling / 2 + random.random() * ceiling / 2

    def reset(self) -> None:
        self.attempts = 0
