"""Demo orders in a few states, so a new frontend has something to list."""


async def seed(kernel, tx) -> None:
    skus = await kernel.service("catalog").sku_ids(tx.session, limit=4)
    if len(skus) < 4:
        return
    orders = kernel.service("orders")
    paid = await orders.create_order(tx, member_id=1, lines=[(skus[0], 1), (skus[3], 2)])
    await orders.mark_paid(tx, paid, provider="sandbox", provider_ref=f"demo-{paid}", amount_minor=(await orders.get(tx, paid)).total_minor)
    await orders.create_order(tx, member_id=2, lines=[(skus[1], 1)])  # waiting for payment
    done = await orders.create_order(tx, member_id=3, lines=[(skus[2], 1)])
    await orders.mark_paid(tx, done, provider="sandbox", provider_ref=f"demo-{done}", amount_minor=(await orders.get(tx, done)).total_minor)
    await orders.fulfil(tx, done)
    await orders.complete(tx, done)
