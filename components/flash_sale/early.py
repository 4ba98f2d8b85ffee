"""A sold-out session answered before the heavy work.

When 2,000 buyers fire at 100 units, 1,900 of them cannot win. Through the checkout each
would take the database's single writer slot (SQLite) or queue for the item's row lock
(PostgreSQL), only to be refused — and every winner behind them waits too. Here the losers are
found by **reads of committed rows** on the request's read session, without a write
transaction: the item and its session, the member's units, the units left.

Exact, not a guess: ``sold`` only falls when an order gives units back (cancelled, refunded),
and that commits before anyone can read it; so units that a committed read shows as gone
were gone at that moment, and "sold out" was the true answer then. The early answer is given
only when the checkout would answer the very same refusal — the session is running, the
member is within their limit, and fewer units are left than asked for — with the same code,
field, message and details (``tests/components/flash_sale/test_early_refusal.py`` compares
both paths). Anything else (not started, ended, over the limit, no such item) goes through
the checkout as before, which words those refusals. (One difference is allowed: a SKU taken
off sale in a sold-out session is answered sold out here where the checkout would name the
SKU first — both refuse, and nothing is written either way.)

Not for a request with an ``idempotencyKey``: a replay must get the first answer back, and a
retry whose first attempt is still in flight could otherwise be told "sold out" while that
attempt takes a unit that a cancellation gave back meanwhile. Keyed requests go through the
transaction, which claims the key first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from components.flash_sale.checkout import LINE_FIELD, sold_out
from components.flash_sale.models import Bought, FlashSession, Item
from components.flash_sale.service import phase
from core.clock import as_utc
from core.errors import DomainError


async def sold_out_refusal(service: Any, session: Any, item_id: int, member_id: int, quantity: int) -> DomainError | None:
    """The checkout's own sold-out refusal for this one-line purchase, when committed rows
    already decide it; else None (the checkout decides)."""
    # One statement: every await on SQLite is a round trip to its driver thread.
    row = (
        await session.execute(
            select(Item.quantity - Item.sold, Item.per_member_limit, FlashSession.starts_at, FlashSession.ends_at, Bought.units)
            .join(FlashSession, FlashSession.id == Item.session_id)
            .outerjoin(Bought, and_(Bought.item_id == Item.id, Bought.member_id == member_id))
            .where(Item.id == item_id, FlashSession.active.is_(True))
        )
    ).first()
    if row is None:
        return None
    left, limit, starts_at, ends_at, bought = row
    if left >= quantity or phase(as_utc(starts_at), as_utc(ends_at), service.kernel.clock.now()) != "running":
        return None
    if (bought or 0) + quantity > limit:
        return None  # the checkout answers the limit first
    return sold_out(f"input.lines[0].{LINE_FIELD}", left)


async def refuse_if_sold_out(service: Any, item_id: int, member_id: int, quantity: int) -> None:
    """Raise the checkout's sold-out refusal when committed rows already decide it.

    Its own short read session: the request must hold no pooled connection while it then
    waits for the writer slot (SQLite), or a crowd would hold every connection there is."""
    async with service.kernel.db.read() as session:
        refusal = await sold_out_refusal(service, session, item_id, member_id, quantity)
    if refusal is not None:
        raise refusal
