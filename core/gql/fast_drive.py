"""Running the coroutines of one level side by side without a task each, for the fast path
(``core.gql.fast``), and ``GiveUp``, the fast path's way of saying graphql-core must answer."""

from __future__ import annotations

import asyncio
from typing import Any


class GiveUp(Exception):
    """The fast path cannot answer this query exactly; graphql-core will."""


async def drive(awaitables: list[Any]) -> list[Any]:
    """Run coroutines side by side without a task each (a task per field and object was
    most of graphql-core's cost): step every coroutine until it waits on a future, and step
    it again once that future is done, until all have returned. This is what asyncio.Task
    does for one coroutine; DataLoaders see the same interleaving (every load of a level is
    made before the batch is dispatched), and a coroutine waiting on another (a lock) makes
    progress because each is resumed as soon as its own future is done.

    When one coroutine raises, the others still run to their end before the first error is
    raised: the query is then answered again by graphql-core on the same request session, and
    a sibling closed in the middle of a statement would leave that session busy (a member's
    ``liveRoom { shelf results }`` hung that way)."""
    loop = asyncio.get_running_loop()
    failures: list[Exception] = []
    results: list[Any] = [None] * len(awaitables)
    ready: list[tuple[int, Any]] = []
    pending = 0
    wake: list[Any] = [None]
    unfinished: dict[int, Any] = {}

    # Coroutines waiting on one future (every key of a loader's batch shares its future, see
    # core.gql.loader) are resumed from one callback, not one each.
    waiting_on: dict[Any, list[tuple[int, Any]]] = {}

    def resume_later(index: int, coroutine: Any, _future: Any = None) -> None:
        ready.append((index, coroutine))
        if wake[0] is not None and not wake[0].done():
            wake[0].set_result(None)

    def resume_all(future: Any) -> None:
        ready.extend(waiting_on.pop(future))
        if wake[0] is not None and not wake[0].done():
            wake[0].set_result(None)

    def step(index: int, coroutine: Any) -> None:
        nonlocal pending
        try:
            waited = coroutine.send(None)
        except StopIteration as stop:
            results[index] = stop.value
            pending -= 1
            unfinished.pop(index, None)
            return
        except Exception as exc:  # noqa: BLE001 - raised once the level's other coroutines are done
            failures.append(exc)
            pending -= 1
            unfinished.pop(index, None)
            return
        unfinished[index] = coroutine
        if waited is None:  # a bare yield: resume after the loop has run once
            loop.call_soon(resume_later, index, coroutine)
            return
        if not getattr(waited, "_asyncio_future_blocking", False):
            coroutine.close()  # it waits on something only a Task could drive: this one alone ends here
            failures.append(GiveUp("a resolver yielded something that is not a future"))
            pending -= 1
            unfinished.pop(index, None)
            return
        waited._asyncio_future_blocking = False
        group = waiting_on.get(waited)
        if group is None:
            group = waiting_on[waited] = []
            waited.add_done_callback(resume_all)
        group.append((index, coroutine))

    try:
        for index, awaitable in enumerate(awaitables):
            pending += 1
            if not hasattr(awaitable, "send"):  # not a coroutine: await it the usual way
                awaitable = awaitables[index] = _await(awaitable)
            step(index, awaitable)
        while pending:
            if not ready:
                wake[0] = loop.create_future()
                try:
                    await wake[0]
                except asyncio.CancelledError:
                    _hand_on_cancellation(unfinished)
                    raise
            batch = ready[:]
            ready.clear()
            for index, coroutine in batch:
                step(index, coroutine)
        if failures:
            raise failures[0]
    except BaseException:
        for awaitable in awaitables:
            if hasattr(awaitable, "close"):
                awaitable.close()
        raise
    return results


def _hand_on_cancellation(unfinished: dict[int, Any]) -> None:
    """Deliver a cancellation of this task to the coroutines it was running.

    ``asyncio.timeout`` (the connection pool's wait, a driver's) cancels the *task* it runs
    in, and expects the CancelledError back in its own ``async with`` to turn it into
    TimeoutError. Here every coroutine runs in the one request task, so the cancellation
    arrives at ``drive``'s own await instead: it used to escape as a bare CancelledError (a
    plain-text 500 with a traceback under pool exhaustion). Thrown into each waiting
    coroutine, as a Task would, the expired timeout converts it; if that leaves the task no
    longer cancelled, the timeout's error is raised in place of the cancellation.
    """
    task = asyncio.current_task()
    failure: BaseException | None = None
    for coroutine in list(unfinished.values()):
        try:
            coroutine.throw(asyncio.CancelledError())
        except (StopIteration, asyncio.CancelledError):
            continue
        except BaseException as exc:  # noqa: BLE001 - the timeout's error, reported below
            failure = failure or exc
        else:
            coroutine.close()  # it caught the cancellation and waited again; end it
    unfinished.clear()
    if failure is not None and task is not None and task.cancelling() == 0:
        raise failure


async def _await(awaitable: Any) -> Any:
    return await awaitable
