from core.hookspecs import hookimpl

from components.points_mall import graphql, models
from components.points_mall.service import PointsService

EXPIRE_JOB = "points_mall.expire_due"


@hookimpl
def dougong_tables(registrar):
    for model in (models.Account, models.Entry, models.Lot, models.Item, models.Redemption):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("points_mall", PointsService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql.Mutation)
    registrar.node(graphql.PointsLedgerEntry, graphql.load_entries)
    registrar.node(graphql.PointsMallItem, graphql.load_items)


@hookimpl
def dougong_price_adjusters(registrar):
    registrar.price_adjuster("points", registrar.kernel.service("points_mall").price)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("points_mall")
    registrar.on("order.paid", service.on_order_event)
    registrar.on("order.completed", service.on_order_event)
    registrar.on("order.refunded", service.on_order_refunded)
    registrar.on("order.cancelled", service.on_order_cancelled, in_transaction=True)


@hookimpl
def dougong_jobs(registrar):
    registrar.every(EXPIRE_JOB, 3600, registrar.kernel.service("points_mall").expire_due)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.ADJUST, "See members' points and adjust them with a reason", roles=("admin",))
    registrar.permission(graphql.MANAGE, "Manage mall items and member tiers", roles=("admin",))


@hookimpl
def dougong_error_codes(registrar):
    for code, text in {
        "POINTS_MALL_NOT_ENOUGH_POINTS": "The balance does not cover it; details carry balance and needed.",
        "POINTS_MALL_SOLD_OUT": "The item's own stock is used up.",
        "POINTS_MALL_LIMIT_REACHED": "The member reached the item's per-member limit.",
        "POINTS_MALL_TIER_NOT_ALLOWED": "The item is for a higher member tier.",
        "POINTS_MALL_OUTSIDE_WINDOW": "The item cannot be redeemed at this time.",
        "POINTS_MALL_ALREADY_SIGNED_IN": "The member already signed in today.",
        "POINTS_MALL_INVALID_ITEM": "The item's settings are inconsistent.",
        "POINTS_MALL_REASON_REQUIRED": "A staff adjustment needs a note.",
    }.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from sqlalchemy import select

    from components.catalog.models import Product, Sku

    service = kernel.service("points_mall")
    balm = await tx.session.scalar(select(Sku.id).join(Product).where(Product.title.like("%润唇膏%")).limit(1))
    await service.create_item(tx, title="龙井润唇膏 Lip balm", sku_id=balm, points_price=500, stock=50)
    snacks = await tx.session.scalar(select(Sku.id).join(Product).where(Product.title.like("%桂花糕%")).limit(1))
    await service.create_item(tx, title="桂花糕 + 200 points", sku_id=snacks, points_price=200, cash_price_minor=1900, stock=100, per_member_limit=2)
    await service.create_item(tx, title="茶艺课 Tea ceremony class (store)", points_price=2000, stock=20)
    for member_id in (1, 2, 3):
        await service.credit(tx, member_id, 1000 * member_id, reason="staff_adjust", note="welcome points (demo)", key=f"demo:{member_id}")
