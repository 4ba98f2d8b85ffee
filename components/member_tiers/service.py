"""The member_tiers service: growth, tiers, the member price and paid terms, one object per kernel.

Each concept lives in its own module (:mod:`.growth`, :mod:`.tiers`, :mod:`.pricing`,
:mod:`.terms`); this class joins them and holds the brand's settings.
"""

from __future__ import annotations

from typing import Any, Mapping

from components.member_tiers.growth import Growth
from components.member_tiers.models import Account
from components.member_tiers.pricing import MemberPrice
from components.member_tiers.rules import Term, tiers_of
from components.member_tiers.terms import Terms
from components.member_tiers.tiers import Tiers
from core.errors import BootError
from core.units import parse_duration, parse_money


class TiersService(Growth, Tiers, Terms, MemberPrice):
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.growth_per_yuan = int(settings.get("growth_per_yuan", 1))
        self.no_growth_kinds = frozenset(settings.get("no_growth_kinds", ("auction_deposit", "membership_term")))
        try:
            self.tiers = tiers_of(settings.get("tiers") or [{"code": "member", "name": "会员", "threshold": 0}])
        except ValueError as exc:  # the schema cannot say "rising": a boot error naming the setting
            raise BootError(f"component 'member_tiers': {exc}") from None
        self.review_period = parse_duration(settings.get("review_period", "365d"))
        currency = kernel.blueprint.brand.currency
        self.terms = {
            t["code"]: Term(
                t["code"],
                t["name"],
                parse_money(t["price"], currency),
                int(t["days"]),
                int(t.get("discount_percent", 0)),
                int(t.get("points_percent", 100)),
            )
            for t in settings.get("terms") or []
        }
        if len(self.terms) != len(settings.get("terms") or []):
            raise BootError("component 'member_tiers': member_tiers.terms: two terms share a code")

    async def account(self, session: Any, member_id: int) -> Account | None:
        return await session.get(Account, member_id)
