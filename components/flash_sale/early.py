"""A sold-out session answered before the heavy work.

When 2,000 buyers fire at 100 units, 1,900 of them cannot win. Through the checkout each
would take the database's single writer slot (SQLite) or queue for the item's row lock
(PostgreSQL), only to be refused — and every winner behind them waits too. Two looks answer
the losers without a write transaction, each giving exactly the refusal the checkout would
give (code, field, message, details: ``tests/components/flash_sale/test_early_refusal.py``
compares both paths), and only when the checkout's answer would be "sold out" (the session
running, fewer units left than asked for; the checkout checks that before the member's limit):

- **the early look** (:func:`refuse_if_sold_out`, PostgreSQL): one read of committed rows on
  a short session of its own, before the mutation. Exact: ``sold`` only falls when an order gives
  units back, and that commits before anyone can read it, so "sold out" was the true answer at
  the moment of the read, during the request. It helps the buyers who arrive once the last
  unit is sold; buyers fired all at once all look before anyone has bought.
- **the memo** (:class:`SoldOutMemo`, SQLite): a checkout that refuses "sold out" inside its
  write transaction remembers the units left together with the database's change counter
  (``Database.change_counter``: ``PRAGMA data_version``, which moves when *any* connection of
  any process commits). While the counter has not moved, nothing has changed since, and the
  memo answers from memory — as the mutation starts, and again as ``run_mutation``'s
  ``precheck`` when the buyer's turn for the writer slot comes, so the queue that formed before
  the last unit sold drains without a transaction each. Any commit anywhere (a cancellation
  giving units back, but also any other write) makes the memo step aside until a checkout
  refuses again. PostgreSQL has no such counter: there the memo is off.

Neither is used for a request with an ``idempotencyKey``: a replay must get the first answer
back, and a retry whose first attempt is still in flight could otherwise be told "sold out"
while that attempt takes a unit that a cancellation gave back meanwhile. Keyed requests go
through the transaction, which claims the key first. (One difference from the checkout is
allowed: a SKU taken off sale in a sold-out session is answered sold out here where the
checkout would name the SKU first — both refuse, and nothing is written either way.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from components.flash_sale.checkout import LINE_FIELD, sold_out
from components.flash_sale.models import FlashSession, Item
from components.flash_sale.service import phase
from components.orders.graphql import OrderPayload
from core.clock import as_utc
from core.errors import DomainError
from core.gql import decode_id
from core.gql.payload import user_error


class SoldOutMemo:
    """Item id → what a refusing write transaction saw, valid while the database is unchanged."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self._seen: dict[int, tuple[int, datetime, datetime, int]] = {}

    def remember(self, item_id: int, left: int, starts_at: datetime, ends_at: datetime) -> None:
        """Called inside the write transaction that found fewer units than asked for."""
        version = self.kernel.db.change_counter()
        if version is not None:
            self._seen[item_id] = (left, starts_at, ends_at, version)

    def refuse(self, item_id: int, quantity: int) -> None:
        """Raise the checkout's sold-out refusal if the memo still holds and decides it."""
        seen = self._seen.get(item_id)
        if seen is None:
            return
        left, starts_at, ends_at, version = seen
        if version != self.kernel.db.change_counter():
            self._seen.pop(item_id, None)  # something committed since: ask the database again
            return
        if left < quantity and phase(starts_at, ends_at, self.kernel.clock.now()) == "running":
            raise sold_out(f"input.lines[0].{LINE_FIELD}", left)


async def sold_out_refusal(service: Any, session: Any, item_id: int, quantity: int) -> DomainError | None:
    """The checkout's own sold-out refusal for this one-line purchase, when committed rows
    already decide it; else None (the checkout decides)."""
    row = (
        await session.execute(
            select(Item.quantity - Item.sold, FlashSession.starts_at, FlashSession.ends_at)
            .join(FlashSession, FlashSession.id == Item.session_id)
            .where(Item.id == item_id, FlashSession.active.is_(True))
        )
    ).first()
    if row is None:
        return None
    left, starts_at, ends_at = row
    if left >= quantity or phase(as_utc(starts_at), as_utc(ends_at), service.kernel.clock.now()) != "running":
        return None
    return sold_out(f"input.lines[0].{LINE_FIELD}", left)


