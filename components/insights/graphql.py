"""Insights in GraphQL: one staff-only root field, ``insights(period)``, every figure a field.

Thin: each field reads the aggregates through ``reading`` and the service, only when asked,
so a dashboard tile asking for reach reads no sales rows.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated, Any

import strawberry

from components.insights import reading, rules
from core.errors import DomainError
from core.gql import Context, Money, money
from core.gql.relay import After, Before, Connection, Edge, First, Last, PageInfo, decode_cursor, encode_cursor, page_size

VIEW = "insights.view"


@strawberry.enum(description="What GMV is sliced by.")
class InsightsDimension(enum.Enum):
    CHANNEL = strawberry.enum_value("CHANNEL", description="The order's channel (see InsightsChannel): the slices add up to the whole.")
    LIVE_ROOM = strawberry.enum_value("LIVE_ROOM", description="The live room the order came from.")
    GROUP_BUY_OFFER = strawberry.enum_value("GROUP_BUY_OFFER", description="The group-buy offer of the order's lines (its lines only).")
    GUIDE = strawberry.enum_value("GUIDE", description="The shopping guide the order is credited to.")
    STORE = strawberry.enum_value("STORE", description="The pickup store of the order.")


@strawberry.enum(description="Where an order came from, by the attribution precedence (first match wins).")
class InsightsChannel(enum.Enum):
    GUIDE = strawberry.enum_value("GUIDE", description="Credited to a shopping guide (their code, or the guide buying for the customer).")
    MEMBER_SHARE = strawberry.enum_value(
        "MEMBER_SHARE", description="Brought by a member's share: a share code, a group-buy join through a member's link, a live-room sharer."
    )
    LIVE_ROOM = strawberry.enum_value("LIVE_ROOM", description="Bought in a live room, nobody credited.")
    GROUP_BUY = strawberry.enum_value("GROUP_BUY", description="A group-buy order, nobody credited.")
    DIRECT = strawberry.enum_value("DIRECT", description="Everything else: the member came by themselves.")


@strawberry.input(description="Whole days in the brand's time zone, both ends included.")
class InsightsPeriodInput:
    from_: date = strawberry.field(name="from", description="The first day (YYYY-MM-DD).")
    to: date = strawberry.field(description="The last day (YYYY-MM-DD), not before from; the brand sets the longest period.")


def _money(amount: int, currency: str) -> Money:
    return money(amount, currency)


@strawberry.type(description="Paid orders and money of one day.")
class InsightsSalesDay:
    day: date = strawberry.field(description="The brand's calendar day.")
    orders: int = strawberry.field(description="Orders paid that day.")
    gross: Money = strawberry.field(description="What those orders were paid (their totals).")
    refunded: Money = strawberry.field(description="Money refunded that day, whenever its order was paid.")
    net: Money = strawberry.field(description="gross - refunded.")
    average_order_value: Money = strawberry.field(description="gross / orders, rounded to the minor unit (zero without orders).")


def _sales_day(day: date, sales: reading.Sales, currency: str) -> InsightsSalesDay:
    return InsightsSalesDay(
        day=day,
        orders=sales.orders,
        gross=_money(sales.gross_minor, currency),
        refunded=_money(sales.refunded_minor, currency),
        net=_money(sales.net_minor, currency),
        average_order_value=_money(sales.average_order_minor, currency),
    )


@strawberry.type(description="GMV of a period: paid orders and refunds, in total and per day.")
class InsightsSales:
    orders: int = strawberry.field(description="Orders paid in the period.")
    gross: Money = strawberry.field(description="GMV: the totals of the orders paid in the period.")
    refunded: Money = strawberry.field(description="Refunds made in the period (on the day of the refund).")
    net: Money = strawberry.field(description="gross - refunded.")
    average_order_value: Money = strawberry.field(description="Average order value: gross / orders.")
    period: strawberry.Private[rules.Period]
    dimension: strawberry.Private[str]
    ref: strawberry.Private[str]
    preloaded: strawberry.Private[list[tuple[date, reading.Sales]] | None] = None  # a page of slices reads its days at once

    @strawberry.field(description="The same figures for each day of the period, days without sales included.")
    async def days(self, info: strawberry.Info) -> list[InsightsSalesDay]:
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency
        rows = self.preloaded
        if rows is None:
            rows = await reading.sales_days(await ctx.session(), self.period, self.dimension, self.ref)
        return [_sales_day(day, sales, currency) for day, sales in rows]


def _sales(
    sales: reading.Sales, currency: str, period: rules.Period, dimension: str, ref: str, days: list[tuple[date, reading.Sales]] | None = None
) -> InsightsSales:
    return InsightsSales(
        orders=sales.orders,
        gross=_money(sales.gross_minor, currency),
        refunded=_money(sales.refunded_minor, currency),
        net=_money(sales.net_minor, currency),
        average_order_value=_money(sales.average_order_minor, currency),
        period=period,
        dimension=dimension,
        ref=ref,
        preloaded=days,
    )


def _asks_for(fields: Any, name: str) -> bool:
    """Whether a field of this name is selected anywhere below (fragments included)."""
    for field in fields or ():
        if getattr(field, "name", None) == name or _asks_for(getattr(field, "selections", None), name):
            return True
    return False


@strawberry.type(description="GMV of one channel, live room, offer, guide or store.")
class InsightsSlice:
    dimension: InsightsDimension = strawberry.field(description="What this slice is.")
    channel: InsightsChannel | None = strawberry.field(description="The channel, for a CHANNEL slice (else null).")
    target_id: strawberry.ID | None = strawberry.field(
        description="The global id of the live room, group-buy offer, guide (Staff) or pickup store; null for a channel."
    )
    sales: InsightsSales = strawberry.field(description="Its sales in the period (and per day).")


@strawberry.type(description="New members on one day.")
class InsightsReachDay:
    day: date = strawberry.field(description="The brand's calendar day.")
    new_members: int = strawberry.field(description="Members who signed up that day.")


@strawberry.type(description="Reach: members connected to the brand, and how many each channel can reach (as of now).")
class InsightsReach:
    members: int = strawberry.field(description="Every member.")
    wechat_connected: int = strawberry.field(description="Members with a WeChat openid (signed in through the mini-program).")
    union_id_connected: int = strawberry.field(description="Members with a WeChat unionid (known across the brand's WeChat apps).")
    phone_reachable: int = strawberry.field(description="Members with a bound phone number (SMS).")
    subscription_reachable: int | None = strawberry.field(
        description="Members holding at least one unspent WeChat subscription consent; null without the notifications component."
    )
    new_members: int = strawberry.field(description="Members who signed up in the period.")
    period: strawberry.Private[rules.Period]

    @strawberry.field(description="Sign-ups for each day of the period.")
    async def days(self, info: strawberry.Info) -> list[InsightsReachDay]:
        rows = await reading.joined_days(await info.context.session(), self.period)
        return [InsightsReachDay(day=day, new_members=n) for day, n in rows]


@strawberry.type(description="Value per customer, for the customers won in the period (first paid order in it), to date.")
class InsightsCustomerValue:
    new_customers: int = strawberry.field(description="Members whose first paid order fell in the period.")
    repeat_customers: int = strawberry.field(description="Of them, those with two or more paid orders to date.")
    repurchase_rate: float | None = strawberry.field(description="repeatCustomers / newCustomers; null without new customers.")
    orders: int = strawberry.field(description="Paid orders of those customers to date.")
    lifetime_value: Money = strawberry.field(description="(paid - refunded) of those customers to date / newCustomers.")
    average_order_value: Money = strawberry.field(description="paid of those customers to date / orders.")


@strawberry.type(description="New customers of one day and how many of them were referred.")
class InsightsReferralDay:
    day: date = strawberry.field(description="The brand's calendar day.")
    new_customers: int = strawberry.field(description="Members whose first paid order was that day.")
    referred_new_customers: int = strawberry.field(description="Of them, those whose first order another member brought.")
    rate: float | None = strawberry.field(description="referredNewCustomers / newCustomers; null without new customers.")


@strawberry.type(description="Referral: new customers brought by existing members (share codes, group-buy joins, distribution, live-room sharing).")
class InsightsReferral:
    new_customers: int = strawberry.field(description="Members whose first paid order fell in the period.")
    referred_new_customers: int = strawberry.field(description="Of them, those whose first paid order names a proven sharer (another member).")
    rate: float | None = strawberry.field(description="referredNewCustomers / newCustomers; null without new customers.")
    days: list[InsightsReferralDay] = strawberry.field(description="The same for each day of the period.")


@strawberry.type(description="A page of GMV slices.")
class InsightsSliceConnection(Connection[InsightsSlice]):
    pass


@strawberry.type(description="The brand's figures for a period (staff with insights.view).")
class Insights:
    from_: date = strawberry.field(name="from", description="The period's first day.")
    to: date = strawberry.field(description="The period's last day.")
    period: strawberry.Private[rules.Period]

    @strawberry.field(description="Reach: members connected and reachable (now), sign-ups in the period.")
    async def reach(self, info: strawberry.Info) -> InsightsReach:
        ctx: Context = info.context
        session = await ctx.session()
        counts = await ctx.kernel.service("insights").reach(session)
        joined = sum(n for _day, n in await reading.joined_days(session, self.period))
        return InsightsReach(
            members=counts["members"],
            wechat_connected=counts["wechat"],
            union_id_connected=counts["unionid"],
            phone_reachable=counts["phone"],
            subscription_reachable=counts["subscribed"],
            new_members=joined,
            period=self.period,
        )

    @strawberry.field(description="GMV of the whole brand in the period, and per day.")
    async def sales(self, info: strawberry.Info) -> InsightsSales:
        ctx: Context = info.context
        total = await reading.sales_total(await ctx.session(), self.period)
        return _sales(total, ctx.kernel.blueprint.brand.currency, self.period, rules.ALL, "")

    @strawberry.field(description="Value per customer of the customers won in the period.")
    async def customer_value(self, info: strawberry.Info) -> InsightsCustomerValue:
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency
        c = await reading.cohort(await ctx.session(), self.period)
        return InsightsCustomerValue(
            new_customers=c.customers,
            repeat_customers=c.repeat,
            repurchase_rate=rules.ratio(c.repeat, c.customers),
            orders=c.orders,
            lifetime_value=_money(rules.average(c.paid_minor - c.refunded_minor, c.customers), currency),
            average_order_value=_money(rules.average(c.paid_minor, c.orders), currency),
        )

    @strawberry.field(description="Referral rate of the period, and per day.")
    async def referral(self, info: strawberry.Info) -> InsightsReferral:
        days = await reading.new_customer_days(await info.context.session(), self.period)
        new, referred = sum(d[1] for d in days), sum(d[2] for d in days)
        return InsightsReferral(
            new_customers=new,
            referred_new_customers=referred,
            rate=rules.ratio(referred, new),
            days=[InsightsReferralDay(day=d, new_customers=n, referred_new_customers=r, rate=rules.ratio(r, n)) for d, n, r in days],
        )

    @strawberry.field(description="GMV by channel, live room, group-buy offer, guide or store: largest net GMV first.")
    async def gmv_by(
        self,
        info: strawberry.Info,
        dimension: Annotated[InsightsDimension, strawberry.argument(description="What to slice by.")],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> InsightsSliceConnection:
        ctx: Context = info.context
        # Slices are ranked by net GMV in SQL; cursors are positions in that ranking.
        size = page_size(first, last)
        start = decode_cursor(after) + 1 if after else 0
        stop = decode_cursor(before, "before") if before else None
        if start < 0 or (stop is not None and stop < 0):
            raise DomainError("KERNEL_INVALID_INPUT", "the cursor is not valid", field="before" if stop is not None and stop < 0 else "after")
        session = await ctx.session()
        if last is not None:
            if stop is None:
                stop = await reading.slice_count(session, self.period, dimension.value)
            offset = max(stop - size, start)
            rows = await reading.slices(session, self.period, dimension.value, offset, max(stop - offset, 0))
            has_next, has_previous = before is not None, offset > 0
        else:
            offset = start
            rows = await reading.slices(session, self.period, dimension.value, offset, size + 1)
            if stop is not None:
                rows = rows[: max(stop - offset, 0)]
            has_next, has_previous = len(rows) > size or before is not None, offset > 0
        days: dict[str, Any] = {}
        if rows[:size] and _asks_for(info.selected_fields, "days"):
            days = await reading.slice_days(session, self.period, dimension.value, [ref for ref, _ in rows[:size]])
        currency = ctx.kernel.blueprint.brand.currency
        edges = [
            Edge(cursor=encode_cursor(offset + n), node=_slice(dimension, ref, sales, currency, self.period, days.get(ref)))
            for n, (ref, sales) in enumerate(rows[:size])
        ]
        return InsightsSliceConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


def _slice(
    dimension: InsightsDimension, ref: str, sales: reading.Sales, currency: str, period: rules.Period, days: list[tuple[date, reading.Sales]] | None
) -> InsightsSlice:
    is_channel = dimension is InsightsDimension.CHANNEL
    return InsightsSlice(
        dimension=dimension,
        channel=InsightsChannel(ref) if is_channel else None,
        target_id=None if is_channel else strawberry.ID(ref),
        sales=_sales(sales, currency, period, dimension.value, ref, days),
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="The brand's insights for a period: reach, GMV (by slice), value per customer, referral. Staff with insights.view; "
        "null with an error for anyone else."
    )
    async def insights(
        self,
        info: strawberry.Info,
        period: Annotated[InsightsPeriodInput, strawberry.argument(description="The days to report on.")],
    ) -> Insights | None:
        ctx: Context = info.context
        ctx.require(VIEW)
        checked = ctx.kernel.service("insights").period(period.from_, period.to)
        return Insights(from_=checked.first, to=checked.last, period=checked)
