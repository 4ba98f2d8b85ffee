"""Coupons in the one checkout.

- ``couponIds`` on ``CheckoutInput`` names the coupons to use (one per order by default; with
  ``per_order: one_per_scope`` one per scope kind).
- ``prepare`` checks they are the member's and valid now, read-only.
- The ``coupon`` price stage (after activity, member and threshold prices, before points)
  works out each coupon's amount on the lines it covers and records it **on those lines**,
  apportioned by their amounts (largest remainder), so a line's refund never returns more
  than was paid for it and uncovered lines keep their price.
- ``placed`` marks each coupon used by the order with a conditional UPDATE (``status =
  'available'``): of concurrent checkouts using one coupon, exactly one order is placed; the
  others roll back whole with ``COUPONS_ALREADY_USED``.
- ``options`` lists the member's coupons for the preview, each usable or with the reason not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from components.coupons.models import Coupon, Template
from components.coupons.rules import REASONS, CouponNotApplicable, LineView, evaluate, stack, validity_reason
from core.checkout import Draft
from core.clock import as_utc
from core.errors import DomainError
from core.gql.relay import decode_id
from core.transaction import Transaction

if TYPE_CHECKING:
    from components.coupons.service import CouponsService

COMPONENT = "coupons"
INPUT_FIELD = "couponIds"
INPUT_DESCRIPTION = "Coupons: the member's coupons to use on this order (see previewCheckout's `coupons` for which apply)."
CHOSEN = "couponIds"  # draft.attributes: the coupon ids in use (stored with the order)
DISCOUNTS = "couponDiscounts"  # draft.attributes: coupon id -> amount taken off
MAX_CHOSEN = 4
MAX_OPTIONS = 50


def line_activity(line: Any) -> str | None:
    """Whose activity a line belongs to: the component that claimed it, else the one that set an
    activity price on it (a live price does not claim the line but is still an activity price)."""
    if line.activity is not None:
        return line.activity[0]
    for adjustment in line.adjustments:
        if adjustment.get("stage") == "activity":
            return adjustment.get("component")
    return None


def before_coupons(line: Any) -> int:
    """The line's own amount without what coupons took off (the preview asks after pricing)."""
    return line.own_total_minor - sum(a["amountMinor"] for a in line.adjustments if a.get("stage") == "coupon")


