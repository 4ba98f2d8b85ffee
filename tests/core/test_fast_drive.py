"""``drive`` runs a level's coroutines side by side; one failing must not cut the others short."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import DomainError
from core.gql.fast_drive import drive


async def test_a_refusal_waits_for_its_siblings_to_finish_before_it_is_raised():
    finished = []

    async def refused():
        raise DomainError("KERNEL_FORBIDDEN", "not yours")

    async def reading(name):
        await asyncio.sleep(0.01)  # a statement in flight on the request's session
        await asyncio.sleep(0)
        finished.append(name)
        return name

    with pytest.raises(DomainError):
        await drive([reading("shelf"), refused(), reading("stats")])
    # Closed mid-statement, a sibling would leave the session busy for graphql-core's rerun.
    assert sorted(finished) == ["shelf", "stats"]


async def test_the_first_failure_is_the_one_raised_and_results_come_back_in_order():
    async def value(v):
        await asyncio.sleep(0)
        return v

    assert await drive([value(1), value(2), value(3)]) == [1, 2, 3]

    async def fails(code, delay):
        await asyncio.sleep(delay)
        raise DomainError(code, code)

    with pytest.raises(DomainError) as first:
        await drive([fails("LATER", 0.02), fails("SOONER", 0)])
    assert first.value.code == "SOONER"
