from components.group_buy import graphql, graphql_mutations, graphql_queries, graphql_stream, graphql_types, models
from components.group_buy.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.group_buy.service import EXPIRE_JOB, GroupBuyService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Offer, models.OfferSku, models.Group, models.Membership):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    service = GroupBuyService(registrar.kernel, registrar.settings)
    registrar.service("group_buy", service)
    # Shipping or pickup of a group order waits for its group (orders is a dependency, so its
    # service already exists).
    registrar.kernel.service("orders").add_fulfilment_guard("group_buy", service.fulfilment_guard)


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql_queries.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.subscription(graphql_stream.Subscription)
    registrar.node(graphql.GroupBuyOffer, graphql.load_offers)
    registrar.node(graphql.GroupBuyGroup, graphql.load_groups)
    registrar.extend("Sku", "groupBuyOffers", graphql.sku_group_buy_offers, "Running and upcoming group-buy offers of this SKU.")
    registrar.extend("Product", "groupBuyOffers", graphql.product_group_buy_offers, "Running and upcoming group-buy offers on this product's SKUs.")
    registrar.extend(
        "Order", "groupBuyGroup", graphql_queries.order_group_buy_group, "The group-buy group the order opened or joined; null for others."
    )


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("group_buy.offers_by_sku", graphql.load_offers_by_sku)
    registrar.dataloader("group_buy.offers_by_product", graphql.load_offers_by_product)
    registrar.dataloader("group_buy.groups_of_orders", graphql_queries.load_groups_of_orders)


@hookimpl
def dougong_price_adjusters(registrar):
    registrar.price_adjuster("activity", registrar.kernel.service("group_buy").checkout.price)


@hookimpl
def dougong_checkout(registrar):
    # A checkout line opens a group ({offerId}) or joins one ({offerId, shareCode}).
    registrar.extend_input(
        "CheckoutLineInput",
        "groupBuy",
        graphql_types.GroupBuyLineInput,
        "Buy this line in a group-buy: offerId opens a group, with shareCode it joins the shared one.",
    )
    registrar.checkout_participant(registrar.kernel.service("group_buy").checkout)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("group_buy")
    # In the payment's transaction: the seat count and the payment commit (or fail) together.
    registrar.on("order.paid", service.on_order_paid, in_transaction=True)
    registrar.on("order.cancelled", service.on_order_cancelled, in_transaction=True)
    registrar.on("order.refunded", service.on_order_refunded, in_transaction=True)


@hookimpl
def dougong_jobs(registrar):
    registrar.job(EXPIRE_JOB, registrar.kernel.service("group_buy").expire)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Create, edit, end and withdraw group-buy offers and see referrals", roles=("admin",))


@hookimpl
def dougong_error_codes(registrar):
    for code, text in {
        "GROUP_BUY_INVALID_OFFER": "The offer's settings are inconsistent.",
        "GROUP_BUY_SKU_IN_OFFER": "The SKU is already in another active offer.",
        "GROUP_BUY_OFFER_NOT_ACTIVE": "The offer is outside its window or withdrawn.",
        "GROUP_BUY_UNKNOWN_GROUP": "No group has that share code.",
        "GROUP_BUY_GROUP_FULL": "The group has no seat left.",
        "GROUP_BUY_GROUP_CLOSED": "The group failed or its deadline passed.",
        "GROUP_BUY_GROUP_NOT_OPEN": "The leader has not paid yet.",
        "GROUP_BUY_ALREADY_IN_GROUP": "The member is already in this group.",
        "GROUP_BUY_LIMIT_REACHED": "The member reached the offer's per-member limit.",
        "GROUP_BUY_SOLD_OUT": "The offer's own quantity (its total limit) is used up.",
        "GROUP_BUY_SKU_NOT_IN_OFFER": "A groupBuy line's SKU is not one of the offer's SKUs.",
        "GROUP_BUY_OFFER_LOCKED": "Once a group exists, prices, size, duration and SKUs of the offer cannot change.",
    }.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.group_buy import demo

    await demo.seed(kernel, tx)


@hookimpl
def dougong_events(registrar):
    registrar.event(
        "group_buy.succeeded",
        "A group formed (every seat paid, or virtually filled)",
        payload={
            "groupId": "int",
            "offerId": "int",
            "placeholders": "int",
            "memberIds": "list[int]: the members seated in the group (for notifications)",
        },
    )
    registrar.event(
        "group_buy.failed",
        "A group did not form; its paid members were refunded",
        payload={
            "groupId": "int",
            "offerId": "int",
            "reason": "str: expired, leader_did_not_pay, offer_closed or offer_withdrawn",
            "memberIds": "list[int]: the members whose orders were refunded or cancelled (for notifications)",
        },
    )
    registrar.event("group_buy.regrouped", "A late payer now leads a new group", payload={"groupId": "int", "memberId": "int", "orderId": "int"})


@hookimpl
def dougong_page_blocks(registrar):
    from components.group_buy import blocks

    blocks.register(registrar)