class CouponCheckout:
    def __init__(self, service: CouponsService) -> None:
        self.service = service

    # -- prepare -----------------------------------------------------------------------------------
    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        raw = draft.input(INPUT_FIELD)
        if not raw:
            return
        if len(raw) > MAX_CHOSEN:
            raise DomainError("COUPONS_ONE_PER_ORDER", f"At most {MAX_CHOSEN} coupons on an order.", field=f"input.{INPUT_FIELD}")
        ids = [decode_id(str(value), "Coupon", field=f"input.{INPUT_FIELD}[{i}]") for i, value in enumerate(raw)]
        if len(set(ids)) != len(ids):
            raise DomainError("COUPONS_ONE_PER_ORDER", "The same coupon is named twice.", field=f"input.{INPUT_FIELD}")
        per_order = self.service.settings.get("per_order", "one")
        if per_order == "one" and len(ids) > 1:
            raise DomainError("COUPONS_ONE_PER_ORDER", "One coupon per order.", field=f"input.{INPUT_FIELD}")
        rows = {c.id: c for c in (await tx.session.scalars(select(Coupon).where(Coupon.id.in_(ids)).execution_options(populate_existing=True))).all()}
        templates = await self._templates(tx, [c.template_id for c in rows.values()])
        kinds: set[str] = set()
        now = tx.now()
        for i, coupon_id in enumerate(ids):
            field = f"input.{INPUT_FIELD}[{i}]"
            coupon = rows.get(coupon_id)
            if coupon is None or coupon.member_id != draft.member_id:
                raise DomainError("KERNEL_NOT_FOUND", "No such coupon in your wallet.", field=field)
            reason = validity_reason(as_utc(coupon.valid_from), as_utc(coupon.valid_until), coupon.status, now)
            if reason:
                raise DomainError("COUPONS_NOT_USABLE", REASONS[reason], field=field, reason=reason)
            kind = (templates[coupon.template_id].scope or {}).get("kind", "all")
            if kind in kinds:
                raise DomainError("COUPONS_ONE_PER_SCOPE", "One coupon per scope kind on an order.", field=field)
            kinds.add(kind)
        draft.attributes[CHOSEN] = ids

    async def _templates(self, tx_or_session: Any, ids: list[int]) -> dict[int, Template]:
        session = getattr(tx_or_session, "session", tx_or_session)
        if not ids:
            return {}
        return {t.id: t for t in (await session.scalars(select(Template).where(Template.id.in_(set(ids))))).all()}

    async def line_views(self, session: Any, kernel: Any, draft: Draft, amount: Any) -> list[LineView]:
        catalog = kernel.service("catalog")
        skus = await catalog.skus(session, [line.sku_id for line in draft.lines])
        categories = await catalog.product_categories(session, list({s.product_id for s in skus.values()}))
        return [
            LineView(
                line.index,
                line.sku_id,
                skus[line.sku_id].product_id,
                categories.get(skus[line.sku_id].product_id, frozenset()),
                line_activity(line),
                amount(line),
            )
            for line in draft.lines
        ]

    # -- price stage "coupon" ----------------------------------------------------------------------------
    async def price(self, tx: Transaction, draft: Draft) -> None:
        ids = draft.attributes.get(CHOSEN)
        if not ids:
            return
        from components.coupons.service import terms_of

        coupons = {c.id: c for c in (await tx.session.scalars(select(Coupon).where(Coupon.id.in_(ids)))).all()}
        templates = await self._templates(tx, [c.template_id for c in coupons.values()])
        lines = await self.line_views(tx.session, tx.kernel, draft, lambda line: line.own_total_minor)
        try:
            applied = stack(
                [(cid, terms_of(templates[coupons[cid].template_id])) for cid in ids], lines, self.service.settings.get("per_order", "one")
            )
        except CouponNotApplicable as refused:
            raise DomainError(
                "COUPONS_NOT_USABLE", REASONS[refused.reason], field=f"input.{INPUT_FIELD}[{ids.index(refused.coupon_id)}]", reason=refused.reason
            ) from None
        by_index = {line.index: line for line in draft.lines}
        discounts = {}
        for coupon_id, shares in applied:
            title = templates[coupons[coupon_id].template_id].title
            for index, share in sorted(shares.items()):
                by_index[index].adjust(-share, f"优惠券 {title}")
            discounts[str(coupon_id)] = sum(shares.values())
        draft.attributes[DISCOUNTS] = discounts

    # -- placed -----------------------------------------------------------------------------------------
    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        ids = draft.attributes.get(CHOSEN) or []
        discounts = draft.attributes.get(DISCOUNTS) or {}
        for i, coupon_id in enumerate(ids):
            used = await tx.session.execute(
                update(Coupon)
                .where(Coupon.id == coupon_id, Coupon.member_id == draft.member_id, Coupon.status == "available", Coupon.valid_until > tx.now())
                .values(status="used", order_id=order_id, used_at=tx.now(), discount_minor=int(discounts.get(str(coupon_id), 0)))
                .execution_options(synchronize_session=False)
            )
            if used.rowcount != 1:
                raise DomainError("COUPONS_ALREADY_USED", "This coupon was just used on another order.", field=f"input.{INPUT_FIELD}[{i}]")

    # -- the preview's list ---------------------------------------------------------------------------------
    async def options(self, session: Any, kernel: Any, draft: Draft) -> list[dict[str, Any]]:
        """Every coupon in the member's wallet (not used), newest first: what it would take off
        this checkout on its own, or why it cannot be used."""
        from components.coupons.service import terms_of

        rows = (
            await session.scalars(
                select(Coupon).where(Coupon.member_id == draft.member_id, Coupon.status == "available").order_by(Coupon.id.desc()).limit(MAX_OPTIONS)
            )
        ).all()
        if not rows:
            return []
        templates = await self._templates(session, [c.template_id for c in rows])
        lines = await self.line_views(session, kernel, draft, before_coupons)
        chosen = set(draft.attributes.get(CHOSEN) or ())
        discounts = draft.attributes.get(DISCOUNTS) or {}
        now = kernel.clock.now()
        out = []
        for coupon in rows:
            reason = validity_reason(as_utc(coupon.valid_from), as_utc(coupon.valid_until), coupon.status, now)
            amount = 0
            if coupon.id in chosen:
                amount = int(discounts.get(str(coupon.id), 0))
            elif reason is None:
                shares, reason = evaluate(terms_of(templates[coupon.template_id]), lines)
                amount = sum(shares.values())
            out.append(
                {
                    "coupon": coupon,
                    "template": templates[coupon.template_id],
                    "usable": reason is None,
                    "reason": reason,
                    "message": REASONS.get(reason) if reason else None,
                    "discountMinor": amount,
                    "selected": coupon.id in chosen,
                }
            )
        return out
