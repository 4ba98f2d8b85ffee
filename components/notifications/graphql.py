"""Notifications in GraphQL: a member's own messages and WeChat subscription consents."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from components.notifications import models
from core.clock import as_utc
from core.gql import Connection, Context, Node, Payload, connection, fetch_page, run_mutation


@strawberry.type(description="A message sent (or to be sent) to the signed-in member about something that happened.")
class Notification(Node):
    event: str = strawberry.field(description="the event behind it, e.g. group_buy.succeeded")
    channel: str = strawberry.field(description="wechat (subscription message) or sms")
    template_id: str
    data: JSON = strawberry.field(description="the template's fields as sent")
    status: str = strawberry.field(description="pending, sent, failed or skipped")
    created_at: datetime
    sent_at: datetime | None
    member_pk: strawberry.Private[int]


@strawberry.type(description="How many more messages of a template the member agreed to receive (一次性订阅).")
class NotificationConsent:
    template_id: str
    remaining: int


def notification_node(row: models.Delivery) -> Notification:
    return Notification(
        pk=row.id,
        event=row.event,
        channel=row.channel,
        template_id=row.template_id,
        data=dict(row.data or {}),
        status=row.status,
        created_at=as_utc(row.created_at),
        sent_at=as_utc(row.sent_at) if row.sent_at else None,
        member_pk=row.member_id,
    )


async def load_notifications(ctx: Context, keys: list[int]) -> list[Notification | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Delivery).where(models.Delivery.id.in_(keys)))).all()}
    mine = ctx.actor.id if ctx.actor.is_member else None
    return [notification_node(rows[k]) if k in rows and rows[k].member_id == mine else None for k in keys]


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member's notifications, newest first.")
    async def my_notifications(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[Notification]:
        ctx: Context = info.context
        member_id = ctx.require_member()
        stmt = select(models.Delivery).where(models.Delivery.member_id == member_id)
        page = await fetch_page(await ctx.session(), stmt, models.Delivery.id, first, after, descending=True)
        return connection(page, notification_node)

    @strawberry.field(description="The signed-in member's WeChat subscription consents left, per template.")
    async def my_notification_consents(self, info: strawberry.Info) -> list[NotificationConsent]:
        ctx: Context = info.context
        found = await ctx.kernel.service("notifications").consents(await ctx.session(), ctx.require_member())
        return [NotificationConsent(template_id=t, remaining=n) for t, n in found]


@strawberry.input
class GrantNotificationConsentInput:
    template_ids: list[str] = strawberry.field(description="the templates the member accepted in wx.requestSubscribeMessage")
    idempotency_key: str | None = None


@strawberry.type
class GrantNotificationConsentPayload(Payload):
    consents: list[NotificationConsent] | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Member: record the templates accepted in wx.requestSubscribeMessage (one message each).")
    async def grant_notification_consent(self, info: strawberry.Info, input: GrantNotificationConsentInput) -> GrantNotificationConsentPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            found = await ctx.kernel.service("notifications").grant(tx, ctx.require_member(), list(input.template_ids))
            return {"consents": [[t, n] for t, n in found]}

        result, errors = await run_mutation(ctx, work, idempotency=("notifications.grant", input.idempotency_key, list(input.template_ids)))
        if errors:
            return GrantNotificationConsentPayload(user_errors=errors)
        return GrantNotificationConsentPayload(consents=[NotificationConsent(template_id=t, remaining=n) for t, n in result["consents"]])
