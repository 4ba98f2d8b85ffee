"""Promoters, binding, commission through the order's life, withdrawals: over GraphQL."""

from __future__ import annotations

from distribution_helpers import (
    ME,
    REVIEW,
    WITHDRAW,
    admin,
    balances,
    buy,
    code_of,
    finish,
    pass_window,
    pk,
    promote,
    refund,
    start,
)
from sqlalchemy import select

from core.gql.relay import to_global_id
from core.models import EventRow
from core.testing import member
from core.transaction import Event

BIND = """mutation($code: String!) { bindPromoter(input: {shareCode: $code}) { bound binding { memberId expiresAt }
  userErrors { code field } } }"""
APPLY = "mutation { applyForPromoter(input: {}) { promoter { id status } userErrors { code details } } }"
DECIDE = """mutation($id: ID!, $approve: Boolean!, $reason: String) { reviewPromoterApplication(input: {promoterId: $id,
  approve: $approve, reason: $reason}) { promoter { status rejectionReason } userErrors { code field } } }"""
RULE = """mutation($sku: ID!, $level: Int!, $kind: CommissionRuleKind, $value: Int!) { setCommissionRule(input: {skuId: $sku,
  level: $level, kind: $kind, value: $value}) { rule { id kind value level } userErrors { code field } } }"""
COMMISSIONS = "{ myCommissions(first: 20) { nodes { status level amount { amountMinor } paid { amountMinor } refunded { amountMinor } } } }"


