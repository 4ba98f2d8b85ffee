"""Buy online, collect in store — through GraphQL only — and every refusal typed and harmless."""

from __future__ import annotations

from sqlalchemy import select
from store_pickup_helpers import CHECKOUT, CONFIRM, MY, NEAR, PREVIEW, RESULTS, boot, pay

from components.orders.models import Order
from components.store_pickup.models import Attempt, Pickup, Slot
from core.testing import member, staff


def clerk_of(ps, graphql, store_index: int):
    store = ps.stores[store_index]
    return graphql(ps.kernel, staff(ps.clerks[store], "store_clerk", stores=(store,)))


async def test_buy_online_collect_in_store(kernel_factory, graphql):
    ps = await boot(kernel_factory)
    slot = (await ps.slots(ps.stores[0], capacity=5))[0]
    alice = graphql(ps.kernel, member(1))

    # A member near Jing'an Temple finds the nearest open stores, nearest first, with slots.
    near = (await alice.data(NEAR, lat=31.2240, lng=121.4460))["pickupStoresNear"]
    assert [n["store"]["name"] for n in near] == ["Jing'an", "Lujiazui"]
    assert near[0]["distanceMeters"] < 100 < 5000 < near[1]["distanceMeters"] < 5600
    assert near[0]["store"]["openNow"] is True and near[0]["store"]["slots"][0] == {
        "id": slot, "remaining": 5, "startsAt": near[0]["store"]["slots"][0]["startsAt"]}

    checkout = await alice.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 2}],
                                                    "storeId": near[0]["store"]["id"], "slotId": slot})
    assert checkout["userErrors"] == []
    assert checkout["order"]["deliveryType"] == "PICKUP" and checkout["order"]["storeId"] == ps.stores[0]
    # Unpaid: the pickup exists but shows no code yet.
    assert checkout["pickup"]["state"] == "PENDING_PAYMENT" and checkout["pickup"]["code"] is None
    assert (await pay(alice, checkout["order"]["id"]))["order"]["status"] == "PAID"

    mine = (await alice.data(MY))["myPickups"]["nodes"][0]
    code, qr = mine["code"], mine["qrPayload"]
    assert mine["state"] == "AWAITING_PICKUP" and len(code) == 8 and code.isdigit()
    assert qr.startswith(f"DGP1.{ps.stores[0]}.") and code in qr and mine["slot"] == {"id": slot}

    clerk = clerk_of(ps, graphql, 0)
    # Staff never see codes, even the store's own clerk.
    waiting = await clerk.data('query($s: ID!) { storePickups(storeId: $s) { nodes { id code customer { nickname } } } }', s=ps.store_ids[0])
    assert waiting["storePickups"]["nodes"] == [{"id": mine["id"], "code": None, "customer": {"nickname": "m1"}}]

    preview = await clerk.mutate(PREVIEW, input={"storeId": ps.store_ids[0], "code": code})
    assert preview["userErrors"] == []
    assert preview["pickup"]["state"] == "AWAITING_PICKUP" and preview["pickup"]["customer"] == {"nickname": "m1", "phone": "139****0000"}
    assert preview["pickup"]["order"]["lines"] == [{"title": "Longjing · 50g", "quantity": 2}]
    assert preview["pickup"]["order"]["status"] == "PAID"  # a preview hands nothing over

    confirmed = await clerk.mutate(CONFIRM, input={"storeId": ps.store_ids[0], "qrPayload": qr})
    assert confirmed["userErrors"] == [] and confirmed["pickup"]["state"] == "PICKED_UP"
    assert confirmed["order"]["status"] == "COMPLETED"
    results = await clerk.data(RESULTS, id=ps.store_ids[0])
    assert results["pickupStore"]["results"] == {"pickedUp": 1, "sales": {"amountMinor": 20000}, "awaiting": 0}
    other = await clerk_of(ps, graphql, 1).data(RESULTS, id=ps.store_ids[1])
    assert other["pickupStore"]["results"]["pickedUp"] == 0

    async with ps.kernel.db.read() as session:
        from core.models import EventRow

        names = (await session.scalars(select(EventRow.name).order_by(EventRow.id))).all()
    assert names[-3:] == ["order.fulfilled", "order.completed", "store_pickup.picked_up"]
    assert await ps.count(Attempt, Attempt.outcome == "ok") == 2


async def _paid_pickup(ps, graphql, member_id: int = 1, store_index: int = 0, quantity: int = 1):
    client = graphql(ps.kernel, member(member_id))
    checkout = await client.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": quantity}],
                                                     "storeId": ps.store_ids[store_index]})
    assert checkout["userErrors"] == [], checkout
    await pay(client, checkout["order"]["id"])
    mine = (await client.data(MY))["myPickups"]["nodes"]
    return next(p for p in mine if p["order"]["id"] == checkout["order"]["id"]), checkout["order"]["id"]


