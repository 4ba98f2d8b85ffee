"""``@loaded`` fields (core.gql.loaded): the compiled plan loads a whole level's keys at once,
graphql-core resolves them one object at a time through the same loader, and both answer the
same — values in place, ``None`` keys answered ``if_none`` without asking the loader, a failing
key handed to graphql-core (which reports it at its path)."""

from __future__ import annotations

import pytest

from core.gql.fast import FastQueries
from core.gql.loaded import declared_load, loaded
from core.gql.loader import BatchLoader
from core.testing import member  # signed in: answered, never from the response cache

BLUEPRINT = "dougong: 1\nbrand: {slug: shelf, name: Shelf, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n  shelf: {}\n"

SHELF = '''
    import strawberry
    from core.gql.loaded import loaded
    from core.hookspecs import hookimpl

    CALLS = []
    LOST = []  # a test appends a tin whose box is gone

    @strawberry.type(description="A tin of tea.")
    class Tin:
        name: str = strawberry.field(description="Its label.")
        box_pk: strawberry.Private[int | None]

        @strawberry.field(description="The box it sits in; null when loose.")
        @loaded("shelf.boxes", key="box_pk")
        async def box(self, info: strawberry.Info) -> "Box | None":
            """Answered by the loader."""

        @strawberry.field(description="How many are left; 0 when it was never counted.")
        @loaded("shelf.counts", key="name", if_none=0)
        async def left(self, info: strawberry.Info) -> int:
            """Answered by the loader."""

    @strawberry.type(description="A box of tins.")
    class Box:
        label: str = strawberry.field(description="Its label.")

    @strawberry.type
    class Query:
        @strawberry.field(description="Every tin.")
        def tins(self) -> list[Tin]:
            return [Tin(name="longjing", box_pk=1), Tin(name="biluochun", box_pk=None), Tin(name="pu-erh", box_pk=2),
                    Tin(name="oolong", box_pk=1)] + [Tin(name=name, box_pk=99) for name in LOST]

    async def load_boxes(ctx, keys):
        CALLS.append(("boxes", list(keys)))
        return [Box(label=f"box {k}") if k != 99 else ValueError("box 99 is gone") for k in keys]

    async def load_counts(ctx, keys):
        CALLS.append(("counts", list(keys)))
        return [len(k) for k in keys]

    @hookimpl
    def dougong_schema(registrar):
        registrar.query(Query)

    @hookimpl
    def dougong_dataloaders(registrar):
        registrar.dataloader("shelf.boxes", load_boxes)
        registrar.dataloader("shelf.counts", load_counts)
'''
DOCUMENT = "{ tins { name box { label } left } }"
EXPECTED = {
    "tins": [
        {"name": "longjing", "box": {"label": "box 1"}, "left": 8},
        {"name": "biluochun", "box": None, "left": 9},
        {"name": "pu-erh", "box": {"label": "box 2"}, "left": 6},
        {"name": "oolong", "box": {"label": "box 1"}, "left": 6},
    ]
}


@pytest.fixture
async def shelf(kernel_factory, make_component):  # noqa: ANN001, ANN201
    component = make_component("shelf", hooks=SHELF)
    kernel = await kernel_factory(BLUEPRINT, installed=[component])
    return kernel, component


def _hooks(component):  # noqa: ANN001, ANN202
    import importlib

    return importlib.import_module(f"{component.module}.hooks")


async def test_the_plan_loads_a_level_at_once_and_answers_as_graphql_core_does(shelf, graphql, monkeypatch) -> None:  # noqa: ANN001
    kernel, component = shelf
    calls = _hooks(component).CALLS
    whole_levels = []
    load_all = BatchLoader.load_all
    monkeypatch.setattr(BatchLoader, "load_all", lambda self, keys: whole_levels.append(list(keys)) or load_all(self, keys))
    before = FastQueries.answered
    assert await graphql(kernel, member(1)).data(DOCUMENT) == EXPECTED
    assert FastQueries.answered == before + 1  # the compiled plan answered
    # ... with one load per loaded field of the level (the loose tin's None key left out), not one per tin
    assert sorted(whole_levels, key=len) == [[1, 2, 1], ["longjing", "biluochun", "pu-erh", "oolong"]]
    # One batch per loader, every key once, in first-asked order; the loose tin asked nothing.
    assert sorted(calls) == [("boxes", [1, 2]), ("counts", ["longjing", "biluochun", "pu-erh", "oolong"])]
    calls.clear()
    whole_levels.clear()
    monkeypatch.setattr(FastQueries, "enabled", False)  # graphql-core, one object at a time
    assert await graphql(kernel, member(1)).data(DOCUMENT) == EXPECTED
    assert sorted(calls) == [("boxes", [1, 2]), ("counts", ["longjing", "biluochun", "pu-erh", "oolong"])]
    assert whole_levels == []


async def test_a_failing_key_is_reported_at_its_path_by_graphql_core(shelf, graphql) -> None:  # noqa: ANN001
    kernel, component = shelf
    _hooks(component).LOST.append("lost")
    before = FastQueries.answered
    body = await graphql(kernel, member(1)).execute("{ tins { name box { label } } }")
    assert FastQueries.answered == before  # the plan gave up: graphql-core answered
    assert [t["box"] for t in body["data"]["tins"]] == [{"label": "box 1"}, None, {"label": "box 2"}, {"label": "box 1"}, None]
    [error] = body["errors"]
    assert error["path"] == ["tins", 4, "box"] and error["extensions"]["code"] == "KERNEL_INTERNAL"  # masked, logged


async def test_the_decorator_keeps_the_declaration_and_refuses_other_parameters() -> None:
    class Thing:
        pk = 7

    class Context:
        def loader(self, name):  # noqa: ANN001, ANN201
            class Loader:
                async def load(self, key):  # noqa: ANN001, ANN202
                    return (name, key)

            return Loader()

    class Info:
        context = Context()

    @loaded("things.parts", key="pk")
    async def parts(root, info) -> list[int]:  # noqa: ANN001
        """The parts."""

    assert parts.__doc__ == "The parts." and parts.__wrapped__.__name__ == "parts"
    assert declared_load(parts).loader == "things.parts" and declared_load(parts).key_of(Thing()) == 7
    assert await parts(root=Thing(), info=Info()) == ("things.parts", 7)  # as strawberry calls a function
    assert await parts(Thing(), info=Info()) == ("things.parts", 7)  # as it calls a method (self positional)
    with pytest.raises(TypeError, match="takes"):

        @loaded("things.parts", key="pk")
        async def wrong(root, info, first: int) -> list[int]:  # noqa: ANN001
            """Takes an argument: not a plain loaded field."""
