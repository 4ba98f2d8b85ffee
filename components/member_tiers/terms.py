"""Paid membership terms (付费会员): bought through the one checkout as an order of their own kind.

- A term sells through a catalog SKU the component makes on the first purchase (one per term
  code, row ``member_tiers_term_product``); any checkout line of that SKU is a term purchase.
- ``prepare`` claims the line (an order of its own, no stock held: it sells no goods), sets the
  order's kind ``membership_term``; the ``activity`` stage prices it at the term's price.
- ``placed`` records a pending :class:`Purchase`; ``order.paid`` activates it: its span starts
  when the running term ends (or now) and lasts the term's days, so buying again extends.
- ``order.cancelled`` drops a pending purchase; ``order.refunded`` ends a paid one: the term loses
  the purchase's unused part, later purchases move up by as much, and a term with nothing left
  ends now.
- The term's end is a timer (``member_tiers.term_expiry``, keyed by the member).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from components.member_tiers.models import Account, Purchase, TermProduct
from components.member_tiers.rules import Term, extended_until, unused
from core.checkout import Draft
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Event, Transaction

COMPONENT = "member_tiers"
KIND = "membership_term"
EXPIRY_JOB = "member_tiers.term_expiry"


class Terms:
    kernel: Any
    terms: dict[str, Term]

    # -- the SKU --------------------------------------------------------------------------------
    async def term_skus(self, session: Any) -> dict[int, str]:
        rows = (await session.scalars(select(TermProduct).where(TermProduct.sku_id.is_not(None)))).all()
        return {row.sku_id: row.code for row in rows}

    async def sku_of(self, tx: Transaction, term: Term) -> int:
        """The term's SKU, made once: the claim row is inserted first, so of two first buyers
        the second waits for the first's row and uses its SKU."""
        row = await tx.session.get(TermProduct, term.code, populate_existing=True)
        if row is None:
            try:
                async with tx.session.begin_nested():
                    tx.session.add(TermProduct(code=term.code, sku_id=None))
            except IntegrityError:
                pass
            row = await tx.session.get(TermProduct, term.code, populate_existing=True, with_for_update=tx.kernel.db.is_postgresql)
        if row.sku_id is None:
            catalog = self.kernel.service("catalog")
            product = await catalog.create_product(
                tx, title=term.name, skus=[{"title": term.name, "price_minor": term.price_minor}], attributes={"membershipTerm": term.code}
            )
            row.sku_id = (await catalog.product_skus(tx.session, product))[0].id
            await tx.session.flush()
        return row.sku_id

    def term(self, code: str, field: str = "input.termCode") -> Term:
        term = self.terms.get(code)
        if term is None:
            raise DomainError("MEMBER_TIERS_UNKNOWN_TERM", "No such membership term on sale.", field=field)
        return term

    async def buy(self, tx: Transaction, member_id: int, code: str) -> int:
        """Place the term's order (pending payment; pay it with ``payOrder``)."""
        term = self.term(code)
        sku_id = await self.sku_of(tx, term)
        return await self.kernel.service("orders").create_order(tx, member_id=member_id, lines=[(sku_id, 1)])

    # -- the checkout participant ----------------------------------------------------------------
    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        skus = await self.term_skus(tx.session)
        for line in draft.lines:
            code = skus.get(line.sku_id)
            if code is None:
                continue
            field = f"input.lines[{line.index}]"
            self.term(code, field)
            if line.quantity != 1:
                raise DomainError("MEMBER_TIERS_TERM_QUANTITY", "A membership term is bought one at a time.", field=f"{field}.quantity")
            line.claim(COMPONENT, code, exclusive=True, activity_stock=False, holds_stock=False)
            draft.kind = KIND
            draft.attributes["membershipTerm"] = code

    async def term_price(self, tx: Transaction, draft: Draft) -> None:
        """Stage ``activity``: a term line costs the term's price as the blueprint sets it now."""
        for line in draft.lines:
            if line.activity is not None and line.activity[0] == COMPONENT:
                line.set_unit_price(self.terms[line.activity[1]].price_minor, f"付费会员 {self.terms[line.activity[1]].name}")

    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        code = draft.attributes.get("membershipTerm")
        if code and draft.kind == KIND:
            tx.session.add(
                Purchase(
                    order_id=order_id, member_id=draft.member_id, term_code=code, days=self.terms[code].days, status="pending", created_at=tx.now()
                )
            )
            await tx.session.flush()

    # -- the order's events -------------------------------------------------------------------------
    async def on_term_paid(self, kernel: Any, event: Event) -> None:
        if event.payload.get("kind") != KIND:
            return
        async with kernel.transaction() as tx:
            await self.activate(tx, int(event.payload["orderId"]))

    async def activate(self, tx: Transaction, order_id: int) -> Purchase | None:
        purchase = await tx.session.get(Purchase, order_id)
        if purchase is None:
            return None
        # The expiry timer's row before the account, in the order its job takes them (no deadlock).
        await tx.lock_timer(EXPIRY_JOB, str(purchase.member_id))
        account = await self.lock_account(tx, purchase.member_id)
        await tx.session.refresh(purchase)
        if purchase.status != "pending":
            return purchase  # replayed, or refunded first
        order = await self.kernel.service("orders").snapshot(tx, order_id)
        if order is None or order["status"] not in ("paid", "fulfilled", "completed"):
            return purchase
        now = tx.now()
        running = as_utc(account.term_expires_at) if account.term_expires_at and as_utc(account.term_expires_at) > now else None
        starts, ends = extended_until(now, running, purchase.days)
        purchase.status, purchase.starts_at, purchase.ends_at = "active", starts, ends
        account.term_code, account.term_expires_at = purchase.term_code, ends
        await tx.schedule(EXPIRY_JOB, str(account.member_id), ends, {"memberId": account.member_id})
        await tx.session.flush()
        await tx.emit(
            "member_tiers.term_started",
            {
                "memberId": account.member_id,
                "orderId": order_id,
                "termCode": purchase.term_code,
                "expiresAt": ends.isoformat(),
                "extended": running is not None,
            },
        )
        return purchase

    async def on_term_cancelled(self, kernel: Any, event: Event) -> None:
        if event.payload.get("kind") != KIND:
            return
        async with kernel.transaction() as tx:
            await tx.session.execute(
                update(Purchase)
                .where(Purchase.order_id == int(event.payload["orderId"]), Purchase.status == "pending")
                .values(status="cancelled")
                .execution_options(synchronize_session=False)
            )

    async def on_term_refunded(self, kernel: Any, event: Event) -> None:
        # A price difference given back (退差价: no unit returned) leaves the term running.
        if event.payload.get("kind") != KIND or not any(int(line.get("quantity") or 0) > 0 for line in event.payload.get("lines") or []):
            return
        async with kernel.transaction() as tx:
            await self.end_purchase(tx, int(event.payload["orderId"]))

    async def end_purchase(self, tx: Transaction, order_id: int) -> None:
        """A refunded term order ends its purchase; the term loses what the purchase had left."""
        purchase = await tx.session.get(Purchase, order_id)
        if purchase is None:
            return
        await tx.lock_timer(EXPIRY_JOB, str(purchase.member_id))
        account = await self.lock_account(tx, purchase.member_id)
        await tx.session.refresh(purchase)
        if purchase.status == "pending":
            purchase.status = "refunded"  # refunded before its payment's event was handled: never starts
            return
        if purchase.status != "active":
            return
        now = tx.now()
        cut = unused(as_utc(purchase.starts_at), as_utc(purchase.ends_at), now)
        purchase.status, purchase.ends_at = "refunded", min(as_utc(purchase.ends_at), max(now, as_utc(purchase.starts_at)))
        later = (
            await tx.session.scalars(
                select(Purchase).where(
                    Purchase.member_id == purchase.member_id,
                    Purchase.status == "active",
                    Purchase.starts_at >= purchase.starts_at,
                    Purchase.order_id != order_id,
                )
            )
        ).all()
        for other in later:
            other.starts_at, other.ends_at = as_utc(other.starts_at) - cut, as_utc(other.ends_at) - cut
        expires = as_utc(account.term_expires_at) - cut if account.term_expires_at else now
        await tx.session.flush()
        if expires <= now:
            await self.end_term(tx, account, reason="refunded")
        else:
            account.term_expires_at = expires
            await tx.schedule(EXPIRY_JOB, str(account.member_id), expires, {"memberId": account.member_id})

    async def end_term(self, tx: Transaction, account: Account, *, reason: str) -> None:
        code = account.term_code
        account.term_code, account.term_expires_at = None, None
        await tx.cancel_timer(EXPIRY_JOB, str(account.member_id))
        await tx.session.flush()
        await tx.emit("member_tiers.term_ended", {"memberId": account.member_id, "termCode": code, "reason": reason})

    async def on_term_expiry(self, tx: Transaction, timer: Any) -> None:
        account = await self.lock_account(tx, int(timer.payload["memberId"]))
        if account.term_code is not None and account.term_expires_at is not None and as_utc(account.term_expires_at) <= tx.now():
            await self.end_term(tx, account, reason="expired")

    async def guard(self, tx: Transaction, order: Any) -> str | None:
        """Orders' fulfilment guard: a term is a membership, not goods, so it is never shipped."""
        return "A membership term is not shipped." if order.kind == KIND else None

    def running_term(self, account: Account | None, now: datetime) -> Term | None:
        if account is None or account.term_code is None or account.term_expires_at is None:
            return None
        if as_utc(account.term_expires_at) <= now:
            return None  # past its end, the timer not yet run: no benefits already
        return self.terms.get(account.term_code)
