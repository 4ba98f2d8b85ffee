"""core.heap: a serving process freezes its boot heap once every kernel has started."""

from __future__ import annotations

import gc

import pytest

from core import heap
from core.app import create_app


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # nothing of this test stays exempt from collection


async def test_the_boot_heap_is_frozen_only_when_asked(kernel_factory, unfrozen, monkeypatch):
    kernel = await kernel_factory("dougong: 1\nbrand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n  catalog: {}\n", start=False)
    monkeypatch.setattr(kernel, "start", _started)
    monkeypatch.setattr(kernel, "stop", _started)
    plain = create_app([kernel], run_worker=False)
    async with plain.router.lifespan_context(plain):
        assert gc.get_freeze_count() == 0, "create_app alone never freezes (a test process builds hundreds of apps)"
    serving = create_app([kernel], run_worker=False, freeze_heap=True)
    async with serving.router.lifespan_context(serving):
        assert gc.get_freeze_count() > 1000  # the schema, the metadata, the modules


async def _started(*_args, **_kwargs) -> None:
    return None


def test_serve_freezes_unless_switched_off(monkeypatch):
    monkeypatch.delenv(heap.ENV, raising=False)
    assert heap.wanted()
    monkeypatch.setenv(heap.ENV, "0")
    assert not heap.wanted()
