"""The points_mall service: the ledger, earning, and the mall, one object per kernel.

Each concept lives in its own module (:mod:`.ledger`, :mod:`.earning`, :mod:`.mall`,
:mod:`.deduction`); this class joins them and holds the brand's settings.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from components.points_mall.checkout import MallCheckout
from components.points_mall.deduction import PointsPayment
from components.points_mall.earning import GRANT_JOB, Earning
from components.points_mall.ledger import EXPIRE_BATCH, EXPIRE_JOB, EXPIRE_MORE_JOB, MAX_POINTS, Ledger
from components.points_mall.mall import REDEEM_FIELDS, Mall
from core.units import parse_duration

__all__ = ["EXPIRE_BATCH", "EXPIRE_JOB", "EXPIRE_MORE_JOB", "GRANT_JOB", "MAX_POINTS", "REDEEM_FIELDS", "PointsService"]


class PointsService(Ledger, Earning, Mall):
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.earn_per_yuan = int(settings.get("earn_per_yuan", 1))
        self.grant_on = settings.get("grant_on", "paid")
        self.freeze = timedelta(days=int(settings.get("freeze_days", 0)))
        self.activity_orders_earn = bool(settings.get("activity_orders_earn", True))
        expiry = settings.get("expiry") or {}
        self.expiry_rule = expiry.get("rule", "end_of_next_year")
        self.expiry_days = int(expiry.get("days", 365))
        self.expiry_check_every = parse_duration(settings.get("expiry_check_every", "1h"))
        self.sign_in_rewards = list(settings.get("sign_in_rewards") or [5])
        self.refund_shortfall = settings.get("refund_shortfall", "deduct_available")
        caps = settings.get("earn_caps") or {}
        self.earn_caps = {name: caps.get(name) for name in ("per_day", "per_month")}
        self.earn_multipliers = list(settings.get("earn_multipliers") or [])
        self.zone = ZoneInfo(kernel.blueprint.brand.timezone)
        self.checkout = MallCheckout(self)
        self.payment = PointsPayment(self, settings.get("points_payment") or {})
        self._standing: tuple[str, Any] | None = None

    # -- the tier extension point ---------------------------------------------------------------
    def use_member_standing(self, component: str, source: Any) -> None:
        """Let a tiers component decide members' tiers and earn multipliers (member_tiers does,
        at startup): ``await source(session, member_id) -> (tier level, earn percent)``. The level
        replaces the tier staff set here (items' and multipliers' ``min_tier`` compare with it);
        the percent competes with ``earn_multipliers`` — the highest wins, none multiply."""
        if self._standing is not None and self._standing[0] != component:
            raise RuntimeError(f"points_mall: {component} and {self._standing[0]} both claim members' tiers")
        self._standing = (component, source)

    async def standing(self, session: Any, member_id: int, own_tier: int) -> tuple[int, int]:
        """``(tier level, earn percent from the tiers component)``: ``(own_tier, 100)`` without one."""
        if self._standing is None:
            return own_tier, 100
        level, percent = await self._standing[1](session, member_id)
        return int(level), int(percent)