async def test_commission_is_frozen_until_the_after_sale_window_ends(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    await promote(kernel, 1)
    order = await buy(graphql(kernel, member(2)), shop.sku, 2, code=await code_of(kernel, 1))  # 2 × ¥100
    promoter = graphql(kernel, member(1))
    assert await balances(kernel, 1) == {"frozen": 1000, "available": 0, "withdrawn": 0}  # 5 % of 20000
    mine = (await promoter.data(COMMISSIONS))["myCommissions"]["nodes"]
    assert mine == [{"status": "FROZEN", "level": 1, "amount": {"amountMinor": 1000}, "paid": {"amountMinor": 20000},
                     "refunded": {"amountMinor": 0}}]
    # The same payment handled again (a replayed delivery) pays nothing twice: one row per line and level.
    async with kernel.transaction() as tx:
        row = await tx.session.scalar(select(EventRow).where(EventRow.name == "order.paid"))
        await kernel.service("distribution").commissions.on_order_paid(tx, Event(row.id, row.name, row.payload, row.created_at))
    assert await balances(kernel, 1) == {"frozen": 1000, "available": 0, "withdrawn": 0}
    await finish(kernel, order["id"])
    await kernel.run_due()  # nothing due yet: still inside the window
    assert (await balances(kernel, 1))["frozen"] == 1000
    await pass_window(kernel)
    assert await balances(kernel, 1) == {"frozen": 0, "available": 1000, "withdrawn": 0}
    me = (await promoter.data(ME))["myPromoter"]
    assert me["standing"]["lifetimeSales"] == {"amountMinor": 20000} and me["standing"]["customers"] == 1
    await pass_window(kernel)  # a replayed window settles nothing twice
    assert (await balances(kernel, 1))["available"] == 1000


async def test_two_levels_and_a_refund_before_and_after_settling(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, "eligibility: everyone, levels: 2")
    await promote(kernel, 1, 2)
    bound = await graphql(kernel, member(2)).mutate(BIND, code=await code_of(kernel, 1))
    assert bound["bound"] is True and bound["binding"]["memberId"] == to_global_id("Member", 1)
    buyer = graphql(kernel, member(3))
    first = await buy(buyer, shop.sku, 3, code=await code_of(kernel, 2))
    assert await balances(kernel, 2) == {"frozen": 1500, "available": 0, "withdrawn": 0}
    assert await balances(kernel, 1) == {"frozen": 600, "available": 0, "withdrawn": 0}  # 2 % at level two
    # A unit refunded before settling: cancelled in proportion, per line and level.
    await refund(kernel, first["id"], [(first["lines"][0]["id"], 1)])
    assert (await balances(kernel, 2))["frozen"] == 1000 and (await balances(kernel, 1))["frozen"] == 400
    await finish(kernel, first["id"])
    await pass_window(kernel)
    assert await balances(kernel, 2) == {"frozen": 0, "available": 1000, "withdrawn": 0}
    # After settling, staff refund the rest: a clawback, the balance goes to zero, then negative is netted.
    await refund(kernel, first["id"])
    assert await balances(kernel, 2) == {"frozen": 0, "available": 0, "withdrawn": 0}
    assert await balances(kernel, 1) == {"frozen": 0, "available": 0, "withdrawn": 0}


async def test_a_clawback_may_go_negative_and_is_netted_from_later_commission(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    await promote(kernel, 1)
    buyer = graphql(kernel, member(2))
    order = await buy(buyer, shop.sku, 1, code=await code_of(kernel, 1))
    await finish(kernel, order["id"])
    await pass_window(kernel)
    withdrawn = await graphql(kernel, member(1)).mutate(WITHDRAW, amount=500)
    assert withdrawn["userErrors"] == []
    await refund(kernel, order["id"])
    assert (await balances(kernel, 1))["available"] == -500
    later = await buy(buyer, shop.sku, 2)  # still bound (permanent): commission 1000
    await finish(kernel, later["id"])
    await pass_window(kernel)
    assert (await balances(kernel, 1))["available"] == 500
    rows = (await graphql(kernel, member(1)).data(COMMISSIONS))["myCommissions"]["nodes"]
    assert [r["status"] for r in rows] == ["SETTLED", "SETTLED"] and rows[1]["amount"] == {"amountMinor": 0}


async def test_sku_rules_fixed_and_percent_per_level(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, "eligibility: everyone, levels: 2")
    staff_client = admin(graphql, kernel)
    set_fixed = await staff_client.mutate(RULE, sku=shop.sku, level=1, kind="FIXED", value=300)
    assert set_fixed["rule"]["kind"] == "FIXED" and set_fixed["userErrors"] == []
    assert (await staff_client.mutate(RULE, sku=shop.sku, level=2, kind="PERCENT", value=10001))["userErrors"][0]["code"] \
        == "DISTRIBUTION_INVALID_RULE"
    assert (await graphql(kernel, member(1)).mutate(RULE, sku=shop.sku, level=1, kind="FIXED", value=1))["userErrors"][0]["code"] \
        == "KERNEL_FORBIDDEN"
    await promote(kernel, 1)
    second = to_global_id("Sku", shop.second_sku_id)
    await buy(graphql(kernel, member(2)), shop.sku, 2, code=await code_of(kernel, 1),
              extra_lines=[{"skuId": second, "quantity": 1}])
    # line 1: ¥3 × 2 fixed; line 2 (¥200, no rule): 5 % default
    assert (await balances(kernel, 1))["frozen"] == 600 + 1000
    removed = await staff_client.mutate(RULE, sku=shop.sku, level=1, kind=None, value=0)
    assert removed["rule"] is None and removed["userErrors"] == []


async def test_binding_refuses_self_loops_and_a_permanent_rebinding(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory, "eligibility: everyone, levels: 2")
    await promote(kernel, 1, 2, 3)
    one, two, three = (graphql(kernel, member(m)) for m in (1, 2, 3))
    assert (await one.mutate(BIND, code=await code_of(kernel, 1)))["userErrors"][0]["code"] == "DISTRIBUTION_SELF_BINDING"
    assert (await two.mutate(BIND, code=await code_of(kernel, 1)))["bound"] is True   # 2 → 1
    assert (await three.mutate(BIND, code=await code_of(kernel, 2)))["bound"] is True  # 3 → 2 → 1
    loop = await one.mutate(BIND, code=await code_of(kernel, 3))  # 1 → 3 would close 1 → 3 → 2 → 1
    assert loop["userErrors"][0]["code"] == "DISTRIBUTION_BINDING_LOOP"
    again = await three.mutate(BIND, code=await code_of(kernel, 1))
    assert again["userErrors"][0]["code"] == "DISTRIBUTION_ALREADY_BOUND"
    forged = await three.mutate(BIND, code="m1.AAAAAAAAAAAAAAAA")
    assert forged["userErrors"][0]["code"] == "DISTRIBUTION_INVALID_SHARE_CODE"
    assert (await graphql(kernel, member(4)).mutate(BIND, code=await code_of(kernel, 5)))["userErrors"][0]["code"] \
        == "DISTRIBUTION_NOT_A_PROMOTER"


async def test_last_click_and_time_limited_binding(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, "eligibility: everyone, binding: last_click")
    await promote(kernel, 1, 2)
    buyer = graphql(kernel, member(3))
    await buy(buyer, shop.sku, 1, code=await code_of(kernel, 1))
    await buy(buyer, shop.sku, 1, code=await code_of(kernel, 2))  # the latest click wins
    await buy(buyer, shop.sku, 1)
    assert (await balances(kernel, 1))["frozen"] == 500 and (await balances(kernel, 2))["frozen"] == 1000

    kernel, shop = await start(kernel_factory, "eligibility: everyone, binding: time_limited, binding_days: 7")
    await promote(kernel, 1, 2)
    buyer = graphql(kernel, member(3))
    assert (await buyer.mutate(BIND, code=await code_of(kernel, 1)))["binding"]["expiresAt"] is not None
    assert (await buyer.mutate(BIND, code=await code_of(kernel, 2)))["userErrors"][0]["code"] == "DISTRIBUTION_ALREADY_BOUND"
    kernel.clock.advance(days=8)
    await buy(buyer, shop.sku, 1)  # the binding lapsed: nobody earns
    assert (await balances(kernel, 1))["frozen"] == 0
    assert (await buyer.mutate(BIND, code=await code_of(kernel, 2)))["bound"] is True


async def test_applications_reviewed_and_the_spend_threshold(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, "eligibility: approved")
    applicant = graphql(kernel, member(1))
    applied = (await applicant.mutate(APPLY))
    assert applied["promoter"]["status"] == "PENDING"
    assert (await applicant.mutate(APPLY))["userErrors"][0]["code"] == "DISTRIBUTION_ALREADY_APPLIED"
    staff_client = admin(graphql, kernel)
    assert (await staff_client.mutate(DECIDE, id=applied["promoter"]["id"], approve=False))["userErrors"][0]["code"] \
        == "DISTRIBUTION_INVALID_INPUT"
    rejected = await staff_client.mutate(DECIDE, id=applied["promoter"]["id"], approve=False, reason="incomplete profile")
    assert rejected["promoter"] == {"status": "REJECTED", "rejectionReason": "incomplete profile"}
    assert (await staff_client.mutate(DECIDE, id=applied["promoter"]["id"], approve=True))["userErrors"][0]["code"] \
        == "DISTRIBUTION_NOT_PENDING"
    again = (await applicant.mutate(APPLY))
    approved = await staff_client.mutate(DECIDE, id=again["promoter"]["id"], approve=True)
    assert approved["promoter"]["status"] == "ACTIVE"

    kernel, shop = await start(kernel_factory, 'eligibility: spend, spend_threshold: "150.00"')
    buyer = graphql(kernel, member(2))
    await buy(buyer, shop.sku, 1)
    low = (await buyer.mutate(APPLY))
    assert low["userErrors"][0]["code"] == "DISTRIBUTION_SPEND_TOO_LOW"
    assert low["userErrors"][0]["details"] == {"thresholdMinor": 15000, "spentMinor": 10000}
    await buy(buyer, shop.sku, 1)
    assert (await buyer.mutate(APPLY))["promoter"]["status"] == "ACTIVE"


async def test_withdrawals_minimum_fee_review_and_replay(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, 'eligibility: everyone, withdrawal_minimum: "10.00", withdrawal_fee_bps: 60')
    await promote(kernel, 1)
    order = await buy(graphql(kernel, member(2)), shop.sku, 10, code=await code_of(kernel, 1))  # commission 5000
    await finish(kernel, order["id"])
    await pass_window(kernel)
    me, staff_client = graphql(kernel, member(1)), admin(graphql, kernel)
    assert (await me.mutate(WITHDRAW, amount=999))["userErrors"][0]["code"] == "DISTRIBUTION_BELOW_MINIMUM"
    too_much = await me.mutate(WITHDRAW, amount=5001)
    assert too_much["userErrors"][0]["code"] == "DISTRIBUTION_INSUFFICIENT_BALANCE"
    assert too_much["userErrors"][0]["details"] == {"availableMinor": 5000}
    first = await me.mutate(WITHDRAW, amount=3000, key="w-1")
    assert first["withdrawal"]["fee"] == {"amountMinor": 18} and first["withdrawal"]["payout"] == {"amountMinor": 2982}
    assert await me.mutate(WITHDRAW, amount=3000, key="w-1") == first  # a replay: nothing taken twice
    assert (await balances(kernel, 1))["available"] == 2000
    second = await me.mutate(WITHDRAW, amount=2000)
    rejected = await staff_client.mutate(REVIEW, id=second["withdrawal"]["id"], approve=False, reason="bank details")
    assert rejected["withdrawal"]["status"] == "REJECTED"
    assert (await balances(kernel, 1))["available"] == 2000
    paid = await staff_client.mutate(REVIEW, id=first["withdrawal"]["id"], approve=True, key="r-1")
    assert paid["withdrawal"]["status"] == "PAID"
    assert await staff_client.mutate(REVIEW, id=first["withdrawal"]["id"], approve=True, key="r-1") == paid
    twice = await staff_client.mutate(REVIEW, id=first["withdrawal"]["id"], approve=True)
    assert twice["userErrors"][0]["code"] == "DISTRIBUTION_NOT_PENDING"
    assert await balances(kernel, 1) == {"frozen": 0, "available": 2000, "withdrawn": 2982}
    assert (await me.mutate(REVIEW, id=first["withdrawal"]["id"], approve=True))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert pk(first["withdrawal"]["id"]) > 0


async def test_tiers_targets_and_the_leaderboard(kernel_factory, graphql):
    tiers = ('eligibility: everyone, tiers: [{name: Bronze, min_sales: "0.00", monthly_target: "250.00"}, '
             '{name: Silver, min_sales: "300.00", monthly_target: "1000.00"}]')
    kernel, shop = await start(kernel_factory, tiers)
    await promote(kernel, 1, 2)
    await buy(graphql(kernel, member(3)), shop.sku, 3, code=await code_of(kernel, 1))
    await buy(graphql(kernel, member(4)), shop.sku, 1, code=await code_of(kernel, 2))
    standing = (await graphql(kernel, member(1)).data(ME))["myPromoter"]["standing"]
    assert standing["tier"] == "Silver" and standing["monthlyTarget"] == {"amountMinor": 100000}
    assert standing["monthSales"] == {"amountMinor": 30000} and standing["targetReached"] is False
    board = """{ promoterLeaderboard(first: 5) { rank sales { amountMinor } isMe promoter { memberId } } }"""
    seen = (await graphql(kernel, member(2)).data(board))["promoterLeaderboard"]
    assert [(r["rank"], r["sales"]["amountMinor"], r["isMe"], r["promoter"] is not None) for r in seen] == \
        [(1, 30000, False, False), (2, 10000, True, True)]
    by_staff = (await admin(graphql, kernel).data(board))["promoterLeaderboard"]
    assert [r["promoter"]["memberId"] for r in by_staff] == [to_global_id("Member", 1), to_global_id("Member", 2)]
    report = (await admin(graphql, kernel).data("{ distributionReport { activePromoters frozen { amountMinor } } }"))
    assert report["distributionReport"] == {"activePromoters": 2, "frozen": {"amountMinor": 2000}}


async def test_a_member_never_sees_another_promoters_commission_ledger_or_withdrawals(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    await promote(kernel, 1, 2)
    order = await buy(graphql(kernel, member(3)), shop.sku, 2, code=await code_of(kernel, 1))
    await finish(kernel, order["id"])
    await pass_window(kernel)
    owner = graphql(kernel, member(1))
    await owner.mutate(WITHDRAW, amount=500)
    mine = await owner.data("""{ myPromoter { id } myCommissions { nodes { id } } myCommissionLedger { nodes { id } }
                                 myWithdrawals { nodes { id } } }""")
    ids = [mine["myPromoter"]["id"]] + [n["id"] for key in ("myCommissions", "myCommissionLedger", "myWithdrawals")
                                        for n in mine[key]["nodes"]]
    assert len(ids) == 1 + 1 + 4 + 1  # the promoter, one line, 4 ledger entries (accrued, settled out and in, withdrawn), one withdrawal
    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert (await graphql(kernel, member(2)).data(nodes, ids=ids))["nodes"] == [None] * len(ids)  # another promoter
    assert (await owner.data(nodes, ids=ids))["nodes"] == [{"id": i} for i in ids]
    assert (await admin(graphql, kernel).data(nodes, ids=ids))["nodes"] == [{"id": i} for i in ids]
    empty = await graphql(kernel, member(3)).data("{ myPromoter { id } myCommissions { nodes { id } } }")
    assert empty == {"myPromoter": None, "myCommissions": {"nodes": []}}
