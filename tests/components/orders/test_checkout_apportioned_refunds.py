"""An order-level discount, end to end: shared over the lines, stored per line, and a line's
refund never pays back more than was paid for it.

A test component takes 10 yuan off the whole order at the ``threshold`` stage (满减), the way
a promotions component would, through the declared price-adjuster registrar.
"""

from __future__ import annotations

from conftest import open_shop
from sqlalchemy import select

from components.orders.models import Order, OrderLine, Refund
from core.gql.relay import to_global_id
from core.testing import member, staff

PROMO = """
    from core.hookspecs import hookimpl

    def take_ten_yuan_off(tx, draft):
        draft.adjust(-1000, "满减")

    @hookimpl
    def dougong_price_adjusters(registrar):
        registrar.price_adjuster("threshold", take_ten_yuan_off)
"""
SHOP = """\
dougong: 1
brand: {slug: promo, name: Promo, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
  promo: {}
"""
LINES = "lines { id quantity total { amountMinor } adjustments { component stage label amount { amountMinor } } }"
PLACE = """mutation($a: ID!, $b: ID!) { placeOrder(input: {checkout: {lines: [{skuId: $a, quantity: 1}, {skuId: $b, quantity: 2}]}}) {
  order { id total { amountMinor } orderAdjustments { component stage label amount { amountMinor } } %s } userErrors { code } } }""" % LINES
PREVIEW = """query($a: ID!, $b: ID!) { previewCheckout(input: {lines: [{skuId: $a, quantity: 1}, {skuId: $b, quantity: 2}]}) {
  preview { total { amountMinor } lines { total { amountMinor } } } userErrors { code } } }"""
PAY = "mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }"
SETTLE = "mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }"
REFUND = """mutation($id: ID!, $lines: [RefundLineInput!]) { refundOrder(input: {orderId: $id, lines: $lines}) {
  order { status refunded { amountMinor } %s } userErrors { code } } }""" % LINES


async def paid_order(kernel, graphql, shop) -> tuple[dict, object]:
    buyer = graphql(kernel, member(1))
    second = to_global_id("Sku", shop.second_sku_id)
    preview = (await buyer.data(PREVIEW, a=shop.sku, b=second))["previewCheckout"]
    placed = await buyer.mutate(PLACE, a=shop.sku, b=second)
    assert placed["userErrors"] == [], placed
    order = placed["order"]
    # The preview showed exactly what was placed.
    assert preview["preview"]["total"] == order["total"]
    assert [l["total"] for l in preview["preview"]["lines"]] == [l["total"] for l in order["lines"]]
    payment = (await buyer.mutate(PAY, id=order["id"]))["payment"]["id"]
    assert (await buyer.mutate(SETTLE, id=payment))["order"]["status"] == "PAID"
    return order, graphql(kernel, staff(1, "admin"))


async def test_an_order_level_discount_is_stored_per_line_and_bounds_each_refund(kernel_factory, graphql, make_component):
    promo = make_component("promo", hooks=PROMO, depends={"orders": ""})
    kernel = await kernel_factory(SHOP, installed=[promo])
    shop = await open_shop(kernel, members=2, stock=10, price=3333)  # lines of 3,333 and 2 x 6,666: 16,665
    order, admin = await paid_order(kernel, graphql, shop)

    assert order["total"]["amountMinor"] == 16665 - 1000
    assert order["orderAdjustments"] == [{"component": "promo", "stage": "threshold", "label": "满减", "amount": {"amountMinor": -1000}}]
    first, second = order["lines"]
    shares = [sum(a["amount"]["amountMinor"] for a in line["adjustments"] if a["stage"] == "apportioned") for line in order["lines"]]
    assert shares == [-200, -800]  # 3,333 : 13,332 of the thousand, by largest remainder
    assert [first["total"]["amountMinor"], second["total"]["amountMinor"]] == [3333 - 200, 13332 - 800]
    async with kernel.db.read() as session:
        stored = (await session.scalars(select(OrderLine.total_minor).order_by(OrderLine.id))).all()
    assert stored == [3133, 12532] and sum(stored) == order["total"]["amountMinor"]

    # Refunding the first line returns what was paid for it, not its list price.
    one = await admin.mutate(REFUND, id=order["id"], lines=[{"lineId": first["id"], "quantity": 1}])
    assert one["userErrors"] == [] and one["order"]["refunded"]["amountMinor"] == 3133
    # One unit of the second line: at most half of what its two units cost.
    unit = await admin.mutate(REFUND, id=order["id"], lines=[{"lineId": second["id"], "quantity": 1}])
    assert unit["order"]["refunded"]["amountMinor"] - 3133 <= 12532 // 2
    # The rest: the refunds add up to exactly the order total, never more.
    rest = await admin.mutate(REFUND, id=order["id"], lines=[{"lineId": second["id"], "quantity": 1}])
    assert rest["userErrors"] == [] and rest["order"]["status"] == "REFUNDED"
    assert rest["order"]["refunded"]["amountMinor"] == order["total"]["amountMinor"]
    async with kernel.db.read() as session:
        refunds = (await session.scalars(select(Refund.amount_minor).order_by(Refund.id))).all()
        assert await session.scalar(select(Order.refunded_minor)) == order["total"]["amountMinor"]
    assert refunds == [3133, 6266, 6266] and sum(refunds) == 15665


async def test_refunding_the_whole_order_returns_exactly_its_total(kernel_factory, graphql, make_component):
    promo = make_component("promo", hooks=PROMO, depends={"orders": ""})
    kernel = await kernel_factory(SHOP, installed=[promo])
    shop = await open_shop(kernel, members=2, stock=10, price=3333)
    order, admin = await paid_order(kernel, graphql, shop)
    whole = await admin.mutate(REFUND, id=order["id"], lines=None)
    assert whole["userErrors"] == [] and whole["order"]["status"] == "REFUNDED"
    assert whole["order"]["refunded"]["amountMinor"] == order["total"]["amountMinor"] == 15665
