"""Bad input gets a typed userError and changes nothing: every refusal below is checked against
the row counts of offers, groups, memberships, orders, payments, refunds and stock holds."""

from __future__ import annotations

from datetime import timedelta

from group_buy_helpers import JOIN, OFFER, OPEN, counts, pay, start

from core.testing import member, staff


async def test_bad_input_gets_typed_errors_and_changes_nothing(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, size=2, total=4, perMemberLimit=2)
    kernel, offer = s.kernel, s.offer
    admin = graphql(kernel, staff(1, "admin"))
    a, b, c, d = (graphql(kernel, member(i)) for i in (1, 2, 3, 4))
    now = clock.now()

    async def refused(client, document: str, error: str, field: str | None = None, **variables) -> None:
        before = await counts(kernel)
        payload = await client.mutate(document, **variables)
        errors = payload["userErrors"]
        assert [e["code"] for e in errors] == [error], payload
        if field is not None:
            assert errors[0]["field"] == field, errors
        assert await counts(kernel) == before, f"{error} changed something"

    def offer_input(**changes):
        return {"skuId": s.shop.sku, "groupPrice": {"amountMinor": 5000, "currency": "CNY"}, "groupSize": 2,
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(days=1)).isoformat(), "totalLimit": 5, **changes}

    # Offers: a SKU already in another active offer, nonsense settings, a member trying.
    await refused(admin, OFFER, "GROUP_BUY_SKU_IN_OFFER", "input.skuId", input=offer_input())
    await refused(admin, OFFER, "GROUP_BUY_INVALID_OFFER", "input.groupSize", input=offer_input(skuId=_second(s), groupSize=1))
    await refused(admin, OFFER, "GROUP_BUY_INVALID_OFFER", "input.endsAt",
                  input=offer_input(skuId=_second(s), endsAt=now.isoformat()))
    await refused(admin, OFFER, "GROUP_BUY_INVALID_OFFER", "input.leaderDiscount", input=offer_input(
        skuId=_second(s), leaderPrice={"amountMinor": 4000, "currency": "CNY"}, leaderDiscount={"amountMinor": 100, "currency": "CNY"}))
    await refused(a, OFFER, "KERNEL_FORBIDDEN", input=offer_input(skuId=_second(s)))
    # Each limit is named on its own field (the per-member one used to point at totalLimit).
    await refused(admin, OFFER, "GROUP_BUY_INVALID_OFFER", "input.totalLimit", input=offer_input(skuId=_second(s), totalLimit=0))
    await refused(admin, OFFER, "GROUP_BUY_INVALID_OFFER", "input.perMemberLimit", input=offer_input(skuId=_second(s), perMemberLimit=0))

    # An offer outside its window: not yet started.
    later = await admin.mutate(OFFER, input=offer_input(skuId=_second(s), startsAt=(now + timedelta(days=1)).isoformat(),
                                                       endsAt=(now + timedelta(days=2)).isoformat()))
    assert later["userErrors"] == []
    await refused(a, OPEN, "GROUP_BUY_OFFER_NOT_ACTIVE", "input.offerId", offer=later["offer"]["id"])

    # A opens and pays; joining one's own group, twice, or beyond the per-member limit.
    opened = await a.mutate(OPEN, offer=offer)
    await pay(a, opened["order"]["id"])
    code = opened["group"]["shareCode"]
    await refused(a, JOIN, "GROUP_BUY_ALREADY_IN_GROUP", "input.shareCode", code=code)
    assert (await b.mutate(JOIN, code=code))["userErrors"] == []  # B joins, has not paid yet
    await refused(b, JOIN, "GROUP_BUY_ALREADY_IN_GROUP", "input.shareCode", code=code)
    await refused(a, OPEN, "GROUP_BUY_LIMIT_REACHED", "input.quantity", offer=offer, quantity=3)
    await refused(c, OPEN, "KERNEL_INVALID_INPUT", "input.quantity", offer=offer, quantity=0)
    await refused(b, OPEN, "GROUP_BUY_LIMIT_REACHED", "input.offerId", offer=offer, quantity=2)  # 1 held + 2 > 2
    await refused(b, JOIN, "GROUP_BUY_UNKNOWN_GROUP", "input.shareCode", code="no-such-code")

    # The offer's total: 4 units; A and B hold 2, C opens with 2, D finds it sold out.
    assert (await c.mutate(OPEN, offer=offer, quantity=2))["userErrors"] == []
    await refused(d, OPEN, "GROUP_BUY_SOLD_OUT", offer=offer)

    # Full: B pays the second seat; D may not join a group that succeeded.
    await pay(b, (await _order_of(b, opened["group"]["id"])))
    await refused(d, JOIN, "GROUP_BUY_GROUP_FULL", "input.shareCode", code=code)

    # Expired (deadline passed, timer not yet run) and failed (timer ran): C's group.
    c_group = (await c.data("{ myGroupBuys { edges { node { shareCode } } } }"))["myGroupBuys"]["edges"][0]["node"]["shareCode"]
    await pay(c, await _order_of(c, None))
    clock.advance(hours=24, seconds=1)
    await refused(d, JOIN, "GROUP_BUY_GROUP_CLOSED", "input.shareCode", code=c_group)
    await kernel.run_due()
    await refused(d, JOIN, "GROUP_BUY_GROUP_CLOSED", "input.shareCode", code=c_group)
    # After the window the offer refuses openers.
    clock.advance(days=3)
    await refused(d, OPEN, "GROUP_BUY_OFFER_NOT_ACTIVE", "input.offerId", offer=offer)


def _second(s) -> str:
    from core.gql.relay import to_global_id

    return to_global_id("Sku", s.shop.second_sku_id)


async def _order_of(client, group_id: str | None) -> str:
    """The member's unpaid group-buy order (in ``group_id`` when given)."""
    body = await client.data("{ myOrders(first: 20) { edges { node { id status source { groupId } } } } }")
    for edge in body["myOrders"]["edges"]:
        node = edge["node"]
        if node["status"] == "PENDING_PAYMENT" and (group_id is None or node["source"]["groupId"] == group_id):
            return node["id"]
    raise AssertionError(f"no unpaid order in {body}")
