"""Notifications in GraphQL: a member's own messages and WeChat subscription consents.

Templates are not nodes: a template is named by the key the brand configured (a WeChat
template id, an SMS template code), so the schema calls it ``templateKey``; the older
``templateId`` names stay, deprecated, for one release.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from components.notifications import models
from core.clock import as_utc
from core.errors import refuse_both
from core.gql import Connection, Context, Node, Payload, connection, fetch_page, run_mutation

_OLD = "Use {new}; removed in the next release."
_KEY = "The template's key as the brand configured it: a WeChat template id or an SMS template code."


@strawberry.enum(description="Where a notification is in its delivery.")
class NotificationStatus(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="Planned, not sent yet (also between retries).")
    SENT = strawberry.enum_value("sent", description="The channel accepted it.")
    FAILED = strawberry.enum_value("failed", description="The channel refused it for good, or every retry failed.")
    SKIPPED = strawberry.enum_value("skipped", description="Not sent on purpose: no consent left for the template, or too late to matter.")


@strawberry.enum(description="How a notification reaches the member.")
class NotificationChannel(enum.Enum):
    WECHAT = strawberry.enum_value("wechat", description="A WeChat subscription message (订阅消息); needs the member's consent.")
    SMS = strawberry.enum_value("sms", description="A text message to the member's phone number.")


@strawberry.type(description="One field of a notification's template as it was sent, e.g. name 'thing1', value '您的商品已到店'.")
class NotificationField:
    name: str = strawberry.field(description="The template's field key, e.g. 'thing1' or 'amount3'.")
    value: str = strawberry.field(description="The text sent in it, already cut to the channel's limit.")


@strawberry.type(description="A message sent (or to be sent) to the signed-in member about something that happened.")
class Notification(Node):
    event: str = strawberry.field(description="The event behind it, e.g. 'group_buy.succeeded'.")
    channel: str = strawberry.field(description="'wechat' or 'sms'.", deprecation_reason=_OLD.format(new="deliveryChannel"))
    delivery_channel: NotificationChannel = strawberry.field(description="How it reaches the member.")
    template_id: str = strawberry.field(description=_KEY, deprecation_reason=_OLD.format(new="templateKey"))
    template_key: str = strawberry.field(description=_KEY)
    data: JSON = strawberry.field(description="The template's fields as a JSON object.", deprecation_reason=_OLD.format(new="fields"))
    fields: list[NotificationField] = strawberry.field(description="The template's fields as sent, in the order the brand configured them.")
    status: str = strawberry.field(description="'pending', 'sent', 'failed' or 'skipped'.", deprecation_reason=_OLD.format(new="deliveryStatus"))
    delivery_status: NotificationStatus = strawberry.field(description="Where it is in its delivery.")
    created_at: datetime = strawberry.field(description="When it was planned (ISO 8601 UTC).")
    sent_at: datetime | None = strawberry.field(description="When the channel accepted it (ISO 8601 UTC); null until sent.")
    member_pk: strawberry.Private[int]


@strawberry.type(description="How many more messages of a template the member agreed to receive (一次性订阅).")
class NotificationConsent:
    template_id: str = strawberry.field(description=_KEY, deprecation_reason=_OLD.format(new="templateKey"))
    template_key: str = strawberry.field(description=_KEY)
    remaining: int = strawberry.field(description="Messages left for the template.", deprecation_reason=_OLD.format(new="messagesLeft"))
    messages_left: int = strawberry.field(description="How many more messages of this template may be sent (one per acceptance).")


def consent_node(template: str, left: int) -> NotificationConsent:
    return NotificationConsent(template_id=template, template_key=template, remaining=left, messages_left=left)


def notification_node(row: models.Delivery) -> Notification:
    data = {str(k): str(v) for k, v in (row.data or {}).items()}
    return Notification(
        pk=row.id,
        event=row.event,
        channel=row.channel,
        delivery_channel=NotificationChannel(row.channel),
        template_id=row.template_id,
        template_key=row.template_id,
        data=data,
        fields=[NotificationField(name=k, value=v) for k, v in data.items()],
        status=row.status,
        delivery_status=NotificationStatus(row.status),
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
    # Member-only fields are nullable: for anyone else the field is null with an error at its path, the rest of the page stands.
    @strawberry.field(description="The signed-in member's notifications, newest first; null with an error for anyone else.")
    async def my_notifications(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description="How many from the newest (or after `after`); at most 100, default 20.")] = None,
        after: Annotated[str | None, strawberry.argument(description="A cursor: read the notifications after it.")] = None,
        last: Annotated[int | None, strawberry.argument(description="How many from the oldest end (or before `before`); at most 100.")] = None,
        before: Annotated[str | None, strawberry.argument(description="A cursor: read the notifications before it.")] = None,
    ) -> Connection[Notification] | None:
        ctx: Context = info.context
        member_id = ctx.require_member()
        stmt = select(models.Delivery).where(models.Delivery.member_id == member_id)
        page = await fetch_page(await ctx.session(), stmt, models.Delivery.id, first, after, last=last, before=before, descending=True)
        return connection(page, notification_node)

    @strawberry.field(description="The signed-in member's WeChat subscription consents left, per template; null with an error for anyone else.")
    async def my_notification_consents(self, info: strawberry.Info) -> list[NotificationConsent] | None:
        ctx: Context = info.context
        found = await ctx.kernel.service("notifications").consents(await ctx.session(), ctx.require_member())
        return [consent_node(t, n) for t, n in found]


@strawberry.input(description="The templates a member accepted in wx.requestSubscribeMessage; one message each.")
class GrantNotificationConsentInput:
    template_keys: list[str] | None = strawberry.field(
        default=None, description="Keys of the accepted templates (1 to 3, as WeChat asks for them); each must be a template a WeChat rule uses."
    )
    template_ids: list[str] | None = strawberry.field(
        default=None, description="The accepted templates' keys.", deprecation_reason=_OLD.format(new="templateKeys")
    )
    idempotency_key: str | None = strawberry.field(default=None, description="A key of the client's choosing: a replay returns the first answer.")


@strawberry.type(description="The result of grantNotificationConsent.")
class GrantNotificationConsentPayload(Payload):
    consents: list[NotificationConsent] | None = strawberry.field(
        default=None, description="Every consent the member now holds, by template key; null when refused."
    )


def _templates(input: GrantNotificationConsentInput) -> tuple[list[str], str]:  # noqa: A002
    """The templates from either form, and the input field errors should name."""
    refuse_both(input.template_keys, input.template_ids, new_name="templateKeys", old_name="templateIds", field="input.templateKeys")
    if input.template_ids is not None:
        return list(input.template_ids), "input.templateIds"
    return list(input.template_keys or []), "input.templateKeys"


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Member: record the templates accepted in wx.requestSubscribeMessage (one message each).")
    async def grant_notification_consent(
        self,
        info: strawberry.Info,
        input: Annotated[GrantNotificationConsentInput, strawberry.argument(description="The accepted templates.")],  # noqa: A002
    ) -> GrantNotificationConsentPayload:
        ctx: Context = info.context
        both = input.template_keys is not None and input.template_ids is not None
        asked = list(input.template_keys or []) + list(input.template_ids or [])

        async def work(tx):  # noqa: ANN001, ANN202
            templates, field = _templates(input)
            found = await ctx.kernel.service("notifications").grant(tx, ctx.require_member(), templates, field=field)
            return {"consents": [[t, n] for t, n in found]}

        key = ("notifications.grant", input.idempotency_key, ["both", *asked] if both else asked)
        result, errors = await run_mutation(ctx, work, idempotency=key)
        if errors:
            return GrantNotificationConsentPayload(user_errors=errors)
        return GrantNotificationConsentPayload(consents=[consent_node(t, n) for t, n in result["consents"]])
