"""``kernel.service("distribution")``: the brand's settings, SKU commission rules, and the
parts (promoters.py, commissions.py, withdrawals.py, reports.py) that hold the rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Mapping

from sqlalchemy import select

from components.distribution.commissions import Commissions
from components.distribution.models import Rule
from components.distribution.payouts import SandboxPayout, WeChatTransferPayout
from components.distribution.promoters import Promoters
from components.distribution.reports import Reports
from components.distribution.rules import BPS, KINDS, Rate
from components.distribution.withdrawals import Withdrawals
from core.errors import DomainError
from core.transaction import Transaction
from core.units import parse_money

MAX_FIXED = 10**9


@dataclass(frozen=True)
class Config:
    eligibility: str
    spend_threshold_minor: int
    binding: str
    binding_period: timedelta
    levels: int
    level1_bps: int
    level2_bps: int
    tiers: tuple[dict, ...]
    withdrawal_min_minor: int
    fee_bps: int
    fee_min_minor: int
    payout: str

    @classmethod
    def of(cls, settings: Mapping[str, Any], currency: str) -> Config:
        def minor(name: str, default: str) -> int:
            return parse_money(str(settings.get(name, default)), currency)

        tiers = tuple(
            sorted(
                (
                    {
                        "name": t["name"],
                        "min_sales_minor": parse_money(str(t["min_sales"]), currency),
                        "monthly_target_minor": parse_money(str(t.get("monthly_target", "0")), currency),
                    }
                    for t in settings.get("tiers", ())
                ),
                key=lambda t: t["min_sales_minor"],
            )
        )
        return cls(
            eligibility=settings.get("eligibility", "approved"),
            spend_threshold_minor=minor("spend_threshold", "0"),
            binding=settings.get("binding", "permanent"),
            binding_period=timedelta(days=int(settings.get("binding_days", 30))),
            levels=int(settings.get("levels", 1)),
            level1_bps=int(settings.get("level1_bps", 500)),
            level2_bps=int(settings.get("level2_bps", 200)),
            tiers=tiers,
            withdrawal_min_minor=minor("withdrawal_minimum", "1.00"),
            fee_bps=int(settings.get("withdrawal_fee_bps", 0)),
            fee_min_minor=minor("withdrawal_fee_minimum", "0"),
            payout=settings.get("payout", "sandbox"),
        )

    def default_rate(self, level: int) -> Rate:
        return Rate("percent", self.level1_bps if level == 1 else self.level2_bps)


class RuleBook:
    """Per-SKU commission rules; a SKU without one earns the brand's default percentage."""

    def __init__(self, service: Any) -> None:
        self.service = service

    async def rates_for(self, session: Any, sku_ids: list[int]) -> dict[tuple[int, int], Rate]:
        if not sku_ids:
            return {}
        rows = (await session.scalars(select(Rule).where(Rule.sku_id.in_(sorted(set(sku_ids)))))).all()
        return {(r.sku_id, r.level): Rate(r.kind, r.value) for r in rows}

    async def set(self, tx: Transaction, sku_id: int, level: int, kind: str | None, value: int | None) -> Rule | None:
        """Write (or with ``kind`` None, remove) a SKU's rule for one level."""
        if level not in (1, 2) or level > self.service.config.levels:
            raise DomainError("DISTRIBUTION_INVALID_RULE", f"This brand pays {self.service.config.levels} level(s).", field="input.level")
        if sku_id not in await self.service.kernel.service("catalog").skus(tx.session, [sku_id]):
            raise DomainError("DISTRIBUTION_INVALID_RULE", "No such SKU.", field="input.skuId")
        row = await tx.session.scalar(select(Rule).where(Rule.sku_id == sku_id, Rule.level == level))
        if kind is None:
            if row is not None:
                await tx.session.delete(row)
                await tx.session.flush()
            return None
        if kind not in KINDS:
            raise DomainError("DISTRIBUTION_INVALID_RULE", "A rule is PERCENT or FIXED.", field="input.kind")
        limit = BPS if kind == "percent" else MAX_FIXED
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
            unit = "basis points" if kind == "percent" else "minor units per unit"
            raise DomainError("DISTRIBUTION_INVALID_RULE", f"The value is 0 to {limit} ({unit}).", field="input.value")
        if row is None:
            row = Rule(sku_id=sku_id, level=level, kind=kind, value=value)
            tx.session.add(row)
        else:
            row.kind, row.value = kind, value
        await tx.session.flush()
        return row


class DistributionService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.currency = kernel.blueprint.brand.currency
        self.config = Config.of(settings, self.currency)
        self.promoters = Promoters(self)
        self.commissions = Commissions(self)
        self.withdrawals = Withdrawals(self)
        self.rules = RuleBook(self)
        self.reports = Reports(self)
        self.sandbox = SandboxPayout()

    def payout_provider(self) -> Any:
        if self.config.payout == "wechat_pay" and self.kernel.has_component("wechat_pay"):
            wechat = self.kernel.service("wechat_pay")
            if wechat.configured:
                return WeChatTransferPayout(wechat, self._openid)
            raise DomainError("DISTRIBUTION_PAYOUT_UNAVAILABLE", "WeChat Pay has no merchant settings.", field="input")
        return self.sandbox

    async def _openid(self, session: Any, member_id: int) -> str:
        member = await self.kernel.service("members").member(session, member_id)
        openid = getattr(member, "open_id", None)
        if not openid:
            raise DomainError("DISTRIBUTION_PAYOUT_UNAVAILABLE", "The promoter never signed in with WeChat.", field="input")
        return openid
