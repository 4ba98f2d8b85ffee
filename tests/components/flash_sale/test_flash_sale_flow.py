"""A flash-sale session: the countdown, the flash price, its own quantity, the per-member limit,
the short payment window returning units to the session, and typed refusals."""

from __future__ import annotations

from datetime import timedelta

from flash_sale_helpers import BUY, CNY, CREATE, SESSION, admin_of, make_session, start, state

from core.testing import member


async def test_buy_at_the_flash_price_and_the_window_returns_unpaid_units(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    session, item = await make_session(admin, kernel, shop.sku, quantity=2, limit=1, price=4900)
    me = graphql(kernel, member(1))
    bought = await me.mutate(BUY, sku=shop.sku, item=item)
    assert bought["userErrors"] == []
    order = bought["order"]
    assert order["kind"] == "flash_sale" and order["total"]["amountMinor"] == 4900
    # The flash window (5m), not the brand's 30m.
    assert order["paymentDueAt"].startswith((kernel.clock.now() + timedelta(minutes=5)).isoformat()[:16])
    again = await me.mutate(BUY, sku=shop.sku, item=item)
    assert again["userErrors"][0]["code"] == "FLASH_SALE_LIMIT_REACHED"
    assert (await graphql(kernel, member(2)).mutate(BUY, sku=shop.sku, item=item))["userErrors"] == []
    sold_out = await graphql(kernel, member(3)).mutate(BUY, sku=shop.sku, item=item)
    assert sold_out["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT"
    assert (await me.data(SESSION, id=session))["flashSaleSession"]["items"] == [{"stockLeft": 0, "left": 0}]
    kernel.clock.advance(minutes=6)
    await kernel.run_due()
    # Both unpaid orders were cancelled at the window's end: the units are back, once.
    assert (await me.data(SESSION, id=session))["flashSaleSession"]["items"] == [{"stockLeft": 2, "left": 2}]
    assert await state(kernel) == {"sold": 0, "held": 0, "bought": 0, "orders": 0, "reserved": 0}
    await kernel.run_due()
    assert (await state(kernel))["sold"] == 0
    assert (await me.mutate(BUY, sku=shop.sku, item=item))["userErrors"] == []  # the member may buy again


async def test_countdown_and_session_window(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    session, item = await make_session(admin, kernel, shop.sku, starts_in=timedelta(minutes=10), lasts=timedelta(minutes=30))
    me = graphql(kernel, member(1))
    seen = (await me.data(SESSION, id=session))["flashSaleSession"]
    assert (seen["status"], seen["secondsToStart"], seen["secondsToEnd"]) == ("UPCOMING", 600, 2400)
    early = await me.mutate(BUY, sku=shop.sku, item=item)
    assert early["userErrors"][0]["code"] == "FLASH_SALE_NOT_STARTED"
    kernel.clock.advance(minutes=10, seconds=0.5)
    seen = (await me.data(SESSION, id=session))["flashSaleSession"]
    assert (seen["status"], seen["secondsToStart"], seen["secondsToEnd"]) == ("RUNNING", 0, 1800)
    kernel.clock.advance(minutes=30)
    late = await me.mutate(BUY, sku=shop.sku, item=item)
    assert late["userErrors"][0]["code"] == "FLASH_SALE_ENDED"
    listed = await me.data("{ flashSaleSessions { nodes { id } } }")
    assert listed["flashSaleSessions"]["nodes"] == []
    assert await state(kernel) == {"sold": 0, "held": 0, "bought": 0, "orders": 0, "reserved": 0}


async def test_bad_sessions_and_lines_are_refused_typed(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    now = kernel.clock.now()
    base = {"title": "x", "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
    dear = await admin.mutate(CREATE, input={**base, "items": [{"skuId": shop.sku, "flashPrice": CNY(10000), "quantity": 5}]})
    assert dear["userErrors"][0]["code"] == "FLASH_SALE_INVALID_SESSION" and dear["userErrors"][0]["field"] == "input.items[0].flashPrice"
    backwards = await admin.mutate(CREATE, input={**base, "endsAt": (now - timedelta(hours=1)).isoformat(),
                                                  "items": [{"skuId": shop.sku, "flashPrice": CNY(1), "quantity": 5}]})
    assert backwards["userErrors"][0]["field"] == "input.endsAt"
    me = graphql(kernel, member(1))
    forbidden = await me.mutate(CREATE, input={**base, "items": [{"skuId": shop.sku, "flashPrice": CNY(1), "quantity": 5}]})
    assert forbidden["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    _session, item = await make_session(admin, kernel, shop.sku)
    from core.gql.relay import to_global_id

    wrong_sku = await me.mutate(BUY, sku=to_global_id("Sku", shop.second_sku_id), item=item)
    assert wrong_sku["userErrors"][0]["code"] == "KERNEL_INVALID_INPUT"
    too_many = await me.mutate(BUY, sku=shop.sku, item=item, n=2)
    assert too_many["userErrors"][0]["code"] == "FLASH_SALE_LIMIT_REACHED"
    assert (await me.mutate(BUY, sku=shop.sku, item="garbage"))["userErrors"][0]["code"] == "KERNEL_INVALID_ID"
    assert (await state(kernel))["orders"] == 0


async def test_a_flash_sale_line_needs_an_order_of_its_own(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    _session, item = await make_session(admin_of(graphql, kernel), kernel, shop.sku)
    from core.gql.relay import to_global_id

    mixed = await graphql(kernel, member(1)).mutate(
        """mutation($input: CheckoutInput!) { placeOrder(input: {checkout: $input}) { order { id } userErrors { code field } } }""",
        input={"lines": [{"skuId": shop.sku, "quantity": 1, "flashSaleItemId": item},
                         {"skuId": to_global_id("Sku", shop.second_sku_id), "quantity": 1}]})
    assert mixed["userErrors"] == [{"code": "ORDERS_NEEDS_OWN_ORDER", "field": "input.lines[0].flashSaleItemId"}]
    assert (await state(kernel))["orders"] == 0


async def test_sessions_page_both_ways(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    made = [(await make_session(admin, kernel, shop.sku, quantity=1))[0] for _ in range(3)]
    page = "query($f: Int, $a: String, $l: Int, $b: String) { flashSaleSessions(first: $f, after: $a, last: $l, before: $b) {" \
           " edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage } } }"
    tail = (await admin.data(page, l=2))["flashSaleSessions"]
    assert [e["node"]["id"] for e in tail["edges"]] == made[1:] and tail["pageInfo"]["hasPreviousPage"] is True
    head = (await admin.data(page, l=5, b=tail["edges"][0]["cursor"]))["flashSaleSessions"]
    assert [e["node"]["id"] for e in head["edges"]] == made[:1]
    both = await admin.execute(page, {"f": 1, "l": 1})
    assert both["data"] is None and both["errors"][0]["path"] == ["flashSaleSessions"] and "not both" in both["errors"][0]["message"]
