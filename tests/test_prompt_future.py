"""``db/prompt.py``: a task awaiting a ``PromptFuture`` goes on inside the loop callback that
settles it (a group commit's writers answer in the turn that hears their commit), and otherwise
behaves as an asyncio future does — results, errors, cancellation — on asyncio's loop and on
uvloop (the server's)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from cordee.db.prompt import PromptFuture

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def run(loop_name: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop = LOOPS[loop_name]()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_the_waiting_task_goes_on_inside_the_callback_that_settles_it(loop_name: str) -> None:
    async def main() -> None:
        seen: list[str] = []
        future: PromptFuture[int] = PromptFuture()

        async def waiter() -> None:
            seen.append(f"got {await future}")

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)  # the task now waits on the future

        def settle() -> None:
            future.set_result(7)
            seen.append("settled")

        asyncio.get_running_loop().call_soon(settle)
        await task
        assert seen == ["got 7", "settled"]

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_settled_from_a_task_the_waiter_goes_on_in_a_later_turn(loop_name: str) -> None:
    async def main() -> None:
        seen: list[str] = []
        future: PromptFuture[str] = PromptFuture()

        async def waiter() -> None:
            seen.append(await future)

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        future.set_result("from a task")  # this coroutine is a task: no step inside it
        seen.append("settled")
        await task
        assert seen == ["settled", "from a task"]

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_an_error_is_raised_in_the_waiting_task(loop_name: str) -> None:
    async def main() -> None:
        future: PromptFuture[None] = PromptFuture()
        task = asyncio.create_task(asyncio.wait_for(_await(future), 5))
        await asyncio.sleep(0)
        asyncio.get_running_loop().call_soon(future.set_exception, ValueError("constraint"))
        with pytest.raises(ValueError, match="constraint"):
            await task
        assert future.done() and isinstance(future.exception(), ValueError)

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_a_cancelled_waiter_is_cancelled_and_the_future_with_it(loop_name: str) -> None:
    async def main() -> None:
        future: PromptFuture[None] = PromptFuture()
        task = asyncio.create_task(_await(future))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert future.cancelled()
        with pytest.raises(asyncio.InvalidStateError):
            future.set_result(None)

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_awaiting_a_settled_future_returns_at_once(loop_name: str) -> None:
    async def main() -> None:
        future: PromptFuture[int] = PromptFuture()
        future.set_result(3)
        assert await future == 3
        with pytest.raises(asyncio.InvalidStateError):
            future.set_exception(RuntimeError())

    run(loop_name, main)


async def _await(future: PromptFuture[Any]) -> Any:
    return await future
