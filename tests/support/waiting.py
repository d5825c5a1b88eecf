"""Waiting, in tests, for something another thread or process does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether ``condition`` came true within ``timeout`` seconds (asked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


async def eventually(condition: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> bool:
    """``wait_for`` for a condition asked on the event loop (a request through the API, say)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.02)
    return await condition()
