"""core.gql.loader.BatchLoader: the per-request loader behind ctx.loader(name).

It replaced strawberry's DataLoader for speed (one future per batch); these tests pin the
behaviour resolvers were written against: batching per turn of the loop, per-key caching,
failures per key and per batch, and that cancelling one waiter leaves the others alone.
"""

from __future__ import annotations

import asyncio

import pytest

from core.gql.fast_drive import drive
from core.gql.loader import BatchLoader, WrongNumberOfResults


def recording(results=None, fail: Exception | None = None, delay: float = 0):  # noqa: ANN001, ANN201
    calls: list[list] = []

    async def batch(keys: list) -> list:
        calls.append(list(keys))
        if delay:
            await asyncio.sleep(delay)
        if fail is not None:
            raise fail
        return results(keys) if results else [k * 10 for k in keys]

    return batch, calls


async def test_loads_in_one_turn_make_one_batch_in_first_asked_order_without_duplicates():
    batch, calls = recording()
    loader = BatchLoader(batch)
    assert await asyncio.gather(loader.load(3), loader.load(1), loader.load(3), loader.load(2)) == [30, 10, 30, 20]
    assert calls == [[3, 1, 2]]


async def test_results_are_cached_per_key_and_new_keys_make_a_new_batch():
    batch, calls = recording()
    loader = BatchLoader(batch)
    assert await loader.load(1) == 10
    assert await asyncio.gather(loader.load(1), loader.load(5)) == [10, 50]
    assert calls == [[1], [5]]
    loader.clear_all()
    assert await loader.load(1) == 10
    assert calls == [[1], [5], [1]]


async def test_a_key_asked_while_its_batch_runs_joins_it():
    batch, calls = recording(delay=0.01)
    loader = BatchLoader(batch)
    first = asyncio.ensure_future(asyncio.gather(loader.load(1), loader.load(2)))
    await asyncio.sleep(0.005)  # the batch is running now
    assert await loader.load(2) == 20
    assert await first == [10, 20]
    assert calls == [[1, 2]]


async def test_an_exception_as_a_result_fails_that_key_alone_and_stays_cached():
    batch, calls = recording(results=lambda keys: [ValueError(f"no {k}") if k == 2 else k for k in keys])
    loader = BatchLoader(batch)
    one, two = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert one == 1 and isinstance(two, ValueError) and str(two) == "no 2"
    with pytest.raises(ValueError, match="no 2"):
        await loader.load(2)
    assert calls == [[1, 2]]


async def test_a_failing_batch_fails_every_key_of_it():
    batch, _ = recording(fail=RuntimeError("database gone"))
    loader = BatchLoader(batch)
    outcomes = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert [str(o) for o in outcomes] == ["database gone", "database gone"]


async def test_the_wrong_number_of_results_fails_every_key():
    batch, _ = recording(results=lambda keys: [1])
    loader = BatchLoader(batch)
    outcomes = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert all(isinstance(o, WrongNumberOfResults) for o in outcomes)


async def test_cancelling_one_waiter_leaves_the_others_their_answer():
    batch, calls = recording(delay=0.02)
    loader = BatchLoader(batch)

    async def load(key: int) -> int:
        return await loader.load(key)

    impatient = asyncio.ensure_future(asyncio.wait_for(load(1), 0.005))
    patient = asyncio.ensure_future(load(2))
    with pytest.raises(asyncio.TimeoutError):
        await impatient
    assert await patient == 20
    assert await loader.load(1) == 10  # the batch still finished and kept key 1
    assert sorted(calls[0]) == [1, 2] and len(calls) == 1


async def test_the_level_executor_drives_a_batch_from_one_callback():
    """drive() wakes every coroutine waiting on a batch's future together (core.gql.fast_drive)."""
    batch, calls = recording(delay=0.001)
    loader = BatchLoader(batch)

    async def resolve(key: int) -> int:
        return await loader.load(key) + 1

    assert await drive([resolve(k) for k in range(20)]) == [k * 10 + 1 for k in range(20)]
    assert calls == [list(range(20))]
