"""A future whose waiting task resumes in the call that settles it, not in a later turn of the loop.

An ``asyncio.Future`` wakes the task awaiting it through ``loop.call_soon``: the task goes on in
the event loop's *next* turn, after every other callback already ready. Under load a turn runs
every ready request (tens of milliseconds in the closed-loop mix), so each such wake-up is a turn
of latency. A post is told its batch is on disk (``group_commit.py``) in the turn that hears of
the commit, and woke only in the turn after: counted in-process, its 3 turns at p50 and 5 at
p90, where reads take one — the mix's p99 is its posts' turns.

``PromptFuture`` is what a task may await in place of a future (the duck-typed protocol asyncio's
``Task`` speaks: ``_asyncio_future_blocking``, ``add_done_callback``, ``result``, ``cancel``,
``get_loop``), with one difference: ``set_result`` and ``set_exception`` run the waiter's wake-up
at once, so the task goes on inside the settling call — when that call is a plain callback of the
loop (no task running: a task cannot step inside another). Otherwise, and for a cancellation,
the wake-up is scheduled as asyncio's futures do.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_Callback = Callable[["PromptFuture[Any]"], object]

_PENDING, _DONE, _CANCELLED = 0, 1, 2


class PromptFuture(Generic[T]):
    # Read by ``asyncio.Task`` (and ``asyncio.isfuture``): set while a task awaits this.
    _asyncio_future_blocking = False

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._state = _PENDING
        self._result: T | None = None
        self._exception: BaseException | None = None
        self._callbacks: list[tuple[_Callback, contextvars.Context | None]] = []

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def done(self) -> bool:
        return self._state != _PENDING

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def result(self) -> T:
        if self._state == _CANCELLED:
            raise asyncio.CancelledError
        if self._state == _PENDING:
            raise asyncio.InvalidStateError("result is not set")
        if self._exception is not None:
            raise self._exception.with_traceback(self._exception.__traceback__)
        return self._result  # type: ignore[return-value]

    def exception(self) -> BaseException | None:
        if self._state == _CANCELLED:
            raise asyncio.CancelledError
        if self._state == _PENDING:
            raise asyncio.InvalidStateError("exception is not set")
        return self._exception

    def add_done_callback(self, fn: _Callback, *, context: contextvars.Context | None = None) -> None:
        if self._state != _PENDING:
            self._loop.call_soon(fn, self, context=context)
        else:
            self._callbacks.append((fn, context))

    def remove_done_callback(self, fn: _Callback) -> int:
        kept = [(f, c) for f, c in self._callbacks if f != fn]
        removed, self._callbacks = len(self._callbacks) - len(kept), kept
        return removed

    def cancel(self, msg: object = None) -> bool:
        if self._state != _PENDING:
            return False
        self._state = _CANCELLED
        self._fire(prompt=False)  # asked from anywhere (a task's cancel): as asyncio does
        return True

    def set_result(self, result: T) -> None:
        if self._state != _PENDING:
            raise asyncio.InvalidStateError("already settled")
        self._result, self._state = result, _DONE
        self._fire(prompt=True)

    def set_exception(self, exception: BaseException) -> None:
        if self._state != _PENDING:
            raise asyncio.InvalidStateError("already settled")
        self._exception, self._state = exception, _DONE
        self._fire(prompt=True)

    def _fire(self, *, prompt: bool) -> None:
        callbacks, self._callbacks = self._callbacks, []
        # A task steps only when no other is stepping: inside one, its wake-up waits for a turn.
        now = prompt and asyncio.current_task(self._loop) is None
        for fn, context in callbacks:
            if now:
                if context is None:
                    fn(self)
                else:
                    context.run(fn, self)
            else:
                self._loop.call_soon(fn, self, context=context)

    def __await__(self) -> Generator[Any, None, T]:
        if self._state == _PENDING:
            self._asyncio_future_blocking = True
            yield self
        if self._state == _PENDING:
            raise RuntimeError("await wasn't used with future")
        return self.result()

    __iter__ = __await__
