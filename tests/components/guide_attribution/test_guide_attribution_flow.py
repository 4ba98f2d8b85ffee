"""Binding, precedence on real orders, figures from payments and refunds, transfer, 代客下单."""

from datetime import timedelta

from guide_helpers import FIGURES, FOR_CUSTOMER, MY_GUIDE, PLACE, REFUND, TOUCH, TRANSFER, admin, code_of, gid, guide, pay, start

from core.testing import member


async def test_a_guide_code_binds_a_member_once_and_orders_pay_and_refund_into_the_figures(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    zhou = await guide(kernel)
    code = await code_of(graphql, kernel, zhou)
    first = await graphql(kernel, member(2)).mutate(TOUCH, code=code)
    assert first["userErrors"] == [] and first["bound"] is True
    assert first["binding"]["guideId"] == gid("Staff", zhou.id) and first["binding"]["channel"] == "GUIDE_CODE"
    assert first["binding"]["protectedUntil"] is None  # permanent by default
    again = await graphql(kernel, member(2)).mutate(TOUCH, code=code)
    assert again["bound"] is False

    # The bound member orders without any code: BOUND_GUIDE. Another pays through the guide's code: SHARE_CODE.
    placed = await graphql(kernel, member(2)).mutate(PLACE, sku=shop.sku, n=2)
    assert placed["userErrors"] == []
    order = placed["order"]
    assert order["guideAttribution"] == {"reason": "BOUND_GUIDE", "guideId": gid("Staff", zhou.id), "sharerMemberId": None}
    shared = await graphql(kernel, member(3)).mutate(PLACE, sku=shop.sku, n=1, code=code)
    assert shared["order"]["guideAttribution"]["reason"] == "SHARE_CODE"
    await pay(graphql, kernel, 2, order["id"])
    await pay(graphql, kernel, 3, shared["order"]["id"])
    refunded = await graphql(kernel, admin()).mutate(REFUND, id=order["id"], lines=[{"lineId": order["lines"][0]["id"], "quantity": 1}])
    assert refunded["userErrors"] == []

    figures = (await graphql(kernel, admin()).data(FIGURES, kind="GUIDE"))["guideFigures"]["nodes"]
    assert figures == [{"holderId": gid("Staff", zhou.id), "membersAdded": 1, "orders": 2, "gmv": {"amountMinor": 30000},
                        "refunds": {"amountMinor": 10000}, "net": {"amountMinor": 20000}}]


async def test_bad_codes_are_typed_errors_and_bind_nobody(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    own = await code_of(graphql, kernel, member(2))
    left = await guide(kernel)
    stale = await code_of(graphql, kernel, left)
    async with kernel.transaction() as tx:
        await kernel.service("members.staff_admin").set_active(tx, left.id, False)
    for code, expected in (("g1.AAAAAAAAAAAAAAAA", "GUIDE_ATTRIBUTION_INVALID_CODE"), ("x" * 80, "GUIDE_ATTRIBUTION_INVALID_CODE"),
                           ("s1.AAAAAAAAAAAAAAAA", "GUIDE_ATTRIBUTION_INVALID_CODE"), (own, "GUIDE_ATTRIBUTION_OWN_CODE"),
                           (stale, "GUIDE_ATTRIBUTION_GUIDE_INACTIVE")):
        answer = await graphql(kernel, member(2)).mutate(TOUCH, code=code)
        assert [e["code"] for e in answer["userErrors"]] == [expected], code
    assert (await graphql(kernel, member(2)).data(MY_GUIDE))["myGuide"] is None


async def test_protected_bindings_rebind_only_after_the_protection(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory, binding="{mode: protected, protect_days: 10}")
    wang, li = await guide(kernel), await guide(kernel)
    wang_code, li_code = await code_of(graphql, kernel, wang), await code_of(graphql, kernel, li)
    me = graphql(kernel, member(2))
    assert (await me.mutate(TOUCH, code=wang_code))["binding"]["protectedUntil"] is not None
    assert (await me.mutate(TOUCH, code=li_code))["bound"] is False
    clock.advance(timedelta(days=10))
    moved = await me.mutate(TOUCH, code=li_code)
    assert moved["bound"] is True and moved["binding"]["guideId"] == gid("Staff", li.id)


async def test_staff_transfer_a_leaving_guides_customers_idempotently(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    wang, li = await guide(kernel), await guide(kernel)
    code = await code_of(graphql, kernel, wang)
    for m in (2, 3, 4):
        await graphql(kernel, member(m)).mutate(TOUCH, code=code)
    staff_client = graphql(kernel, admin())
    same = await staff_client.mutate(TRANSFER, f=gid("Staff", wang.id), t=gid("Staff", wang.id))
    assert [e["code"] for e in same["userErrors"]] == ["GUIDE_ATTRIBUTION_SAME_GUIDE"]
    not_guide = await staff_client.mutate(TRANSFER, f=gid("Staff", wang.id), t=gid("Staff", 1))
    assert [e["code"] for e in not_guide["userErrors"]] == ["GUIDE_ATTRIBUTION_NOT_A_GUIDE"]
    refused = await graphql(kernel, wang).mutate(TRANSFER, f=gid("Staff", wang.id), t=gid("Staff", li.id))
    assert [e["code"] for e in refused["userErrors"]] == ["KERNEL_FORBIDDEN"]
    done = await staff_client.mutate(TRANSFER, f=gid("Staff", wang.id), t=gid("Staff", li.id), key="t1")
    assert (done["moved"], done["remaining"]) == (3, 0)
    replay = await staff_client.mutate(TRANSFER, f=gid("Staff", wang.id), t=gid("Staff", li.id), key="t1")
    assert (replay["moved"], replay["remaining"]) == (3, 0)  # the first answer, nothing moved again
    customers = await graphql(kernel, li).data("{ myGuideCustomers(first: 10) { nodes { memberId channel } } }")
    assert [n["memberId"] for n in customers["myGuideCustomers"]["nodes"]] == [gid("Member", m) for m in (2, 3, 4)]
    assert {n["channel"] for n in customers["myGuideCustomers"]["nodes"]} == {"TRANSFER"}


async def test_a_guide_placing_for_a_customer_outranks_a_bound_guide(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    wang, li = await guide(kernel), await guide(kernel)
    await graphql(kernel, member(2)).mutate(TOUCH, code=await code_of(graphql, kernel, wang))
    placed = await graphql(kernel, li).mutate(FOR_CUSTOMER, m=gid("Member", 2), sku=shop.sku, key="k1")
    assert placed["userErrors"] == [], placed
    assert placed["attribution"] == {"reason": "GUIDE_PLACED", "guideId": gid("Staff", li.id)}
    replay = await graphql(kernel, li).mutate(FOR_CUSTOMER, m=gid("Member", 2), sku=shop.sku, key="k1")
    assert replay["orderId"] == placed["orderId"]
    denied = await graphql(kernel, member(2)).mutate(FOR_CUSTOMER, m=gid("Member", 2), sku=shop.sku)
    assert denied["userErrors"] and denied["userErrors"][0]["code"] in ("KERNEL_FORBIDDEN", "KERNEL_UNAUTHENTICATED")
