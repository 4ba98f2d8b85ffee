"""The per-request batch loader behind ``ctx.loader(name)``: one future per batch, not per key.

strawberry's DataLoader makes a future per key and resolves each one on its own: on the
storefront page that is ~450 futures, ~900 loop callbacks and a task per batch for every
request — the largest cost the profile showed once the level executor read plain fields
directly (``bench/profiles/``). Here every key of a batch waits on the batch's single
future, and the level executor (``core.gql.fast_drive``) wakes all coroutines waiting on
one future from one callback.

Behaviour kept from the DataLoader the resolvers were written against:

- loads made before the loop runs again form one batch (the batch function is called once,
  with the keys in first-asked order, duplicates removed);
- results are cached per key for the request, failures too (a batch function that raises
  fails every key of its batch; a result that *is* an exception fails that key alone);
- the batch function must return one result per key, else every key fails.

Cancellation: a waiter that is cancelled (``asyncio.wait_for`` around a load) cancels the
shared future it awaited. The others see that as a CancelledError while their own task is
not being cancelled; they wait again on a fresh future instead of failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Iterable
from typing import Any

_MISSING = object()


class WrongNumberOfResults(Exception):
    """A batch function returned a different number of results than it was given keys."""


class _Failed:
    """A cached failure: raised again for every load of that key."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Batch:
    __slots__ = ("done", "future", "keys")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.keys: dict[Any, None] = {}  # an ordered set
        self.future: asyncio.Future[None] = loop.create_future()
        self.done = False


class _Load:
    """The awaitable ``load`` returns: waits for its batch, then reads its key's result."""

    __slots__ = ("batch", "key", "loader")

    def __init__(self, loader: BatchLoader, batch: _Batch, key: Any) -> None:
        self.loader, self.batch, self.key = loader, batch, key

    def __await__(self) -> Generator[Any, None, Any]:
        batch = self.batch
        while not batch.done:
            future = batch.future
            try:
                yield from future.__await__()
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if batch.done or task is None or task.cancelling():
                    raise  # this waiter itself is being cancelled
                if future is batch.future and future.cancelled():
                    batch.future = future.get_loop().create_future()  # another waiter cancelled it
        return self.loader._result(self.key)


class _Ready:
    """A load whose result is already known: awaiting it does not touch the loop."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        value = self.value
        if isinstance(value, _Failed):
            raise value.error
        return value
        yield  # a generator, never reached


class _LoadAll:
    """Awaits each key's load in turn: they share their batch's future, so once the first has
    waited the rest are answered without touching the loop."""

    __slots__ = ("loads",)

    def __init__(self, loads: list[Awaitable[Any]]) -> None:
        self.loads = loads

    def __await__(self) -> Generator[Any, None, list[Any]]:
        results = []
        for load in self.loads:
            results.append((yield from load.__await__()))
        return results


class BatchLoader:
    """``await loader.load(key)``; keys asked for in the same turn of the loop share one batch."""

    def __init__(self, batch_load: Callable[[list[Any]], Awaitable[list[Any]]]) -> None:
        self._batch_load = batch_load
        self._results: dict[Any, Any] = {}
        self._pending: dict[Any, _Batch] = {}
        self._batch: _Batch | None = None

    def load(self, key: Any) -> Awaitable[Any]:
        result = self._results.get(key, _MISSING)
        if result is not _MISSING:
            return _Ready(result)
        batch = self._pending.get(key)
        if batch is None:
            batch = self._batch
            if batch is None:
                loop = asyncio.get_running_loop()
                batch = self._batch = _Batch(loop)
                loop.call_soon(self._dispatch, batch)
            batch.keys[key] = None
            self._pending[key] = batch
        return _Load(self, batch, key)

    def load_all(self, keys: list[Any]) -> Awaitable[list[Any]]:
        """One awaitable for every key's result, in order (the compiled plan's load of a whole
        level, ``core.gql.loaded``): the keys join the current batch now, as ``load`` would."""
        return _LoadAll([self.load(key) for key in keys])

    async def load_many(self, keys: Iterable[Any]) -> list[Any]:
        return await self.load_all(list(keys))

    def _result(self, key: Any) -> Any:
        value = self._results[key]
        if isinstance(value, _Failed):
            raise value.error
        return value

    def _dispatch(self, batch: _Batch) -> None:
        if self._batch is batch:
            self._batch = None  # later loads start a new batch
        asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch: _Batch) -> None:
        keys = list(batch.keys)
        try:
            values = list(await self._batch_load(keys))
            if len(values) != len(keys):
                raise WrongNumberOfResults(f"the batch function returned {len(values)} results for {len(keys)} keys")
        except BaseException as error:  # noqa: BLE001 - every key of the batch fails with it
            self._settle(batch, keys, [_Failed(error)] * len(keys))
            if not isinstance(error, Exception):
                raise  # a cancellation: the waiters have their answer, the task ends as asked
            return
        self._settle(batch, keys, values)

    def _settle(self, batch: _Batch, keys: list[Any], values: list[Any]) -> None:
        for key, value in zip(keys, values, strict=True):
            self._results[key] = _Failed(value) if isinstance(value, BaseException) else value
            self._pending.pop(key, None)
        batch.done = True
        if not batch.future.done():
            batch.future.set_result(None)

    def clear_all(self) -> None:
        """Forget every cached result (a write happened in this request)."""
        self._results.clear()
