"""member_tags in GraphQL (thin: the rules are in rules.py, service.py and tagging.py).

Staff only: ``member_tags.view`` reads profiles and tags, ``member_tags.manage`` sets manual
tags. A member sees none of it (README: how the brand labels a customer is not the customer's).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from components.member_tags import MANAGE, VIEW
from components.member_tags.models import MemberTag as Holding
from components.member_tags.models import Profile, Tag
from components.members.graphql import Member
from core.clock import as_utc
from core.gql import Connection, Context, Money, Node, Payload, connection, decode_id, fetch_page, money, run_mutation
from core.gql.relay import After, Before, First, Last, to_global_id


@strawberry.enum(description="The eight RFM segments: recency, frequency and monetary each high or low (README: formulas).")
class RfmSegment(enum.Enum):
    IMPORTANT_VALUE = strawberry.enum_value("important_value", description="重要价值: R high, F high, M high.")
    IMPORTANT_KEEP = strawberry.enum_value("important_keep", description="重要保持: R low, F high, M high.")
    IMPORTANT_DEVELOP = strawberry.enum_value("important_develop", description="重要发展: R high, F low, M high.")
    IMPORTANT_WIN_BACK = strawberry.enum_value("important_win_back", description="重要挽留: R low, F low, M high.")
    GENERAL_VALUE = strawberry.enum_value("general_value", description="一般价值: R high, F high, M low.")
    GENERAL_KEEP = strawberry.enum_value("general_keep", description="一般保持: R low, F high, M low.")
    GENERAL_DEVELOP = strawberry.enum_value("general_develop", description="一般发展: R high, F low, M low.")
    GENERAL_WIN_BACK = strawberry.enum_value("general_win_back", description="一般挽留: R low, F low, M low.")


@strawberry.enum(description="Where a member is in their life as a customer (README: formulas).")
class LifecycleStage(enum.Enum):
    PROSPECT = strawberry.enum_value("prospect", description="Registered, no counted order yet.")
    NEW = strawberry.enum_value("new", description="Ordered recently, fewer orders than the repeat threshold.")
    REPEAT = strawberry.enum_value("repeat", description="Ordered recently, at least the repeat threshold of orders.")
    DORMANT = strawberry.enum_value("dormant", description="No order for dormant_after_days.")
    CHURNED = strawberry.enum_value("churned", description="No order for churned_after_days.")


@strawberry.enum(description="Who sets a tag.")
class MemberTagKind(enum.Enum):
    MANUAL = strawberry.enum_value("manual", description="Staff set and remove it.")
    RULE = strawberry.enum_value("rule", description="A blueprint rule: members meeting it hold it, and lose it when they stop.")
    CHANNEL = strawberry.enum_value("channel", description="The channel, guide or store a member registered through.")


@strawberry.type(description="A tag members can hold.")
class MemberTag(Node):
    name: str = strawberry.field(description="The tag's name (a rule's name for RULE tags).")
    kind: MemberTagKind = strawberry.field(description="Who sets it.")
    description: str = strawberry.field(description="What it means; empty when nobody said.")
    created_at: datetime = strawberry.field(description="When the tag was made.")

    @strawberry.field(description="How many members hold it now.")
    async def member_count(self, info: strawberry.Info) -> int:
        ctx: Context = info.context
        return (await ctx.kernel.service("member_tags").tagging.holders(await ctx.session(), [self.pk])).get(self.pk, 0)


@strawberry.type(description="A member's order figures, RFM segment, lifecycle stage and tags; its id pairs with the member's.")
class MemberProfile(Node):
    stage: LifecycleStage = strawberry.field(description="The lifecycle stage.")
    stage_since: datetime = strawberry.field(description="When the member entered that stage.")
    segment: RfmSegment | None = strawberry.field(description="The RFM segment; null for a member without a counted order.")
    orders_count: int = strawberry.field(description="Counted orders ever: paid, not refunded in full.")
    paid: Money = strawberry.field(description="Paid for counted orders ever, net of refunds.")
    first_order_at: datetime | None = strawberry.field(description="The first counted order's payment.")
    last_order_at: datetime | None = strawberry.field(description="The last counted order's payment.")
    window_orders: int = strawberry.field(description="Counted orders in the RFM window (frequency), as of computedAt.")
    window_paid: Money = strawberry.field(description="Paid in the RFM window, net of refunds (monetary), as of computedAt.")
    computed_at: datetime = strawberry.field(description="When the figures and classification were last computed.")

    @strawberry.field(description="The member.")
    async def member(self, info: strawberry.Info) -> Member | None:
        return await info.context.loader("members.members").load(self.pk)

    @strawberry.field(description="The tags the member holds, by name (bounded by the brand's tags, so a list).")
    async def tags(self, info: strawberry.Info) -> list[MemberTag]:
        ctx: Context = info.context
        rows = (
            await (await ctx.session()).scalars(
                select(Tag).join(Holding, Holding.tag_id == Tag.id).where(Holding.member_id == self.pk).order_by(Tag.name)
            )
        ).all()
        return [tag_node(r) for r in rows]


def tag_node(row: Tag) -> MemberTag:
    return MemberTag(pk=row.id, name=row.name, kind=MemberTagKind(row.kind), description=row.description, created_at=as_utc(row.created_at))


def profile_node(row: Profile, currency: str) -> MemberProfile:
    def at(value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    return MemberProfile(
        pk=row.member_id,
        stage=LifecycleStage(row.stage),
        stage_since=as_utc(row.stage_since),
        segment=RfmSegment(row.segment) if row.segment else None,
        orders_count=row.orders_count,
        paid=money(row.paid_minor, currency),
        first_order_at=at(row.first_order_at),
        last_order_at=at(row.last_order_at),
        window_orders=row.window_orders,
        window_paid=money(row.window_paid_minor, currency),
        computed_at=as_utc(row.computed_at),
    )


async def load_profiles(ctx: Context, keys: list[int]) -> list[MemberProfile | None]:
    """Staff with ``member_tags.view`` only; to anyone else an id resolves to null."""
    if not (ctx.actor.is_staff and ctx.can(VIEW)):
        return [None for _ in keys]
    rows = {r.member_id: r for r in (await (await ctx.session()).scalars(select(Profile).where(Profile.member_id.in_(keys)))).all()}
    currency = ctx.kernel.blueprint.brand.currency
    return [profile_node(rows[k], currency) if k in rows else None for k in keys]


async def load_tags(ctx: Context, keys: list[int]) -> list[MemberTag | None]:
    if not (ctx.actor.is_staff and ctx.can(VIEW)):
        return [None for _ in keys]
    rows = {r.id: r for r in (await (await ctx.session()).scalars(select(Tag).where(Tag.id.in_(keys)))).all()}
    return [tag_node(rows[k]) if k in rows else None for k in keys]


@strawberry.input(description="Which members' profiles to list; every given condition must hold.")
class MemberProfileFilter:
    segment: RfmSegment | None = strawberry.field(default=None, description="Only this RFM segment.")
    stage: LifecycleStage | None = strawberry.field(default=None, description="Only this lifecycle stage.")
    tag_id: strawberry.ID | None = strawberry.field(default=None, description="Only holders of this MemberTag.")


@strawberry.type
class Query:
    @strawberry.field(description="Staff (`member_tags.view`): members' profiles by member, filtered by segment, stage or tag; null when refused.")
    async def member_profiles(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        filter: Annotated[MemberProfileFilter | None, strawberry.argument(description="Only profiles matching all of it; null for all.")] = None,  # noqa: A002
        last: Last = None,
        before: Before = None,
    ) -> Connection[MemberProfile] | None:
        ctx: Context = info.context
        ctx.require(VIEW)
        stmt = select(Profile)
        if filter is not None:
            if filter.segment is not None:
                stmt = stmt.where(Profile.segment == filter.segment.value)
            if filter.stage is not None:
                stmt = stmt.where(Profile.stage == filter.stage.value)
            if filter.tag_id is not None:
                tag = decode_id(filter.tag_id, "MemberTag", field="filter.tagId")
                stmt = stmt.join(Holding, Holding.member_id == Profile.member_id).where(Holding.tag_id == tag)
        page = await fetch_page(await ctx.session(), stmt, Profile.member_id, first, after, last=last, before=before)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: profile_node(row, currency), key=lambda row: row.member_id)

    @strawberry.field(description="Staff (`member_tags.view`): one member's profile (figures, segment, stage, tags).")
    async def member_profile(
        self, info: strawberry.Info, member_id: Annotated[strawberry.ID, strawberry.argument(description="The member (a Member id).")]
    ) -> MemberProfile | None:
        ctx: Context = info.context
        ctx.require(VIEW)
        return (await load_profiles(ctx, [decode_id(member_id, "Member", field="memberId")]))[0]

    @strawberry.field(description="Staff (`member_tags.view`): the brand's tags, oldest first, optionally of one kind; null when refused.")
    async def member_tags(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        kind: Annotated[MemberTagKind | None, strawberry.argument(description="Only tags of this kind; null for all.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[MemberTag] | None:
        ctx: Context = info.context
        ctx.require(VIEW)
        stmt = select(Tag) if kind is None else select(Tag).where(Tag.kind == kind.value)
        page = await fetch_page(await ctx.session(), stmt, Tag.id, first, after, last=last, before=before)
        return connection(page, tag_node)

    @strawberry.field(description="Staff (`member_tags.view`): one tag.")
    async def member_tag(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The tag (a MemberTag id).")],  # noqa: A002
    ) -> MemberTag | None:
        ctx: Context = info.context
        ctx.require(VIEW)
        return (await load_tags(ctx, [decode_id(id, "MemberTag", field="id")]))[0]


@strawberry.input(description="A new manual tag.")
class CreateMemberTagInput:
    name: str = strawberry.field(description="1 to 40 characters, unique among the brand's tags.")
    description: str = strawberry.field(default="", description="What it means, for other staff (up to 200 characters).")


@strawberry.input(description="A manual tag to delete (its holders lose it).")
class DeleteMemberTagInput:
    tag_id: strawberry.ID = strawberry.field(description="The MemberTag.")


@strawberry.input(description="Members to give a manual tag, or to take it from.")
class TagMembersInput:
    tag_id: strawberry.ID = strawberry.field(description="The MemberTag (MANUAL).")
    member_ids: list[strawberry.ID] = strawberry.field(description="1 to 500 Member ids.")


@strawberry.input(description="Members to take a manual tag from.")
class UntagMembersInput(TagMembersInput):
    pass


@strawberry.type(description="The tag made, or why not.")
class CreateMemberTagPayload(Payload):
    tag: MemberTag | None = strawberry.field(default=None, description="The new tag.")


@strawberry.type(description="The tag deleted, or why not.")
class DeleteMemberTagPayload(Payload):
    deleted_tag_id: strawberry.ID | None = strawberry.field(default=None, description="The id the tag had.")


@strawberry.type(description="How many members gained (or lost) the tag, or why nothing changed.")
class TagMembersPayload(Payload):
    tag: MemberTag | None = strawberry.field(default=None, description="The tag, with its new member count.")
    changed: int | None = strawberry.field(default=None, description="Members who gained (tagMembers) or lost (untagMembers) it.")


@strawberry.type(description="How many members lost the tag, or why nothing changed.")
class UntagMembersPayload(TagMembersPayload):
    pass


def _tagging(ctx: Context) -> Any:
    return ctx.kernel.service("member_tags").tagging


def _member_ids(values: list[strawberry.ID]) -> list[int]:
    return [decode_id(v, "Member", field=f"input.memberIds[{i}]") for i, v in enumerate(values)]


async def _tag_payload(ctx: Context, result: dict | None, errors: list) -> TagMembersPayload:
    if errors or result is None:
        return TagMembersPayload(user_errors=errors)
    return TagMembersPayload(tag=(await load_tags(ctx, [result["tagId"]]))[0], changed=result["changed"])


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff (`member_tags.manage`): a new manual tag.")
    async def create_member_tag(
        self, info: strawberry.Info, input: Annotated[CreateMemberTagInput, strawberry.argument(description="The new tag's name and meaning.")]
    ) -> CreateMemberTagPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx: Any) -> dict:
            ctx.require(MANAGE)
            return {"tagId": await _tagging(ctx).create(tx, input.name, input.description)}

        result, errors = await run_mutation(ctx, work)
        if errors or result is None:
            return CreateMemberTagPayload(user_errors=errors)
        return CreateMemberTagPayload(tag=(await load_tags(ctx, [result["tagId"]]))[0])

    @strawberry.mutation(description="Staff (`member_tags.manage`): delete a manual tag; its holders lose it.")
    async def delete_member_tag(
        self, info: strawberry.Info, input: Annotated[DeleteMemberTagInput, strawberry.argument(description="The manual tag to delete.")]
    ) -> DeleteMemberTagPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx: Any) -> dict:
            ctx.require(MANAGE)
            tag = decode_id(input.tag_id, "MemberTag", field="input.tagId")
            await _tagging(ctx).delete(tx, tag)
            return {"tagId": tag}

        result, errors = await run_mutation(ctx, work)
        if errors or result is None:
            return DeleteMemberTagPayload(user_errors=errors)
        return DeleteMemberTagPayload(deleted_tag_id=strawberry.ID(to_global_id("MemberTag", result["tagId"])))

    @strawberry.mutation(
        description="Staff (`member_tags.manage`): give members a manual tag; holders stay as they are, so repeating the call changes nothing."
    )
    async def tag_members(
        self, info: strawberry.Info, input: Annotated[TagMembersInput, strawberry.argument(description="The manual tag and the members to give it.")]
    ) -> TagMembersPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx: Any) -> dict:
            ctx.require(MANAGE)
            tag = decode_id(input.tag_id, "MemberTag", field="input.tagId")
            return {"tagId": tag, "changed": await _tagging(ctx).add(tx, tag, _member_ids(input.member_ids))}

        return await _tag_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(
        description="Staff (`member_tags.manage`): take a manual tag from members; members without it are "
        "left alone, so repeating the call changes nothing."
    )
    async def untag_members(
        self,
        info: strawberry.Info,
        input: Annotated[UntagMembersInput, strawberry.argument(description="The manual tag and the members to take it from.")],
    ) -> UntagMembersPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx: Any) -> dict:
            ctx.require(MANAGE)
            tag = decode_id(input.tag_id, "MemberTag", field="input.tagId")
            return {"tagId": tag, "changed": await _tagging(ctx).remove(tx, tag, _member_ids(input.member_ids))}

        result, errors = await run_mutation(ctx, work)
        if errors or result is None:
            return UntagMembersPayload(user_errors=errors)
        return UntagMembersPayload(tag=(await load_tags(ctx, [result["tagId"]]))[0], changed=result["changed"])
