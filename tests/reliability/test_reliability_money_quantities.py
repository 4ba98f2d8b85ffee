"""Issue 9, bad input: money and quantities that make no sense are refused and change nothing.

One table, one demo kernel: each row sends one mutation with a bad amount or quantity
(negative, zero, beyond the caps or beyond int64, not an integer, the wrong currency) and says
how it must be refused — a typed userError with its code and field, or ``GRAPHQL`` when the
value cannot even pass GraphQL's own coercion (a float or a string for an Int or a Long, a
number beyond 64 bits). After every row every table holds exactly the rows it held before.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import select

from core.db import metadata
from core.gql.relay import to_global_id
from core.testing import member, staff

DEMO = os.path.join(os.path.dirname(__file__), "..", "..", "blueprints", "demo.yaml")
GRAPHQL = "GRAPHQL"  # refused by GraphQL coercion: a top-level error without a path, no data

SKU = to_global_id("Sku", 1)
LOT = to_global_id("AuctionLot", 1)
MEMBER = to_global_id("Member", 1)
ITEM = to_global_id("PointsMallItem", 1)
OFFER = to_global_id("GroupBuyOffer", 1)
PRODUCT = to_global_id("Product", 1)


def cny(amount):  # noqa: ANN001, ANN201
    return {"amountMinor": amount, "currency": "CNY"}


ORDER = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } userErrors { code field } } }"
BID = "mutation($i: PlaceBidInput!) { placeBid(input: $i) { userErrors { code field } } }"
PRODUCT_NEW = "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } userErrors { code field } } }"
SKU_NEW = "mutation($i: CreateSkuInput!) { createSku(input: $i) { sku { id } userErrors { code field } } }"
SKU_EDIT = "mutation($i: UpdateSkuInput!) { updateSku(input: $i) { sku { id } userErrors { code field } } }"
STOCK = "mutation($i: SetStockInput!) { setStock(input: $i) { userErrors { code field } } }"
POINTS = "mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code field } } }"
MALL_NEW = "mutation($i: CreatePointsMallItemInput!) { createPointsMallItem(input: $i) { userErrors { code field } } }"
MALL_EDIT = "mutation($i: UpdatePointsMallItemInput!) { updatePointsMallItem(input: $i) { userErrors { code field } } }"
REDEEM = "mutation($i: RedeemPointsItemInput!) { redeemPointsItem(input: $i) { userErrors { code field } } }"
OFFER_NEW = "mutation($i: CreateGroupBuyOfferInput!) { createGroupBuyOffer(input: $i) { userErrors { code field } } }"
OPEN = "mutation($i: OpenGroupInput!) { openGroup(input: $i) { userErrors { code field } } }"
COUPON_NEW = "mutation($i: CreateCouponTemplateInput!) { createCouponTemplate(input: $i) { userErrors { code field } } }"
FLASH_NEW = "mutation($i: CreateFlashSaleSessionInput!) { createFlashSaleSession(input: $i) { userErrors { code field } } }"
FLASH_BUY = "mutation($i: BuyFlashSaleItemInput!) { buyFlashSaleItem(input: $i) { userErrors { code field } } }"
LOT_NEW = "mutation($i: CreateAuctionLotInput!) { createAuctionLot(input: $i) { userErrors { code field } } }"
FOR_CUSTOMER = "mutation($i: PlaceOrderForCustomerInput!) { placeOrderForCustomer(input: $i) { orderId userErrors { code field } } }"

ADMIN, BUYER, GUIDE = staff(1, "admin"), member(1), staff(5, "guide")  # staff 5: the demo's shopping guide
START, END = "2026-12-02T00:00:00+00:00", "2026-12-09T00:00:00+00:00"


def order(quantity):  # noqa: ANN001, ANN201
    return {"lines": [{"skuId": SKU, "quantity": quantity}]}


def sku(price, **extra):  # noqa: ANN001, ANN201
    return {"title": "bad", "price": price, **extra}


def offer(**changes):  # noqa: ANN201
    return {"skuId": SKU, "groupPrice": cny(1000), "groupSize": 3, "startsAt": START, "endsAt": END, "totalLimit": 10, **changes}


def lot(**changes):  # noqa: ANN201
    return {"skuId": SKU, "startPrice": cny(1000), "increment": cny(100), "startsAt": START, "endsAt": END, **changes}


def mall(**changes):  # noqa: ANN201
    return {"title": "bad", "pointsPrice": 100, "stock": 5, **changes}


def coupon(**changes):  # noqa: ANN201
    return {"title": "bad", "kind": "FIXED", "amountOff": cny(100), "validDays": 3, **changes}


def flash(**changes):  # noqa: ANN201
    return {"title": "bad", "startsAt": START, "endsAt": "2026-12-08T00:00:00+00:00",
            "items": [{"skuId": SKU, "flashPrice": cny(100), "quantity": 5, **changes}]}


INVALID = "KERNEL_INVALID_INPUT"
MALL, OFFER_BAD = "POINTS_MALL_INVALID_ITEM", "GROUP_BUY_INVALID_OFFER"
INT64_OVER = 2**63
# (id, document, actor, input, expected: GRAPHQL or (code, field))
CASES = [
    # coupons: amounts, percentages, quantities and limits
    ("coupon-amount-negative", COUPON_NEW, ADMIN, coupon(amountOff=cny(-1)), (INVALID, "input.amountOff")),
    ("coupon-amount-zero", COUPON_NEW, ADMIN, coupon(amountOff=cny(0)), ("COUPONS_INVALID_TEMPLATE", "input.amountOff")),
    ("coupon-amount-usd", COUPON_NEW, ADMIN, coupon(amountOff={"amountMinor": 100, "currency": "USD"}), (INVALID, "input.amountOff")),
    ("coupon-amount-over-threshold", COUPON_NEW, ADMIN, coupon(threshold=cny(50)), ("COUPONS_INVALID_TEMPLATE", "input.amountOff")),
    ("coupon-percent-100", COUPON_NEW, ADMIN, coupon(kind="PERCENT", percentOff=100), ("COUPONS_INVALID_TEMPLATE", "input.percentOff")),
    ("coupon-cap-negative", COUPON_NEW, ADMIN, coupon(kind="PERCENT", percentOff=10, cap=cny(-1)), (INVALID, "input.cap")),
    ("coupon-total-zero", COUPON_NEW, ADMIN, coupon(totalQuantity=0), ("COUPONS_INVALID_TEMPLATE", "input.totalQuantity")),
    ("coupon-total-10^12", COUPON_NEW, ADMIN, coupon(totalQuantity=10**12), GRAPHQL),
    ("coupon-limit-zero", COUPON_NEW, ADMIN, coupon(perMemberLimit=0), ("COUPONS_INVALID_TEMPLATE", "input.perMemberLimit")),
    ("coupon-days-negative", COUPON_NEW, ADMIN, coupon(validDays=-3), ("COUPONS_INVALID_TEMPLATE", "input.validDays")),
    # flash sale: prices, quantities and limits
    ("flash-price-negative", FLASH_NEW, ADMIN, flash(flashPrice=cny(-1)), (INVALID, "input.items[0].flashPrice")),
    ("flash-price-not-below", FLASH_NEW, ADMIN, flash(flashPrice=cny(10**9)), ("FLASH_SALE_INVALID_SESSION", "input.items[0].flashPrice")),
    ("flash-quantity-zero", FLASH_NEW, ADMIN, flash(quantity=0), ("FLASH_SALE_INVALID_SESSION", "input.items[0].quantity")),
    ("flash-limit-zero", FLASH_NEW, ADMIN, flash(perMemberLimit=0), ("FLASH_SALE_INVALID_SESSION", "input.items[0].perMemberLimit")),
    ("flash-buy-zero", FLASH_BUY, BUYER, {"itemId": to_global_id("FlashSaleItem", 1), "quantity": 0},
     ("FLASH_SALE_INVALID_QUANTITY", "input.quantity")),
    ("flash-buy-over", FLASH_BUY, BUYER, {"itemId": to_global_id("FlashSaleItem", 1), "quantity": 101},
     ("FLASH_SALE_INVALID_QUANTITY", "input.quantity")),
    # createOrder: quantities
    ("order-qty-0", ORDER, BUYER, order(0), ("ORDERS_INVALID_QUANTITY", "input.lines[0].quantity")),
    ("order-qty-negative", ORDER, BUYER, order(-1), ("ORDERS_INVALID_QUANTITY", "input.lines[0].quantity")),
    ("order-qty-over-cap", ORDER, BUYER, order(1000), ("ORDERS_INVALID_QUANTITY", "input.lines[0].quantity")),
    ("order-qty-int32-max", ORDER, BUYER, order(2**31 - 1), ("ORDERS_INVALID_QUANTITY", "input.lines[0].quantity")),
    ("order-qty-10^12", ORDER, BUYER, order(10**12), GRAPHQL),
    ("order-qty-float", ORDER, BUYER, order(1.5), GRAPHQL),
    ("order-qty-string", ORDER, BUYER, order("1"), GRAPHQL),
    ("order-no-lines", ORDER, BUYER, {"lines": []}, ("ORDERS_EMPTY", "input.lines")),
    # placeOrderForCustomer (代客下单): the guide's order goes through the same checkout
    ("guide-order-qty-0", FOR_CUSTOMER, GUIDE, {"memberId": MEMBER, **order(0)}, ("ORDERS_INVALID_QUANTITY", "input.lines[0].quantity")),
    ("guide-order-qty-negative", FOR_CUSTOMER, GUIDE, {"memberId": MEMBER, **order(-1)},
     ("ORDERS_INVALID_QUANTITY", "input.lines[0].quantity")),
    ("guide-order-qty-10^12", FOR_CUSTOMER, GUIDE, {"memberId": MEMBER, **order(10**12)}, GRAPHQL),
    ("guide-order-no-lines", FOR_CUSTOMER, GUIDE, {"memberId": MEMBER, "lines": []}, ("KERNEL_INVALID_INPUT", "input.lines")),
    # placeBid: amounts (member 1 has paid the deposit of demo lot 1, which is open)
    ("bid-negative", BID, BUYER, {"lotId": LOT, "amount": cny(-1)}, (INVALID, "input.amount")),
    ("bid-zero", BID, BUYER, {"lotId": LOT, "amount": cny(0)}, (INVALID, "input.amount")),
    ("bid-over-cap", BID, BUYER, {"lotId": LOT, "amount": cny(10**13 + 1)}, (INVALID, "input.amount")),
    ("bid-int64-max", BID, BUYER, {"lotId": LOT, "amount": cny(2**63 - 1)}, (INVALID, "input.amount")),
    ("bid-beyond-int64", BID, BUYER, {"lotId": LOT, "amount": cny(INT64_OVER)}, GRAPHQL),
    ("bid-float", BID, BUYER, {"lotId": LOT, "amount": cny(310000.5)}, GRAPHQL),
    ("bid-string", BID, BUYER, {"lotId": LOT, "amount": cny("310000")}, GRAPHQL),
    ("bid-usd", BID, BUYER, {"lotId": LOT, "amount": {"amountMinor": 310000, "currency": "USD"}}, (INVALID, "input.amount")),
    ("bid-no-currency", BID, BUYER, {"lotId": LOT, "amount": {"amountMinor": 310000, "currency": ""}}, (INVALID, "input.amount")),
    ("bid-maximum-negative", BID, BUYER, {"lotId": LOT, "amount": cny(310000), "maximum": cny(-5)}, (INVALID, "input.maximum")),
    ("bid-maximum-usd", BID, BUYER, {"lotId": LOT, "amount": cny(310000), "maximum": {"amountMinor": 400000, "currency": "JPY"}}, (INVALID, "input.maximum")),
    # catalog prices
    ("product-price-negative", PRODUCT_NEW, ADMIN, {"title": "bad", "skus": [sku(cny(-1))]}, (INVALID, "input.skus[0].price")),
    ("product-price-over-cap", PRODUCT_NEW, ADMIN, {"title": "bad", "skus": [sku(cny(10**14))]}, (INVALID, "input.skus[0].price")),
    ("product-price-usd", PRODUCT_NEW, ADMIN, {"title": "bad", "skus": [sku({"amountMinor": 100, "currency": "USD"})]}, (INVALID, "input.skus[0].price")),
    ("product-price-float", PRODUCT_NEW, ADMIN, {"title": "bad", "skus": [sku(cny(0.5))]}, GRAPHQL),
    ("product-list-price-negative", PRODUCT_NEW, ADMIN, {"title": "bad", "skus": [sku(cny(100), listPrice=cny(-100))]}, (INVALID, "input.skus[0].listPrice")),
    ("product-second-sku-usd", PRODUCT_NEW, ADMIN, {"title": "bad", "skus": [sku(cny(100)), sku({"amountMinor": 1, "currency": "EUR"})]}, (INVALID, "input.skus[1].price")),
    ("sku-new-price-negative", SKU_NEW, ADMIN, {"productId": PRODUCT, "sku": sku(cny(-1))}, (INVALID, "input.sku.price")),
    ("sku-edit-price-negative", SKU_EDIT, ADMIN, {"id": SKU, "price": cny(-1)}, (INVALID, "input.price")),
    ("sku-edit-price-usd", SKU_EDIT, ADMIN, {"id": SKU, "price": {"amountMinor": 100, "currency": "USD"}}, (INVALID, "input.price")),
    ("sku-edit-price-beyond-int64", SKU_EDIT, ADMIN, {"id": SKU, "price": cny(-INT64_OVER - 1)}, GRAPHQL),
    # stock
    ("stock-negative", STOCK, ADMIN, {"skuId": SKU, "onHand": -1}, (INVALID, "input.onHand")),
    ("stock-10^12", STOCK, ADMIN, {"skuId": SKU, "onHand": 10**12}, GRAPHQL),
    # points adjustments
    ("points-zero", POINTS, ADMIN, {"memberId": MEMBER, "delta": 0, "note": "x"}, ("POINTS_MALL_INVALID_QUANTITY", "input.delta")),
    ("points-below-balance", POINTS, ADMIN, {"memberId": MEMBER, "delta": -(2**31), "note": "x"}, ("POINTS_MALL_NOT_ENOUGH_POINTS", "input.delta")),
    ("points-10^12", POINTS, ADMIN, {"memberId": MEMBER, "delta": 10**12, "note": "x"}, GRAPHQL),
    ("points-float", POINTS, ADMIN, {"memberId": MEMBER, "delta": 1.5, "note": "x"}, GRAPHQL),
    # points mall items and redemptions
    ("mall-points-negative", MALL_NEW, ADMIN, mall(pointsPrice=-1), (MALL, "input.pointsPrice")),
    ("mall-stock-negative", MALL_NEW, ADMIN, mall(stock=-1), (MALL, "input.stock")),
    ("mall-cash-negative", MALL_NEW, ADMIN, mall(cashPrice=cny(-1)), (INVALID, "input.cashPrice")),
    ("mall-cash-usd", MALL_NEW, ADMIN, mall(cashPrice={"amountMinor": 100, "currency": "USD"}), (INVALID, "input.cashPrice")),
    ("mall-limit-zero", MALL_NEW, ADMIN, mall(perMemberLimit=0), (MALL, "input.perMemberLimit")),
    ("mall-edit-stock-negative", MALL_EDIT, ADMIN, {"itemId": ITEM, "stock": -1}, (MALL, "input.stock")),
    ("mall-edit-points-negative", MALL_EDIT, ADMIN, {"itemId": ITEM, "pointsPrice": -1}, (MALL, "input.pointsPrice")),
    ("redeem-qty-0", REDEEM, BUYER, {"itemId": ITEM, "quantity": 0}, ("POINTS_MALL_INVALID_QUANTITY", "input.quantity")),
    ("redeem-qty-negative", REDEEM, BUYER, {"itemId": ITEM, "quantity": -1}, ("POINTS_MALL_INVALID_QUANTITY", "input.quantity")),
    ("redeem-qty-10^12", REDEEM, BUYER, {"itemId": ITEM, "quantity": 10**12}, GRAPHQL),
    # group buy
    ("offer-price-negative", OFFER_NEW, ADMIN, offer(groupPrice=cny(-1)), (INVALID, "input.groupPrice")),
    # (a group price of 0 is allowed on purpose: 0-yuan group buys, free leaders)
    ("offer-price-usd", OFFER_NEW, ADMIN, offer(groupPrice={"amountMinor": 1000, "currency": "USD"}), (INVALID, "input.groupPrice")),
    ("offer-size-1", OFFER_NEW, ADMIN, offer(groupSize=1), (OFFER_BAD, "input.groupSize")),
    ("offer-size-negative", OFFER_NEW, ADMIN, offer(groupSize=-1), (OFFER_BAD, "input.groupSize")),
    ("offer-total-negative", OFFER_NEW, ADMIN, offer(totalLimit=-1), (OFFER_BAD, "input.totalLimit")),
    ("offer-per-member-zero", OFFER_NEW, ADMIN, offer(perMemberLimit=0), (OFFER_BAD, "input.perMemberLimit")),
    ("offer-leader-price-negative", OFFER_NEW, ADMIN, offer(leaderPrice=cny(-1)), (INVALID, "input.leaderPrice")),
    ("offer-size-float", OFFER_NEW, ADMIN, offer(groupSize=2.5), GRAPHQL),
    ("open-qty-0", OPEN, BUYER, {"offerId": OFFER, "quantity": 0}, (INVALID, "input.quantity")),
    ("open-qty-negative", OPEN, BUYER, {"offerId": OFFER, "quantity": -1}, (INVALID, "input.quantity")),
    # auctions
    ("lot-start-negative", LOT_NEW, ADMIN, lot(startPrice=cny(-1)), (INVALID, "input.startPrice")),
    ("lot-start-usd", LOT_NEW, ADMIN, lot(startPrice={"amountMinor": 1000, "currency": "USD"}), (INVALID, "input.startPrice")),
    ("lot-increment-zero", LOT_NEW, ADMIN, lot(increment=cny(0)), (INVALID, "input.increment")),
    ("lot-increment-negative", LOT_NEW, ADMIN, lot(increment=cny(-100)), (INVALID, "input.increment")),
    ("lot-deposit-negative", LOT_NEW, ADMIN, lot(deposit=cny(-1)), (INVALID, "input.deposit")),
    ("lot-reserve-over-cap", LOT_NEW, ADMIN, lot(reservePrice=cny(10**13 + 1)), (INVALID, "input.reservePrice")),
    ("lot-buy-now-usd", LOT_NEW, ADMIN, lot(buyNowPrice={"amountMinor": 5000, "currency": "USD"}), (INVALID, "input.buyNowPrice")),
    ("lot-ladder-step-zero", LOT_NEW, ADMIN, lot(increment=None, ladder=[{"fromPrice": cny(0), "step": cny(0)}]), (INVALID, "input.ladder[0].step")),
    ("lot-start-beyond-int64", LOT_NEW, ADMIN, lot(startPrice=cny(INT64_OVER)), GRAPHQL),
]


async def snapshot(kernel) -> dict[str, str]:  # noqa: ANN001
    """A digest of every row of every table this kernel has (the kernel's own and its components'), by table."""
    digests = {}
    mine = set(kernel.contributions.tables)
    async with kernel.db.read() as session:
        for table in metadata.sorted_tables:
            if table.name not in mine and not table.name.startswith("kernel_"):
                continue  # a table of a component some other test defined, not created here
            rows = (await session.execute(select(table))).all()
            digests[table.name] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    return digests


def outcome(body: dict) -> object:
    """GRAPHQL, (code, field) of the one userError, or a description of anything else."""
    errors = body.get("errors")
    if errors:
        if body.get("data") is None and all("path" not in e for e in errors):
            return GRAPHQL
        return f"errors: {errors}"
    payload = next(iter(body["data"].values()))
    found = payload.get("userErrors") or []
    if len(found) == 1:
        return (found[0]["code"], found[0]["field"])
    return f"userErrors: {found}" if found else f"accepted: {payload}"


@pytest.fixture
async def demo(kernel_factory):
    with open(DEMO, encoding="utf-8") as f:
        kernel = await kernel_factory(f.read(), seed_demo=True)
    return kernel


async def test_bad_money_and_quantities_are_typed_refusals_that_change_nothing(demo, graphql):
    buyer, admin = graphql(demo, BUYER), graphql(demo, ADMIN)
    deposit = await buyer.mutate("mutation($l: ID!) { payLotDeposit(input: {lotId: $l}) { order { id } userErrors { code } } }", l=LOT)
    payment = await buyer.mutate("mutation($o: ID!) { payOrder(input: {orderId: $o}) { payment { id } userErrors { code } } }",
                                 o=deposit["order"]["id"])
    paid = await buyer.mutate("mutation($p: ID!) { sandboxSettlePayment(input: {paymentId: $p}) { userErrors { code } } }",
                              p=payment["payment"]["id"])
    assert deposit["userErrors"] == paid["userErrors"] == []  # the deposit order, paid through the provider
    clients = {id(BUYER): buyer, id(ADMIN): admin, id(GUIDE): graphql(demo, GUIDE)}
    wrong = []
    for name, document, actor, value, expected in CASES:
        before = await snapshot(demo)
        got = outcome(await clients[id(actor)].execute(document, {"i": value}))
        changed = sorted(t for t, digest in (await snapshot(demo)).items() if before.get(t) != digest)
        if got != expected or changed:
            wrong.append(f"{name}: expected {expected}, got {got}" + (f"; tables changed: {changed}" if changed else ""))
    assert not wrong, f"{len(wrong)} of {len(CASES)} rows:\n" + "\n".join(wrong)
    assert len(before) > 20  # the snapshot saw the components' tables, not only the kernel's


def test_the_table_covers_every_kind_of_bad_value():
    names = " ".join(name for name, *_ in CASES)
    for kind in ("negative", "zero", "over-cap", "beyond-int64", "10^12", "float", "string", "usd", "qty-0"):
        assert kind in names, kind
    assert {document for _, document, *_ in CASES} >= {ORDER, BID, PRODUCT_NEW, SKU_EDIT, STOCK, POINTS, MALL_NEW, REDEEM, OFFER_NEW, OPEN, LOT_NEW}
    assert sum(expected == GRAPHQL for *_, expected in CASES) >= 10
