"""The cart and the one checkout: previewCheckout writes nothing and shows what placeOrder will
write; placeOrder writes exactly that or says what changed; the cart flags lines that can no
longer be bought."""

from __future__ import annotations

from components.inventory.models import Reservation
from components.orders.models import CartLine, Order, OrderLine
from core.testing import member, staff

CART = "{ myCart { lines { id quantity unavailableReason availability sku { id } } } }"
ADD = """mutation($sku: ID!, $q: Int!) { addCartLine(input: {line: {skuId: $sku, quantity: $q}}) {
  cart { lines { id quantity } } userErrors { code field } } }"""
UPDATE = """mutation($id: ID!, $q: Int!) { updateCartLine(input: {lineId: $id, quantity: $q}) {
  cart { lines { id quantity } } userErrors { code field } } }"""
REMOVE = """mutation($id: ID!) { removeCartLine(input: {lineId: $id}) { cart { lines { id } } userErrors { code field } } }"""
PREVIEW = """query($c: CheckoutInput!) { previewCheckout(input: $c) {
  preview { subtotal { amountMinor } total { amountMinor }
            lines { index quantity unitPrice { amountMinor } total { amountMinor } activity { component ref } sku { id } }
            deliveryOptions { type component } needs { component field message } }
  userErrors { code field } } }"""
PLACE = """mutation($c: CheckoutInput!, $t: Long, $key: String) {
  placeOrder(input: {checkout: $c, expectedTotal: $t, idempotencyKey: $key}) {
    order { id status total { amountMinor } lines { quantity total { amountMinor } } } userErrors { code field details } } }"""


async def _counts(shop) -> tuple[int, int, int]:
    return (await shop.count(Order), await shop.count(OrderLine), await shop.count(Reservation))


async def test_cart_add_merge_change_remove_and_flag_what_cannot_be_bought(shop_factory, graphql):
    shop = await shop_factory(stock=5)
    buyer, other = graphql(shop.kernel, member(1)), graphql(shop.kernel, member(2))
    assert (await buyer.data(CART))["myCart"] == {"lines": []}
    await buyer.mutate(ADD, sku=shop.sku, q=2)
    merged = await buyer.mutate(ADD, sku=shop.sku, q=1)  # the same SKU again: units add up
    assert [l["quantity"] for l in merged["cart"]["lines"]] == [3]
    line_id = merged["cart"]["lines"][0]["id"]

    # Bad input: typed, and the cart is unchanged.
    for bad in (0, -1, 1000):
        assert (await buyer.mutate(UPDATE, id=line_id, q=bad))["userErrors"][0]["code"] == "ORDERS_INVALID_QUANTITY"
    assert (await other.mutate(UPDATE, id=line_id, q=1))["userErrors"] == [{"code": "KERNEL_NOT_FOUND", "field": "input.lineId"}]
    assert (await buyer.mutate(UPDATE, id="x1", q=1))["userErrors"][0]["code"] == "KERNEL_INVALID_ID"
    assert (await buyer.data(CART))["myCart"]["lines"][0]["quantity"] == 3
    staff_add = await graphql(shop.kernel, staff(1, "admin")).mutate(ADD, sku=shop.sku, q=1)
    assert staff_add["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"

    # More than is in stock, then withdrawn from sale: the line stays, flagged with the reason.
    assert (await buyer.data(CART))["myCart"]["lines"][0]["availability"] == "AVAILABLE"
    await buyer.mutate(UPDATE, id=line_id, q=6)
    flagged = (await buyer.data(CART))["myCart"]["lines"][0]
    assert (flagged["unavailableReason"], flagged["availability"]) == ("NOT_ENOUGH_STOCK", "NOT_ENOUGH_STOCK")
    async with shop.kernel.transaction() as tx:
        await shop.kernel.service("catalog").update_product(tx, shop.product_id, {"status": "off_sale"})
    flagged = (await buyer.data(CART))["myCart"]["lines"][0]
    assert (flagged["unavailableReason"], flagged["availability"]) == ("NOT_ON_SALE", "NOT_ON_SALE")
    before = await _counts(shop)
    refused = await buyer.mutate(PLACE, c={})
    assert refused["userErrors"][0]["code"] == "ORDERS_SKU_UNAVAILABLE" and await _counts(shop) == before
    assert (await buyer.mutate(REMOVE, id=line_id))["cart"] == {"lines": []}


async def test_preview_writes_nothing_and_place_writes_exactly_what_it_showed(shop_factory, graphql):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    await buyer.mutate(ADD, sku=shop.sku, q=2)
    from core.gql.relay import to_global_id

    second = to_global_id("Sku", shop.second_sku_id)
    await buyer.mutate(ADD, sku=second, q=1)
    before = await _counts(shop)
    preview = (await buyer.data(PREVIEW, c={}))["previewCheckout"]
    assert preview["userErrors"] == []
    shown = preview["preview"]
    assert (shown["subtotal"]["amountMinor"], shown["total"]["amountMinor"]) == (40000, 40000)
    assert [(l["quantity"], l["total"]["amountMinor"], l["activity"]) for l in shown["lines"]] == [(2, 20000, None), (1, 20000, None)]
    assert shown["deliveryOptions"] == [{"type": "SHIPPING", "component": "orders"}] and shown["needs"] == []
    assert await _counts(shop) == before  # nothing written, no stock held
    pickup = (await buyer.data(PREVIEW, c={"deliveryType": "PICKUP"}))["previewCheckout"]
    assert pickup["userErrors"] == [{"code": "ORDERS_STORE_REQUIRED", "field": "input.deliveryType"}]  # no store_pickup here

    # The price changed after the preview: nothing is placed and the new total is given.
    async with shop.kernel.transaction() as tx:
        await shop.kernel.service("catalog").update_sku(tx, shop.sku_id, {"price_minor": 12000})
    changed = await buyer.mutate(PLACE, c={}, t=shown["total"]["amountMinor"])
    assert changed["order"] is None and changed["userErrors"][0]["code"] == "ORDERS_PRICE_CHANGED"
    assert changed["userErrors"][0]["details"]["totalMinor"] == 44000 and await _counts(shop) == before

    placed = await buyer.mutate(PLACE, c={}, t=44000, key="cart-1")
    assert placed["userErrors"] == [] and placed["order"]["total"] == {"amountMinor": 44000}
    assert [l["total"]["amountMinor"] for l in placed["order"]["lines"]] == [24000, 20000]
    assert (await buyer.data(CART))["myCart"] == {"lines": []}  # what was bought left the cart
    assert await shop.count(CartLine) == 0
    # The same key again answers the same order; the same key for something else is refused.
    again = await buyer.mutate(PLACE, c={}, t=44000, key="cart-1")
    assert again["order"]["id"] == placed["order"]["id"]
    other = await buyer.mutate(PLACE, c={"lines": [{"skuId": shop.sku, "quantity": 1}]}, key="cart-1")
    assert other["userErrors"][0]["code"] == "KERNEL_IDEMPOTENCY_CONFLICT"
    assert await shop.count(Order) == before[0] + 1
