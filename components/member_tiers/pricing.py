"""The member price (会员价): stage ``discount`` of the one checkout, and the points multiplier
points_mall asks for.

Stage ``discount`` runs after activity prices and before thresholds, coupons, points and
delivery (see README "Stacking"). Each plain line — one no activity claimed and no activity
price changed — gets ``floor(line × percent / 100)`` off, where the percent is the better of
the member's tier and running paid term. Activity lines (group buy, flash sale, auction, a
points redemption, a term itself) already carry the activity's price and are left alone.
"""

from __future__ import annotations

from typing import Any

from components.member_tiers.models import Account
from components.member_tiers.rules import best_benefits, member_discount
from core.checkout import Draft
from core.transaction import Transaction


def is_plain(line: Any) -> bool:
    return line.activity is None and not any(a.get("stage") == "activity" for a in line.adjustments)


class MemberPrice:
    kernel: Any

    async def benefits(self, session: Any, member_id: int) -> tuple[int, int, str]:
        """``(discount percent, points percent, label)`` for a member now."""
        account = await session.get(Account, member_id)
        tier = self.tiers[account.tier if account is not None else 0]
        term = self.running_term(account, self.kernel.clock.now())
        discount, points = best_benefits(tier, term)
        label = tier.name if term is None or term.discount_percent <= tier.discount_percent else term.name
        return discount, points, label

    async def price(self, tx: Transaction, draft: Draft) -> None:
        discount, _points, label = await self.benefits(tx.session, draft.member_id)
        if discount <= 0:
            return
        for line in draft.lines:
            if not is_plain(line):
                continue
            off = member_discount(line.own_total_minor, discount)
            if off:
                line.adjust(-off, f"会员价 {label} -{discount}%")

    # -- points_mall's extension point ------------------------------------------------------------
    async def standing(self, session: Any, member_id: int) -> tuple[int, int]:
        """``(tier level, earn percent)`` for points_mall: the level its items' and multipliers'
        ``min_tier`` compare with (0 = the first tier), and the percent of the brand's earn rate."""
        account = await session.get(Account, member_id)
        _discount, points, _label = await self.benefits(session, member_id)
        return (account.tier if account is not None else 0), points
