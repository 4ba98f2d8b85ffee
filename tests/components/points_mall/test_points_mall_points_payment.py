"""积分抵现: points pay part of an order at the `points` price stage, split over the lines, and
come back per line on a refund and all at once on a cancellation."""

from __future__ import annotations

from points_mall_helpers import LEDGER, MY_POINTS, REFUND, admin_of, check_invariant, counts, grant, pay, start

from core.gql.relay import decode_id, to_global_id
from core.testing import member

PAYMENT = """    points_payment: {enabled: true, points_per_unit: 100, max_percent: 50, max_points: %d}\n"""
PREVIEW = """query($input: CheckoutInput!) { previewCheckout(input: $input) {
  preview { total { amountMinor } lines { total { amountMinor }
            adjustments { component stage label amount { amountMinor } } } }
  userErrors { code field } } }"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  order { id status total { amountMinor } lines { id quantity total { amountMinor } } } userErrors { code field } } }"""
CANCEL = """mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { order { status } userErrors { code } } }"""


def points_adjustments(line: dict) -> list[tuple[int, str]]:
    return [(a["amount"]["amountMinor"], a["label"]) for a in line["adjustments"] if a["stage"] == "points"]


async def balance(client) -> int:
    return (await client.data(MY_POINTS))["myPoints"]["balance"]


async def test_points_pay_part_of_the_order_per_line_and_come_back_per_line_on_refund(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, extra=PAYMENT % 3000, price=10000, grant_on="completed")
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 5000)
    checkout = {"lines": [{"skuId": shop.sku, "quantity": 1},
                          {"skuId": to_global_id("Sku", shop.second_sku_id), "quantity": 1}], "usePoints": 5000}
    before = await counts(kernel)
    preview = (await me.data(PREVIEW, input=checkout))["previewCheckout"]
    assert preview["userErrors"] == []
    lines = preview["preview"]["lines"]
    # 5000 offered, the brand's cap is 3000 points per order = 30.00 yuan, split 1:2 over the lines.
    assert [points_adjustments(line) for line in lines] == [[(-1000, "积分抵现 1000 points")],
                                                           [(-2000, "积分抵现 2000 points")]]
    assert await counts(kernel) == before  # a preview takes no points

    total = preview["preview"]["total"]["amountMinor"]
    placed = await me.mutate(PLACE, input={"checkout": checkout, "expectedTotal": total})
    assert placed["userErrors"] == [] and placed["order"]["total"]["amountMinor"] == total
    assert await balance(me) == 2000 and await check_invariant(kernel, 1) == 2000
    await pay(me, placed["order"]["id"])

    second = placed["order"]["lines"][1]
    assert (await admin.mutate(REFUND, id=placed["order"]["id"], lines=[{"lineId": second["id"], "quantity": 1}]))[
        "userErrors"] == []
    assert await balance(me) == 4000  # the second line's 2000 points, not the first line's
    ledger = [e["node"] for e in (await me.data(LEDGER))["myPointsLedger"]["edges"]]
    assert (ledger[0]["reason"], ledger[0]["delta"], ledger[0]["reference"]) == (
        "order_pay_returned", 2000, f"order_line:{decode_id(second['id'], 'OrderLine')}")  # the ledger keeps the row number
    await kernel.service("points_mall").on_order_refunded(kernel, await _last_event(kernel, "order.refunded"))
    assert await check_invariant(kernel, 1) == 4000  # a redelivered refund gives nothing twice


async def test_an_unpaid_order_cancelled_gives_every_point_back_and_the_percent_cap_holds(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, extra=PAYMENT % 100000, price=10000, grant_on="completed")
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 9000)
    checkout = {"lines": [{"skuId": shop.sku, "quantity": 1}], "usePoints": 9000}
    preview = (await me.data(PREVIEW, input=checkout))["previewCheckout"]["preview"]
    assert points_adjustments(preview["lines"][0]) == [(-5000, "积分抵现 5000 points")]  # at most 50% of 100.00
    placed = await me.mutate(PLACE, input={"checkout": checkout, "expectedTotal": preview["total"]["amountMinor"]})
    assert await balance(me) == 4000
    assert (await me.mutate(CANCEL, id=placed["order"]["id"]))["order"]["status"] == "CANCELLED"
    assert await balance(me) == 9000 and await check_invariant(kernel, 1) == 9000


async def test_points_payment_refusals_are_typed_and_change_nothing(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)  # the brand takes no points as payment
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 500)
    before = await counts(kernel)
    for offered, code in ((100, "POINTS_MALL_POINTS_PAYMENT_OFF"), (0, "POINTS_MALL_INVALID_QUANTITY"),
                          (-5, "POINTS_MALL_INVALID_QUANTITY")):
        placed = await me.mutate(PLACE, input={"checkout": {"lines": [{"skuId": shop.sku, "quantity": 1}],
                                                            "usePoints": offered}})
        assert [(e["code"], e["field"]) for e in placed["userErrors"]] == [(code, "input.usePoints")]
    assert await counts(kernel) == before


async def _last_event(kernel, name):
    from sqlalchemy import select

    from core.models import EventRow
    from core.transaction import Event

    async with kernel.db.read() as session:
        row = (await session.scalars(select(EventRow).where(EventRow.name == name).order_by(EventRow.id.desc()))).first()
    return Event(row.id, row.name, row.payload, row.created_at)
