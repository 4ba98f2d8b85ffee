from components.bidding_sale import graphql, graphql_mutations, graphql_stream, models
from components.bidding_sale.closing import CLOSE_JOB
from components.bidding_sale.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.bidding_sale.service import AuctionService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Lot, models.Bid, models.Bidder, models.LotOrder, models.DepositEntry):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    service = AuctionService(registrar.kernel, registrar.settings)
    registrar.service("bidding_sale", service)
    # A deposit order is money, not goods: never shipped (orders is a dependency, so its service exists).
    registrar.kernel.service("orders").add_fulfilment_guard("bidding_sale", service.deposits.guard)


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.subscription(graphql_stream.Subscription)
    registrar.node(graphql.AuctionLot, graphql.load_lots)
    registrar.extend(
        "Order",
        "auctionLot",
        graphql.order_auction_lot,
        "The auction lot the order belongs to (the winner's order or a deposit order); null for others.",
    )


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("bidding_sale.lots_of_orders", graphql.load_lots_of_orders)


@hookimpl
def dougong_price_adjusters(registrar):
    registrar.price_adjuster("activity", registrar.kernel.service("bidding_sale").checkout.price)


@hookimpl
def dougong_checkout(registrar):
    # No input field: only the lot's close places the winner's order (see checkout.py).
    registrar.checkout_participant(registrar.kernel.service("bidding_sale").checkout)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("bidding_sale")
    # In the order's transaction: a deposit frozen or refunded, a lot paid or defaulted, commit
    # (or fail) with the payment, cancellation or refund itself.
    registrar.on("order.paid", service.closing.on_order, in_transaction=True)
    registrar.on("order.cancelled", service.closing.on_order, in_transaction=True)
    registrar.on("order.refunded", service.closing.on_order_refunded, in_transaction=True)


@hookimpl
def dougong_jobs(registrar):
    registrar.job(CLOSE_JOB, registrar.kernel.service("bidding_sale").closing.close_due)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Create, schedule and cancel auction lots; read the deposit ledger", roles=("admin", "live_host"))


@hookimpl
def dougong_error_codes(registrar):
    for code, text in {
        "BIDDING_SALE_INVALID_LOT": "The lot's settings are inconsistent.",
        "BIDDING_SALE_ILLEGAL_STATE": "The lot's state does not allow this.",
        "BIDDING_SALE_LOT_NOT_OPEN": "Bidding has not started.",
        "BIDDING_SALE_LOT_CLOSED": "Bidding has ended.",
        "BIDDING_SALE_BID_TOO_LOW": "Below the next minimum bid; details carry currentPrice and minimumBid.",
        "BIDDING_SALE_BID_NOT_ON_LADDER": "Not a whole number of increments above the minimum.",
        "BIDDING_SALE_ALREADY_LEADING": "The leader may only raise their maximum.",
        "BIDDING_SALE_INVALID_MAXIMUM": "The maximum is below the bid.",
        "BIDDING_SALE_DEPOSIT_REQUIRED": "The lot's deposit must be paid before bidding.",
        "BIDDING_SALE_NO_DEPOSIT": "The lot asks no deposit.",
        "BIDDING_SALE_BUY_NOW_UNAVAILABLE": "Buy-now is not offered, or bidding has begun.",
        "BIDDING_SALE_LOT_NOT_FOR_CHECKOUT": "A lot's line reached a checkout the lot's close did not place.",
    }.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.bidding_sale import demo

    await demo.seed(kernel, tx)


@hookimpl
def dougong_events(registrar):
    registrar.event("bidding_sale.cancelled", "Staff cancelled a lot", payload={"lotId": "int"})
    registrar.event(
        "bidding_sale.outbid",
        "A bidder lost the lead on a lot (for notifications)",
        payload={"lotId": "int", "memberId": "int: the member who was outbid", "priceMinor": "int: the new price"},
    )
    registrar.event(
        "bidding_sale.runner_up_offered",
        "After a default, the lot was offered to the runner-up (an order to pay)",
        payload={"lotId": "int", "memberId": "int", "priceMinor": "int", "orderId": "int"},
    )
    registrar.event(
        "bidding_sale.deposit_frozen",
        "A bidder's deposit order was paid: they may bid",
        payload={"lotId": "int", "memberId": "int", "amountMinor": "int"},
    )
    registrar.event(
        "bidding_sale.extended", "A late bid extended the lot (soft close)", payload={"lotId": "int", "endsAt": "ISO time", "extensions": "int"}
    )
    registrar.event(
        "bidding_sale.closed",
        "A lot closed, sold (with the winner's order) or unsold",
        payload={"lotId": "int", "status": "sold or unsold", "winnerMemberId": "int", "priceMinor": "int", "orderId": "int", "reserveMet": "bool"},
    )
    registrar.event(
        "bidding_sale.refunded",
        "The winner's order was refunded whole; an applied deposit went back too",
        payload={"lotId": "int", "memberId": "int", "depositReturnedMinor": "int"},
    )
    registrar.event(
        "bidding_sale.defaulted", "The winner did not pay; the deposit was kept", payload={"lotId": "int", "memberId": "int", "depositMinor": "int"}
    )


@hookimpl
def dougong_page_blocks(registrar):
    from components.bidding_sale import blocks

    blocks.register(registrar)
