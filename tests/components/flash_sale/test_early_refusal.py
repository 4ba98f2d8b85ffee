"""buyFlashSaleItem answers a sold-out session from committed rows, before any write transaction
(components/flash_sale/early.py): the early look, and on SQLite the memo of a refusing
checkout, as the mutation starts and again when the buyer's turn to write comes. Every answer
is compared with the plain path's — the same request with both switched off, on the same
rows — and neither may begin a transaction when it refuses."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest
from flash_sale_helpers import admin_of, make_session, start, state

import components.flash_sale.early as early_module
import components.flash_sale.graphql as flash_graphql
from core.errors import DomainError
from core.gql.early_refusals import EarlyRefusals
from core.gql.relay import from_global_id
from core.testing import member, staff

BUY = """mutation($item: ID!, $n: Int! = 1, $key: String) {
  buyFlashSaleItem(input: {itemId: $item, quantity: $n, idempotencyKey: $key}) {
    order { id } userErrors { code field message details } } }"""


def counting_transactions(kernel, monkeypatch):  # noqa: ANN001, ANN201
    opened = []
    plain = kernel.transaction

    @contextlib.asynccontextmanager
    async def transaction(**kwargs):  # noqa: ANN003, ANN202
        async with plain(**kwargs) as tx:
            opened.append(1)
            yield tx

    monkeypatch.setattr(kernel, "transaction", transaction)
    return opened


async def both_ways(kernel, client, monkeypatch, opened, **variables):  # noqa: ANN001, ANN003, ANN201
    """(plain answer, early answer, transactions the early one began). On SQLite also the answer
    of a buyer whose first look saw units left and whose turn to write came after a checkout
    refused "sold out" (the memo, as run_mutation's precheck): the same, with no transaction."""
    memo = kernel.service("flash_sale").sold_out_memo
    with monkeypatch.context() as m:
        m.setattr(flash_graphql, "refuse_if_sold_out", lambda *a: _none())
        m.setattr(early_module, "refuse_if_sold_out", lambda *a: _none())
        m.setattr(memo, "refuse", lambda *a: None)
        plain = await client.mutate(BUY, **variables)
    before = len(opened)
    early = await client.mutate(BUY, **variables)
    began = len(opened) - before
    if kernel.db.is_sqlite:
        with monkeypatch.context() as m:
            m.setattr(flash_graphql, "refuse_if_sold_out", lambda *a: _none())  # the first look saw units left
            m.setattr(EarlyRefusals, "enabled", False)  # ... and the crowd's layer too
            before = len(opened)
            queued = await client.mutate(BUY, **variables)
        assert queued == plain
        assert len(opened) - before == began
    return plain, early, began


async def _none() -> None:
    return None


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_sold_out_is_answered_early_exactly_as_the_checkout_answers_it(kernel_factory, graphql, database, monkeypatch):
    kernel, shop = await start(kernel_factory, database=database, members=6)
    _session, item = await make_session(admin_of(graphql, kernel), kernel, shop.sku, quantity=3, limit=2)
    opened = counting_transactions(kernel, monkeypatch)
    first = await graphql(kernel, member(1)).mutate(BUY, item=item, n=2)
    assert first["userErrors"] == [] and first["order"]
    # One unit left: asking for two is sold out (left: 1), both ways, and early without a transaction.
    plain, early, transactions = await both_ways(kernel, graphql(kernel, member(2)), monkeypatch, opened, item=item, n=2)
    assert plain["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT" and plain["userErrors"][0]["details"] == {"left": 1}
    assert early == plain and transactions == 0
    assert (await graphql(kernel, member(2)).mutate(BUY, item=item))["order"]  # the last unit sells
    for n, who in ((1, 3), (2, 4)):
        plain, early, transactions = await both_ways(kernel, graphql(kernel, member(who)), monkeypatch, opened, item=item, n=n)
        assert plain["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT"
        assert early == plain and transactions == 0
    # Over the member's limit in a sold-out session: sold out comes first, for everyone.
    plain, early, transactions = await both_ways(kernel, graphql(kernel, member(1)), monkeypatch, opened, item=item, n=1)
    assert plain["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT"
    assert early == plain and transactions == 0
    # A keyed request goes through the transaction (a replay must get its first answer).
    plain, early, transactions = await both_ways(kernel, graphql(kernel, member(5)), monkeypatch, opened, item=item, key="k5")
    assert early == plain and plain["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT" and transactions == 1
    assert await state(kernel) == {"sold": 3, "held": 3, "bought": 3, "orders": 2, "reserved": 3}


async def test_the_memo_steps_aside_once_another_connection_commits(kernel_factory, graphql, monkeypatch):
    import sqlite3

    kernel, shop = await start(kernel_factory, members=6)
    _session, item = await make_session(admin_of(graphql, kernel), kernel, shop.sku, quantity=1, limit=1)
    assert (await graphql(kernel, member(1)).mutate(BUY, item=item))["order"]
    with monkeypatch.context() as m:  # through the checkout, which refuses and remembers
        m.setattr(flash_graphql, "refuse_if_sold_out", lambda *a: _none())
        assert (await graphql(kernel, member(2)).mutate(BUY, item=item))["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT"
    memo = kernel.service("flash_sale").sold_out_memo
    item_id = int(from_global_id(item)[1])
    with pytest.raises(DomainError):
        memo.refuse(item_id, 1)
    # Another process gives the unit back (a plain connection of its own, not the kernel's).
    other = sqlite3.connect(kernel.db.url.database)
    other.execute("UPDATE flash_sale_item SET quantity = quantity + 1 WHERE id = ?", (item_id,))
    other.commit()
    other.close()
    memo.refuse(item_id, 1)  # steps aside: the database has changed since
    bought = await graphql(kernel, member(3)).mutate(BUY, item=item)
    assert bought["userErrors"] == [] and bought["order"]


async def test_units_given_back_sell_again_and_an_ended_session_is_the_checkouts_to_word(kernel_factory, graphql, monkeypatch):
    kernel, shop = await start(kernel_factory, members=6)
    _session, item = await make_session(admin_of(graphql, kernel), kernel, shop.sku, quantity=1, limit=1, lasts=timedelta(minutes=20))
    opened = counting_transactions(kernel, monkeypatch)
    assert (await graphql(kernel, member(1)).mutate(BUY, item=item, key="first"))["order"]
    plain, early, transactions = await both_ways(kernel, graphql(kernel, member(2)), monkeypatch, opened, item=item)
    assert early == plain and plain["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT" and transactions == 0
    # The unpaid order times out (5 min window): its unit goes back, and the next buyer gets it.
    kernel.clock.advance(minutes=6)
    await kernel.run_due()
    bought = await graphql(kernel, member(3)).mutate(BUY, item=item)
    assert bought["userErrors"] == [] and bought["order"]
    # Sold out again, then the session ends: the checkout says ended, both ways.
    kernel.clock.advance(minutes=15)
    plain, early, transactions = await both_ways(kernel, graphql(kernel, member(4)), monkeypatch, opened, item=item)
    assert early == plain and plain["userErrors"][0]["code"] == "FLASH_SALE_ENDED" and transactions == 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_crowd_larger_than_the_connection_pool_buys_exactly_the_units(kernel_factory, graphql, database, monkeypatch):
    # 40 buyers at once, more than the 24 pooled read connections (SQLite: 8 + 16 overflow),
    # every loser answered by the early look or the checkout: exactly the units sell, and a
    # pool that ran dry would show as KERNEL_BUSY within the short wait, not as a hang.
    monkeypatch.setenv("DOUGONG_POOL_TIMEOUT", "20")
    kernel, shop = await start(kernel_factory, database=database, members=40)
    _session, item = await make_session(admin_of(graphql, kernel), kernel, shop.sku, quantity=5, limit=1)
    answers = await asyncio.gather(*(graphql(kernel, member(n)).mutate(BUY, item=item) for n in range(1, 41)))
    assert sum(1 for a in answers if a["order"]) == 5
    assert {a["userErrors"][0]["code"] for a in answers if not a["order"]} == {"FLASH_SALE_SOLD_OUT"}
    assert await state(kernel) == {"sold": 5, "held": 5, "bought": 5, "orders": 5, "reserved": 5}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_the_crowd_is_refused_before_graphql_runs_with_the_resolvers_bytes(kernel_factory, graphql, database, monkeypatch):
    """core.gql.early_refusals: a sold-out buyer is answered before routing, byte for byte as
    the resolver answers; everything the resolver words differently goes the usual way."""
    import httpx

    from core.app import create_app
    from core.gql.relay import to_global_id

    kernel, shop = await start(kernel_factory, database=database, members=8)
    admin = admin_of(graphql, kernel)
    _session, item = await make_session(admin, kernel, shop.sku, quantity=1, limit=1)
    assert (await graphql(kernel, member(1)).mutate(BUY, item=item))["order"]
    if kernel.db.is_sqlite:  # the memo learns "sold out" from one refusing checkout
        with monkeypatch.context() as m:
            m.setattr(early_module, "refuse_if_sold_out", lambda *a: _none())
            m.setattr(flash_graphql, "refuse_if_sold_out", lambda *a: _none())
            assert (await graphql(kernel, member(2)).mutate(BUY, item=item))["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT"
    app = create_app([kernel], run_worker=False)
    opened = counting_transactions(kernel, monkeypatch)

    async def post(who, variables, query=BUY, enabled=True):  # noqa: ANN001, ANN202
        token = kernel.issue_token(who) if who is not None else None
        headers = {"authorization": f"Bearer {token}"} if token else {}
        with monkeypatch.context() as m:
            m.setattr(EarlyRefusals, "enabled", enabled)
            before = EarlyRefusals.answered
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
            return response.status_code, response.content, EarlyRefusals.answered - before

    # Sold out: answered here, the same bytes as the resolver's, no transaction.
    for who in (member(3), member(4), member(1)):  # member 1 is also at their limit: sold out comes first
        before = len(opened)
        status, body, early = await post(who, {"item": item})
        assert (status, early, len(opened) - before) == (200, 1, 0)
        assert (status, body) == (await post(who, {"item": item}, enabled=False))[:2]
        assert b"FLASH_SALE_SOLD_OUT" in body
    # Another selection of the same field: still the resolver's answer for that selection.
    wide = BUY.replace("order { id } userErrors { code field message details }", "userErrors { message code } order { status }")
    status, body, early = await post(member(5), {"item": item}, query=wide)
    assert early == 1 and (status, body) == (await post(member(5), {"item": item}, query=wide, enabled=False))[:2]
    # The usual way: a keyed request, a bad item id, a quantity out of range, staff, nobody,
    # an invalid document, and a request naming a second field.
    usual = [
        (member(6), {"item": item, "key": "k6"}, BUY),
        (member(6), {"item": to_global_id("Sku", 1)}, BUY),
        (member(6), {"item": item, "n": 0}, BUY),
        (staff(1, "admin"), {"item": item}, BUY),
        (None, {"item": item}, BUY),
        (member(6), {"item": item}, BUY.replace("userErrors { code", "userErrors { nope code")),
        (member(6), {"item": item}, BUY.replace("order { id }", "order { id } } other: buyFlashSaleItem(input: {itemId: $item}) { order { id }")),
    ]
    for who, variables, query in usual:
        status, body, early = await post(who, variables, query=query)
        assert early == 0, (who, variables)
        assert (status, body) == (await post(who, variables, query=query, enabled=False))[:2]
    assert await state(kernel) == {"sold": 1, "held": 1, "bought": 1, "orders": 1, "reserved": 1}



async def test_a_crowd_fired_at_once_is_queued_and_refused_early_behind_the_sell_out(kernel_factory, graphql):
    """SQLite: the buyers of one item go past the early layer one at a time (early.buyer_queue), so
    once a checkout has refused "sold out" everyone behind it is refused from memory, before
    GraphQL — and the units still sell exactly once each."""
    import asyncio

    import httpx

    from core.app import create_app

    kernel, shop = await start(kernel_factory, members=30)
    _session, item = await make_session(admin_of(graphql, kernel), kernel, shop.sku, quantity=3, limit=1)
    app = create_app([kernel], run_worker=False)
    before = EarlyRefusals.answered
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:

        async def buy(who):  # noqa: ANN001, ANN202
            headers = {"authorization": f"Bearer {kernel.issue_token(member(who))}"}
            response = await client.post("/graphql", json={"query": BUY, "variables": {"item": item}}, headers=headers)
            return response.json()["data"]["buyFlashSaleItem"]

        answers = await asyncio.gather(*(buy(who) for who in range(1, 31)))
    won = [a for a in answers if a["order"]]
    refused = [a["userErrors"][0]["code"] for a in answers if not a["order"]]
    assert len(won) == 3 and refused == ["FLASH_SALE_SOLD_OUT"] * 27
    # The 4th buyer's checkout refused and taught the memo; the 26 behind it never reached GraphQL.
    assert EarlyRefusals.answered - before == 26
    assert len(kernel.service("flash_sale").buyer_queues) == 0  # no queue left behind
    assert await state(kernel) == {"sold": 3, "held": 3, "bought": 3, "orders": 3, "reserved": 3}