async def refuse_if_sold_out(service: Any, ctx: Any, item_id: int, quantity: int) -> None:
    """Raise the checkout's sold-out refusal when the memo or committed rows already decide it.

    The read is the request's own session (``ctx``), already open for the caller's rights;
    ``run_mutation`` gives it back before the write transaction begins, so no request holds
    two pooled connections."""
    service.sold_out_memo.refuse(item_id, quantity)
    if service.kernel.db.is_sqlite:
        # The memo is the whole story there: it refuses the queue at the writer slot too, and a
        # read each cost a crowd fired at once more than it saved — measured,
        # bench/results/hotspots_growth_flash.json (through aiosqlite's thread then).
        return
    refusal = await sold_out_refusal(service, await ctx.session(), item_id, quantity)
    if refusal is not None:
        raise refusal


class BuyerQueues:
    """Per item, the buyers past the early layer one at a time (``buyer_queue``). Entries go
    when their last buyer does, so ids sent at random leave nothing behind."""

    def __init__(self) -> None:
        self._queues: dict[int, list[Any]] = {}  # item id -> [lock, buyers holding or waiting]

    @contextlib.asynccontextmanager
    async def one_at_a_time(self, item_id: int) -> AsyncIterator[None]:
        entry = self._queues.get(item_id)
        if entry is None:
            entry = self._queues[item_id] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._queues.pop(item_id, None)

    def __len__(self) -> int:
        return len(self._queues)


def _crowd_member(ctx: Any, arguments: dict[str, Any]) -> tuple[Any, int, int] | None:
    """(service, item id, quantity) when the resolver would look for "sold out" before its
    transaction — a member, no idempotency key, no Redis gate, a valid id and quantity; else None."""
    from components.flash_sale.graphql import MAX_UNITS  # graphql.py imports this module

    service = ctx.kernel.service("flash_sale")
    given = arguments.get("input")
    if service.gate is not None or not ctx.actor.is_member or not isinstance(given, dict) or given.get("idempotencyKey") is not None:
        return None
    quantity = given.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_UNITS:
        return None
    try:
        item_id = decode_id(given.get("itemId"), "FlashSaleItem", field="input.itemId")
    except DomainError:
        return None
    return service, item_id, quantity


def buyer_queue(ctx: Any, arguments: dict[str, Any]) -> Any:
    """``buyFlashSaleItem``'s queue before GraphQL (``registrar.early_refusal(queue=)``): a
    crowd's buyers of one item go on one at a time, each until its answer is sent. Fired at
    once, 2,000 buyers otherwise all ran GraphQL up to the writer before the first winner had
    committed, so none could be refused early; queued, the 101st buyer's checkout refuses and
    teaches the memo, and the 1,899 behind it are refused here from memory. On one event loop
    nothing ran side by side anyway (the writer is one), so the winners lose nothing.

    SQLite only: PostgreSQL has no memo (no change counter to keep one exact), so every buyer
    there reads the item anyway, and in a line those reads (network round trips) only add up —
    measured, p99 5.4 s → 8.5 s."""
    if not ctx.kernel.db.is_sqlite:
        return None
    crowd = _crowd_member(ctx, arguments)
    return crowd[0].buyer_queues.one_at_a_time(crowd[1]) if crowd is not None else None


async def refuse_crowd(ctx: Any, arguments: dict[str, Any]) -> Any:
    """``buyFlashSaleItem``'s refusal answered before GraphQL runs (``registrar.early_refusal``,
    ``core.gql.early_refusals``): exactly when the resolver would answer "sold out" from the
    memo or the early look — a member, no idempotency key, no Redis gate (the gate answers a
    crowd itself), a valid item id and quantity — the payload it would return; else None, and
    the mutation runs as usual."""
    crowd = _crowd_member(ctx, arguments)
    if crowd is None:
        return None
    service, item_id, quantity = crowd
    try:
        await refuse_if_sold_out(service, ctx, item_id, quantity)
    except DomainError as refusal:
        if refusal.code != "FLASH_SALE_SOLD_OUT":
            return None  # any other refusal: the resolver words it itself
        return OrderPayload(user_errors=[user_error(refusal)])
    return None
