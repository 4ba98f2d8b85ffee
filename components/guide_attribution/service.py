"""The ``guide_attribution`` service: bindings, order credit, figures, and orders a guide
places for a customer (代客下单). No GraphQL here; graphql.py is thin over it."""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from components.guide_attribution import figures
from components.guide_attribution.binding_rules import Rules
from components.guide_attribution.bindings import Bindings
from components.guide_attribution.crediting import PLACED_BY, Crediting
from core.checkout import CheckoutRequest, LineRequest
from core.errors import DomainError
from core.transaction import Transaction

GUIDE_ROLE = "guide"


class GuideAttributionService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        binding = dict(settings.get("binding") or {})
        self.rules = Rules(mode=binding.get("mode", "permanent"), protect_days=int(binding.get("protect_days", 30)))
        self.zone = ZoneInfo(kernel.blueprint.brand.timezone)
        self.bindings = Bindings(kernel, self.rules, self.zone)
        self.crediting = Crediting(kernel, self.bindings)

    def today(self) -> date:
        return figures.brand_day(self.kernel.clock.now(), self.zone)

    async def place_for_customer(
        self,
        tx: Transaction,
        *,
        guide_id: int,
        member_id: int,
        lines: list[tuple[int, int]],
        inputs: Mapping[str, Any],
        expected_total_minor: int | None,
        idempotency_key: str | None,
    ) -> int:
        """A guide places an order for a member (代客下单) through the one checkout: the
        member pays it as their own; the order is credited to the guide first of all."""
        if not await self.kernel.service("members.share_codes").is_active_guide(tx.session, guide_id):
            raise DomainError("GUIDE_ATTRIBUTION_NOT_A_GUIDE", "Only active staff with the guide role place orders for customers.")
        if await self.kernel.service("members").member(tx.session, member_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such member.", field="input.memberId")
        request = CheckoutRequest(
            member_id=member_id,
            lines=[LineRequest(sku, quantity) for sku, quantity in lines],
            inputs=dict(inputs),
            attributes={PLACED_BY: guide_id},
            idempotency_key=idempotency_key,
            expected_total_minor=expected_total_minor,
        )
        return int(await self.kernel.service("orders").place(tx, request))

    async def idle_guides(self, session: Any, start: date, end: date) -> list[Any]:
        """Active guides who added no member in the period (staff rows, by id)."""
        figures.check_period(start, end)
        added = await figures.holders_who_added(session, start, end)
        staff = await self.kernel.service("members").active_staff(session)
        return sorted((s for s in staff if GUIDE_ROLE in (s.roles or []) and s.id not in added), key=lambda s: s.id)