async def _state(ps):
    async with ps.kernel.db.read() as session:
        pickups = [(p.state, p.picked_up_at) for p in (await session.scalars(select(Pickup).order_by(Pickup.id))).all()]
        orders = [(o.status, o.refunded_minor) for o in (await session.scalars(select(Order).order_by(Order.id))).all()]
    return pickups, orders


async def test_refusals_are_typed_and_change_nothing(kernel_factory, graphql):
    ps = await boot(kernel_factory, settings="{rate_limit: {per_clerk: 100, per_store: 100}}")
    pickup, order_id = await _paid_pickup(ps, graphql)
    clerk, stranger = clerk_of(ps, graphql, 0), clerk_of(ps, graphql, 1)
    here = ps.store_ids[0]

    async def refused(client, expected, **input):
        before = await _state(ps)
        for doc in (PREVIEW, CONFIRM):
            body = await client.mutate(doc, input=input)
            assert [e["code"] for e in body["userErrors"]] == [expected], body
            assert body["pickup"] is None
        assert await _state(ps) == before

    # A clerk of another store, with the right code, at the right store.
    await refused(stranger, "STORE_PICKUP_NOT_YOUR_STORE", storeId=here, code=pickup["code"])
    # The right clerk at the other store (the code is live only where it is to be collected).
    await refused(clerk, "STORE_PICKUP_NOT_YOUR_STORE", storeId=ps.store_ids[1], code=pickup["code"])
    await refused(stranger, "STORE_PICKUP_WRONG_STORE", storeId=ps.store_ids[1], qrPayload=pickup["qrPayload"])
    wrong = f"{(int(pickup['code']) + 1) % 10**8:08d}"
    await refused(clerk, "STORE_PICKUP_WRONG_CODE", storeId=here, code=wrong)
    await refused(clerk, "STORE_PICKUP_WRONG_CODE", storeId=here, code="12ab")
    forged = pickup["qrPayload"][:-1] + ("0" if pickup["qrPayload"][-1] != "0" else "1")
    await refused(clerk, "STORE_PICKUP_INVALID_QR", storeId=here, qrPayload=forged)
    # A member or a live host cannot verify at all.
    body = await graphql(ps.kernel, member(1)).mutate(PREVIEW, input={"storeId": here, "code": pickup["code"]})
    assert body["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"

    # An unpaid order: its code exists but is not shown; even if it leaked, it is refused.
    unpaid = await graphql(ps.kernel, member(2)).mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": here})
    assert unpaid["userErrors"] == []
    async with ps.kernel.db.read() as session:
        unpaid_code = await session.scalar(select(Pickup.code).where(Pickup.state == "pending_payment"))
    await refused(clerk, "STORE_PICKUP_NOT_PAID", storeId=here, code=unpaid_code)

    # An after-sale request waiting for staff: refused until it is settled.
    partial, partial_order = await _paid_pickup(ps, graphql, member_id=3, quantity=2)
    admin, customer = graphql(ps.kernel, staff(1, "admin")), graphql(ps.kernel, member(3))
    lines = await customer.data('query($id: ID!) { order(id: $id) { lines { id } } }', id=partial_order)
    line_id = lines["order"]["lines"][0]["id"]
    asked = await customer.mutate('mutation($i: RequestRefundInput!) { requestRefund(input: $i) { request { id } userErrors { code } } }',
                                  i={"orderId": partial_order, "kind": "REFUND_ONLY", "reason": "只要一个",
                                     "lines": [{"lineId": line_id, "quantity": 1}]})
    assert asked["userErrors"] == []
    await refused(clerk, "STORE_PICKUP_REFUND_IN_PROGRESS", storeId=here, code=partial["code"])
    # Approved: one unit refunded (back on the shelf, it never left); the other is still
    # collected with the same code, and the clerk sees what to hand over.
    before = await ps.shop.available()
    approved = await admin.mutate('mutation($id: ID!) { approveRefundRequest(input: {requestId: $id}) { userErrors { code } } }',
                                  id=asked["request"]["id"])
    assert approved["userErrors"] == [] and await ps.shop.available() == before + 1
    seen = await clerk.mutate("""mutation($input: PreviewPickupInput!) { previewPickup(input: $input) {
      pickup { order { lines { quantity refundedQuantity } } } userErrors { code } } }""", input={"storeId": here, "code": partial["code"]})
    assert seen["pickup"]["order"]["lines"] == [{"quantity": 2, "refundedQuantity": 1}]
    collected = await clerk.mutate(CONFIRM, input={"storeId": here, "code": partial["code"]})
    assert collected["userErrors"] == [] and collected["order"]["status"] == "COMPLETED"
    # A full refund closes a pickup.
    refunded, refunded_order = await _paid_pickup(ps, graphql, member_id=4, quantity=1)
    await admin.mutate('mutation($i: RefundOrderInput!) { refundOrder(input: $i) { userErrors { code } } }', i={"orderId": refunded_order})
    await refused(clerk, "STORE_PICKUP_REFUNDED", storeId=here, code=refunded["code"])

    # Confirmed once; the second time (code or QR) it is already used.
    assert (await clerk.mutate(CONFIRM, input={"storeId": here, "code": pickup["code"]}))["userErrors"] == []
    await refused(clerk, "STORE_PICKUP_ALREADY_PICKED_UP", storeId=here, code=pickup["code"])
    await refused(clerk, "STORE_PICKUP_ALREADY_PICKED_UP", storeId=here, qrPayload=pickup["qrPayload"])

    # A closed store takes no pickup orders; the order is not created at all.
    await admin.mutate('mutation($s: ID!) { updatePickupStore(input: {storeId: $s, status: CLOSED}) { userErrors { code } } }', s=ps.store_ids[1])
    before = await ps.count(Order)
    body = await graphql(ps.kernel, member(4)).mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": ps.store_ids[1]})
    assert body["userErrors"] == [{"code": "STORE_PICKUP_STORE_CLOSED", "field": "input.storeId"}]
    # Held or gone: the first pickup (1), the unpaid order (1), the partly refunded one (2, one
    # unit back), the refunded one (1, back: it never left the store).
    assert await ps.count(Order) == before and await ps.shop.available() == 50 - 1 - 1 - 2 + 1 - 1 + 1


async def test_guessing_codes_is_rate_limited_and_every_attempt_recorded(kernel_factory, graphql):
    ps = await boot(kernel_factory)  # defaults: 10 refusals per clerk, 30 per store, per 15 minutes
    pickup, _ = await _paid_pickup(ps, graphql)
    clerk = clerk_of(ps, graphql, 0)
    here = ps.stores[0]
    service = ps.kernel.service("store_pickup")
    actor = staff(ps.clerks[here], "store_clerk", stores=(here,))
    codes = []
    for guess in range(1000):
        code = f"{guess:08d}"
        if code == pickup["code"]:
            continue
        try:
            await service.verify(actor, store_id=here, code=code)
        except Exception as error:  # noqa: BLE001 - DomainError: the code is what we count
            codes.append(error.code)
    assert codes[:10] == ["STORE_PICKUP_WRONG_CODE"] * 10
    assert set(codes[10:]) == {"STORE_PICKUP_RATE_LIMITED"}
    assert await ps.count(Attempt) == len(codes)
    assert await ps.count(Attempt, Attempt.outcome == "rate_limited") == len(codes) - 10
    # Even the right code is refused while locked out — and that attempt is recorded too.
    body = await clerk.mutate(PREVIEW, input={"storeId": ps.store_ids[0], "code": pickup["code"]})
    assert body["userErrors"][0]["code"] == "STORE_PICKUP_RATE_LIMITED"
    assert await ps.count(Attempt) == len(codes) + 1
    # The window passes; the clerk can work again.
    ps.kernel.clock.advance(minutes=16)
    assert (await clerk.mutate(PREVIEW, input={"storeId": ps.store_ids[0], "code": pickup["code"]}))["userErrors"] == []


async def test_store_limit_stops_many_clerks_guessing_together(kernel_factory):
    ps = await boot(kernel_factory, settings="{rate_limit: {per_clerk: 5, per_store: 8}}")
    here = ps.stores[0]
    service = ps.kernel.service("store_pickup")
    async with ps.kernel.transaction() as tx:
        extra = [await ps.kernel.service("members").create_staff(tx, name=f"c{i}", roles=("store_clerk",), store_ids=(here,))
                 for i in range(3)]
    outcomes = []
    for staff_id in extra:
        for guess in range(5):
            try:
                await service.verify(staff(staff_id, "store_clerk", stores=(here,)), store_id=here, code=f"9{guess:07d}")
            except Exception as error:  # noqa: BLE001
                outcomes.append(error.code)
    assert outcomes.count("STORE_PICKUP_WRONG_CODE") == 8  # the store's budget, shared
    assert outcomes.count("STORE_PICKUP_RATE_LIMITED") == 7


async def test_codes_are_random_not_derived_from_time_or_order(kernel_factory, graphql, clock):
    ps = await boot(kernel_factory, members=12, stock=100)
    codes = []
    for i in range(1, 13):
        pickup, order_id = await _paid_pickup(ps, graphql, member_id=i)
        codes.append(pickup["code"])
    assert len(set(codes)) == 12 and all(len(c) == 8 and c.isdigit() for c in codes)
    # Consecutive orders at the same clock instant get unrelated codes: no common prefix run,
    # no arithmetic progression, nothing equal to an order id.
    diffs = {int(b) - int(a) for a, b in zip(codes, codes[1:])}
    assert len(diffs) == 11
    assert not any(c.lstrip("0") in {str(i) for i in range(1, 13)} for c in codes)
    # The QR payload is signed: changing the order id in it breaks the signature.
    mine = (await graphql(ps.kernel, member(1)).data(MY))["myPickups"]["nodes"][0]
    parts = mine["qrPayload"].split(".")
    parts[2] = str(int(parts[2]) + 1)
    clerk = clerk_of(ps, graphql, 0)
    body = await clerk.mutate(PREVIEW, input={"storeId": ps.store_ids[0], "qrPayload": ".".join(parts)})
    assert body["userErrors"][0]["code"] == "STORE_PICKUP_INVALID_QR"


async def test_slots_are_released_when_an_unpaid_order_is_cancelled(kernel_factory, graphql, clock):
    ps = await boot(kernel_factory)
    slot = (await ps.slots(ps.stores[0], capacity=1))[0]
    a, b = graphql(ps.kernel, member(1)), graphql(ps.kernel, member(2))
    first = await a.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": ps.store_ids[0], "slotId": slot})
    assert first["userErrors"] == []
    full = await b.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": ps.store_ids[0], "slotId": slot})
    assert full["userErrors"] == [{"code": "STORE_PICKUP_SLOT_FULL", "field": "input.slotId"}]
    clock.advance(minutes=31)  # the payment timeout cancels the first order
    await ps.kernel.run_due()
    async with ps.kernel.db.read() as session:
        assert (await session.scalar(select(Slot.taken))) == 0
        assert (await session.scalar(select(Pickup.state))) == "cancelled"
    again = await b.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": ps.store_ids[0], "slotId": slot})
    assert again["userErrors"] == []
    clock.advance(hours=2)  # the slot has started: no more bookings
    late = await a.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": ps.store_ids[0], "slotId": slot})
    assert late["userErrors"] == [{"code": "STORE_PICKUP_SLOT_UNAVAILABLE", "field": "input.slotId"}]


async def test_per_store_stock_and_required_slots(kernel_factory, graphql):
    ps = await boot(kernel_factory, settings="{stock: per_store, slots: required}")
    inventory = ps.kernel.service("inventory")
    async with ps.kernel.transaction() as tx:
        await inventory.set_stock(tx, ps.shop.sku_id, 3, location_id=ps.stores[0])
    alice = graphql(ps.kernel, member(1))
    line = [{"skuId": ps.shop.sku, "quantity": 2}]
    body = await alice.mutate(CHECKOUT, input={"lines": line, "storeId": ps.store_ids[0]})
    assert body["userErrors"] == [{"code": "STORE_PICKUP_SLOT_REQUIRED", "field": "input.slotId"}]
    slot = (await ps.slots(ps.stores[0]))[0]
    assert (await alice.mutate(CHECKOUT, input={"lines": line, "storeId": ps.store_ids[0], "slotId": slot}))["userErrors"] == []
    async with ps.kernel.db.read() as session:
        assert (await inventory.available(session, [ps.shop.sku_id], location_id=ps.stores[0]))[ps.shop.sku_id] == 1
    assert await ps.shop.available() == 50  # central stock untouched
    # The store has one left: a second order of two is refused and holds nothing.
    body = await graphql(ps.kernel, member(2)).mutate(CHECKOUT, input={"lines": line, "storeId": ps.store_ids[0], "slotId": slot})
    assert body["userErrors"][0]["code"] == "INVENTORY_OUT_OF_STOCK"
    async with ps.kernel.db.read() as session:
        assert (await session.scalar(select(Slot.taken))) == 1


async def test_a_live_code_is_never_given_twice_at_a_store(kernel_factory, graphql, monkeypatch):
    ps = await boot(kernel_factory)
    service = ps.kernel.service("store_pickup")
    drawn = iter(["11111111", "11111111", "22222222", "11111111"])
    monkeypatch.setattr(service, "new_code", lambda: next(drawn))
    await _paid_pickup(ps, graphql, member_id=1)  # 11111111 at store 1
    await _paid_pickup(ps, graphql, member_id=2)  # 11111111 clashes (unique index) → 22222222
    await _paid_pickup(ps, graphql, member_id=3, store_index=1)  # 11111111 is free at store 2
    async with ps.kernel.db.read() as session:
        assert [(p.store_id, p.code) for p in (await session.scalars(select(Pickup).order_by(Pickup.id))).all()] == [
            (ps.stores[0], "11111111"), (ps.stores[0], "22222222"), (ps.stores[1], "11111111")]
