"""Every hook in core/hookspecs.py documents itself with an example, and every example runs.

Each example is cut out of its docstring, executed, and the hook function it defines is called
with a real :class:`core.contributions.Registrar` (so the naming rules apply: a job that is not
prefixed with its component's name fails here exactly as it would at boot). Names an example
takes for granted (``models``, ``graphql``, ``service``, a provider class) are stand-ins.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import textwrap
from types import SimpleNamespace
from unittest.mock import AsyncMock, MagicMock

import pytest
import sqlalchemy as sa
import strawberry

from core import hookspecs
from core.contributions import Contributions, Registrar
from core.storefront import StorefrontBlock

EXAMPLE = re.compile(r"Example::\n\n((?:[ \t]+\S.*\n|[ \t]*\n)+)")

# The component each example speaks for: its names carry that component's prefix.
SPEAKS_FOR = {
    "dougong_tables": "group_buy", "dougong_services": "orders", "dougong_schema": "group_buy",
    "dougong_permissions": "orders", "dougong_error_codes": "group_buy", "dougong_events": "raffle",
    "dougong_event_handlers": "points_mall", "dougong_checkout": "raffle", "dougong_jobs": "orders",
    "dougong_price_adjusters": "members", "dougong_dataloaders": "catalog", "dougong_examples": "live_room",
    "dougong_page_blocks": "raffle", "dougong_webhooks": "notifications",
}
FIRST_RESULT = {"dougong_identity_provider": "wechat", "dougong_payment_provider": "wechat_pay"}


def hooks() -> list[str]:
    return sorted(name for name, value in vars(hookspecs).items()
                  if name.startswith("dougong_") and callable(value) and hasattr(value, "dougong_spec"))


def example_of(name: str) -> str:
    doc = getattr(hookspecs, name).__doc__ or ""
    found = EXAMPLE.search(doc + "\n")
    assert found, f"{name} has no 'Example::' block in its docstring"
    return textwrap.dedent(found.group(1))


def stand_ins() -> dict[str, object]:
    metadata = sa.MetaData()
    models = SimpleNamespace(
        Offer=sa.Table("group_buy_offer", metadata, sa.Column("id", sa.Integer, primary_key=True)),
        Group=sa.Table("group_buy_group", metadata, sa.Column("id", sa.Integer, primary_key=True)),
    )
    @strawberry.type
    class Query:
        hello: str = "hi"

    @strawberry.type
    class Mutation:
        hello: str = "hi"

    @strawberry.type
    class RaffleBlock(StorefrontBlock):
        raffles: list[str]

    async def running_raffles(page: object, settings: object) -> dict[str, object]:
        return {"raffles": []}

    # Real strawberry types where the registrar checks them; anything else is a stand-in.
    graphql = MagicMock(name="graphql", Query=Query, Mutation=Mutation)
    return {"hookimpl": hookspecs.hookimpl, "models": models, "graphql": graphql,
            "service": MagicMock(name="service"), "OrderService": MagicMock(name="OrderService"),
            "StaffDirectory": MagicMock(name="StaffDirectory"), "WeChatLogin": MagicMock(name="WeChatLogin"),
            "WeChatPay": MagicMock(name="WeChatPay"), "RaffleBlock": RaffleBlock, "running_raffles": running_raffles,
            "notifications": SimpleNamespace(handle=AsyncMock(name="handle"))}


def test_every_hook_is_in_the_table_of_this_test() -> None:
    assert set(hooks()) == set(SPEAKS_FOR) | set(FIRST_RESULT) | {
        "dougong_authority", "dougong_seed_demo", "dougong_startup", "dougong_shutdown"}
    assert set(hookspecs.COLLECT_HOOKS) == set(SPEAKS_FOR)


@pytest.mark.parametrize("name", hooks())
def test_the_example_runs(name: str) -> None:
    source = example_of(name)
    namespace = stand_ins()
    exec(compile(source, f"<example of {name}>", "exec"), namespace)  # noqa: S102 - our own docstrings
    function = namespace.get(name)
    assert callable(function), f"the example of {name} does not define {name}"
    assert inspect.signature(function).parameters.keys() == inspect.signature(getattr(hookspecs, name)).parameters.keys()
    kernel = MagicMock(name="kernel")
    kernel.service.return_value = AsyncMock(name="service")
    if name in SPEAKS_FOR:
        contributions = Contributions()
        before = repr(contributions)
        function(Registrar(SPEAKS_FOR[name], {}, kernel, contributions))
        changed = repr(contributions) != before or kernel.service.called
        assert changed, f"the example of {name} registered nothing"
    elif name in FIRST_RESULT:
        assert function(kernel=kernel, provider=FIRST_RESULT[name]) is not None
        assert function(kernel=kernel, provider="nobody") is None
    else:
        arguments = {"kernel": kernel, "tx": MagicMock(name="tx")}
        params = inspect.signature(function).parameters
        result = function(**{k: v for k, v in arguments.items() if k in params})
        if inspect.isawaitable(result):
            asyncio.run(result)
        assert result is not None or kernel.service.called
