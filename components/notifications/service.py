"""Notification rules: from another component's event to a delivered message, once.

1. ``on_event`` (an observer: after commit, never part of the write that emitted the event)
   renders each matching rule for each recipient into a ``notifications_delivery`` row —
   unique per (event, rule, member), so an event delivered twice makes one message — and
   gives the row a durable timer.
2. ``deliver`` (the timer) waits out the brand's quiet hours and the per-member hourly limit,
   spends one of the member's WeChat consents for the template (none left → skipped), sends
   through the channel, and records the outcome; a retryable failure tries again with
   exponential backoff up to ``retry.attempts``, giving the consent back meanwhile.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any, Mapping

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from components.notifications import rules as R
from components.notifications.channels import DeliveryError, Message, make_channels
from components.notifications.models import Consent, Delivery
from core.errors import DomainError
from core.models import EventRow
from core.transaction import Transaction
from core.units import parse_duration

log = logging.getLogger("dougong.notifications")

DELIVER_JOB = "notifications.deliver"
MAX_TEMPLATES_PER_GRANT = 3  # wx.requestSubscribeMessage asks for at most three templates at once


class NotificationsService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.rules = R.rules_from(settings)
        self.by_event: dict[str, list[R.Rule]] = defaultdict(list)
        for rule in self.rules:
            self.by_event[rule.event].append(rule)
        self.channels = make_channels(settings)
        retry = settings.get("retry") or {}
        self.max_attempts = int(retry.get("attempts", 5))
        self.base_delay = parse_duration(retry.get("base_delay", "30s")).total_seconds()
        quiet = settings.get("quiet_hours") or {}
        self.quiet = (quiet.get("start"), quiet.get("end"))
        self.per_member_per_hour = settings.get("per_member_per_hour")
        self.wechat_templates = {r.template for r in self.rules if r.channel == "wechat"}
        self.by_name = {r.name[:80]: r for r in self.rules}

    # -- 1. an event arrives ----------------------------------------------------------------------
    async def on_event(self, kernel: Any, event: Any) -> None:
        payload = event.payload or {}
        planned = [(rule, member_id) for rule in self.by_event.get(event.name, ()) for member_id in R.recipients(payload, rule.recipients)]
        if not planned:
            if self.by_event.get(event.name):
                log.info("notifications: %s #%s names no member for its rules", event.name, event.id)
            return
        try:
            async with kernel.transaction() as tx:
                existing = set((await tx.session.execute(select(Delivery.rule, Delivery.member_id).where(Delivery.event_id == event.id))).all())
                for rule, member_id in planned:
                    if (rule.name, member_id) in existing:
                        continue  # the event came again (at least once): its messages are already planned
                    row = Delivery(
                        event_id=event.id,
                        event=event.name,
                        rule=rule.name[:80],
                        member_id=member_id,
                        channel=rule.channel,
                        template_id=rule.template,
                        page=R.render(rule.page, payload)[:200] if rule.page else None,
                        data=R.render_fields(rule.fields, payload),
                        status="pending",
                        attempts=0,
                        created_at=tx.now(),
                    )
                    tx.session.add(row)
                    await tx.session.flush()
                    await tx.schedule(DELIVER_JOB, f"{row.id}:0", tx.now(), {"deliveryId": row.id})
        except IntegrityError:
            pass  # a twin delivery of the same event planned them first

    # -- 2. a delivery is due ----------------------------------------------------------------------
    async def deliver(self, tx: Transaction, timer: Any) -> str:
        row = await tx.session.get(Delivery, int(timer.payload["deliveryId"]), populate_existing=True)
        if row is None or row.status != "pending":
            return "nothing"
        now = tx.now()
        stale = await self._stale_at(tx, row)
        if stale is not None and now >= stale:
            return self._finish(row, "skipped", "too late: the moment it was about has passed")
        later = R.quiet_until(now, self.kernel.blueprint.brand.timezone, *self.quiet)
        if later is None and self.per_member_per_hour:
            later = await self._rate_limited_until(tx, row.member_id)
        if later is not None:
            if stale is not None and later >= stale:
                # Held past its moment (a live reminder through quiet hours): never, not late.
                return self._finish(row, "skipped", "too late: held by quiet hours or the hourly limit past its moment")
            await self._again(tx, row, later)
            return "deferred"
        member = await self.kernel.service("members").member(tx.session, row.member_id)
        to = getattr(member, "open_id" if row.channel == "wechat" else "phone", None) if member else None
        if not to:
            return self._finish(row, "skipped", "the member has no " + ("WeChat openid" if row.channel == "wechat" else "phone"))
        if row.channel == "wechat" and not await self._spend_consent(tx, row.member_id, row.template_id):
            return self._finish(row, "skipped", "no subscription consent left for the template")
        row.attempts += 1
        try:
            ref = await self.channels[row.channel].send(Message(row.member_id, to, row.template_id, dict(row.data or {}), row.page))
        except DeliveryError as exc:
            if row.channel == "wechat":
                await self._return_consent(tx, row.member_id, row.template_id)
            row.last_error = str(exc)[:2000]
            if exc.retryable and row.attempts < self.max_attempts:
                await self._again(tx, row, now + R.backoff(row.attempts, self.base_delay))
                log.warning("notifications: delivery %s failed (attempt %s), retrying: %s", row.id, row.attempts, exc)
                return "retrying"
            log.error("notifications: delivery %s failed for good: %s", row.id, exc)
            return self._finish(row, "failed", str(exc))
        row.status, row.sent_at, row.provider_ref = "sent", now, ref[:100]
        return "sent"

    def _finish(self, row: Delivery, status: str, why: str) -> str:
        row.status, row.last_error = status, why[:2000]
        return status

    async def _again(self, tx: Transaction, row: Delivery, when: Any) -> None:
        # A fresh timer key per try: the running timer's own row is marked done when this returns.
        await tx.schedule(DELIVER_JOB, f"{row.id}:{int(when.timestamp())}:{row.attempts}", when, {"deliveryId": row.id})

    async def _stale_at(self, tx: Transaction, row: Delivery) -> Any:
        """When the row's rule has ``stale_after``: the time its event's payload names (the
        payload is read from the kernel's event outbox, where every event is kept)."""
        rule = self.by_name.get(row.rule)
        if rule is None or not rule.stale_after:
            return None
        payload = await tx.session.scalar(select(EventRow.payload).where(EventRow.id == row.event_id))
        return R.stale_at(payload or {}, rule.stale_after)

    async def _rate_limited_until(self, tx: Transaction, member_id: int) -> Any:
        since = tx.now() - timedelta(hours=1)
        sent = (
            await tx.session.scalars(
                select(Delivery.sent_at)
                .where(Delivery.member_id == member_id, Delivery.status == "sent", Delivery.sent_at > since)
                .order_by(Delivery.sent_at)
            )
        ).all()
        if len(sent) < int(self.per_member_per_hour):
            return None
        oldest = sent[0] if sent[0].tzinfo else sent[0].replace(tzinfo=tx.now().tzinfo)
        return oldest + timedelta(hours=1, seconds=1)

    async def _spend_consent(self, tx: Transaction, member_id: int, template: str) -> bool:
        spent = await tx.session.execute(
            update(Consent)
            .where(Consent.member_id == member_id, Consent.template_id == template, Consent.remaining > 0)
            .values(remaining=Consent.remaining - 1, updated_at=tx.now())
        )
        return spent.rowcount == 1

    async def _return_consent(self, tx: Transaction, member_id: int, template: str) -> None:
        await tx.session.execute(
            update(Consent)
            .where(Consent.member_id == member_id, Consent.template_id == template)
            .values(remaining=Consent.remaining + 1, updated_at=tx.now())
        )

    # -- consents ---------------------------------------------------------------------------------
    async def grant(self, tx: Transaction, member_id: int, template_ids: list[str], *, field: str = "input.templateKeys") -> list[tuple[str, int]]:
        """The member accepted these templates in ``wx.requestSubscribeMessage``: one more
        message each. Only templates the brand's rules use are accepted; errors name ``field``."""
        if not template_ids or len(template_ids) > MAX_TEMPLATES_PER_GRANT:
            raise DomainError(
                "NOTIFICATIONS_TOO_MANY_TEMPLATES",
                f"Grant 1 to {MAX_TEMPLATES_PER_GRANT} templates at once, as WeChat asks for them.",
                field=field,
            )
        for index, template in enumerate(template_ids):
            if template not in self.wechat_templates:
                raise DomainError("NOTIFICATIONS_UNKNOWN_TEMPLATE", "No notification of this brand uses that template.", field=f"{field}[{index}]")
        for template in dict.fromkeys(template_ids):
            await tx.serialize(f"notifications.consent:{member_id}:{template}")
            grown = await tx.session.execute(
                update(Consent)
                .where(Consent.member_id == member_id, Consent.template_id == template)
                .values(remaining=Consent.remaining + 1, updated_at=tx.now())
            )
            if grown.rowcount == 0:
                tx.session.add(Consent(member_id=member_id, template_id=template, remaining=1, updated_at=tx.now()))
                await tx.session.flush()
        return await self.consents(tx.session, member_id)

    async def consents(self, session: Any, member_id: int) -> list[tuple[str, int]]:
        rows = await session.execute(
            select(Consent.template_id, Consent.remaining)
            .where(Consent.member_id == member_id)
            .order_by(Consent.template_id)
            .execution_options(populate_existing=True)
        )
        return [(t, n) for t, n in rows.all()]

    async def count(self, session: Any, **where: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(Delivery).filter_by(**where)))

    async def subscribed_members(self, session: Any) -> int:
        """How many members hold at least one unspent WeChat subscription consent: the ones a
        subscription message can reach right now (reports count them; nobody is named)."""
        return int(await session.scalar(select(func.count(func.distinct(Consent.member_id))).where(Consent.remaining > 0)))
