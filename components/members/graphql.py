"""Members' GraphQL: ``me``, ``staffMe``, ``members`` (staff) and the sign-in mutations.

Thin on purpose: who may sign in, and as whom, is decided in ``service.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from components.members import models
from components.members.service import mask_phone
from core.auth import Actor
from core.clock import as_utc
from core.errors import DomainError
from core.gql import Connection, Context, Node, Payload, connection, decode_id, fetch_page, run_mutation, user_error
from core.gql.relay import After, Before, First, Last, to_global_id

VIEW = "members.view"
_OLD = "Use {new}; removed in the next release."


def store_global_ids(keys: list[int]) -> list[strawberry.ID]:
    # PickupStore is store_pickup's type; its name is a public contract, so members builds the
    # ids without depending on store_pickup.
    return [strawberry.ID(to_global_id("PickupStore", k)) for k in keys]


@strawberry.type(description="A customer of the brand. Visible to themself and to staff with `members.view`.")
class Member(Node):
    nickname: str = strawberry.field(description="The name the member chose (or WeChat gave); may be empty.")
    phone: str | None = strawberry.field(description="In full for the member themself; masked (138****0001) for staff; null when none is bound.")
    source_channel: str | None = strawberry.field(
        description="Where the member registered (e.g. `live_room`, `store`); an open set components add to, so a string."
    )
    source_store_id: int | None = strawberry.field(
        description="The store the member registered at, as a number.", deprecation_reason=_OLD.format(new="sourcePickupStoreId")
    )
    source_pickup_store_id: strawberry.ID | None = strawberry.field(
        description="Global id of the PickupStore the member registered at; null when they did not register in a store."
    )
    created_at: datetime = strawberry.field(description="When the member registered (ISO 8601 UTC).")
    # Kept off the GraphQL type: the guide is resolved as a Staff node below.
    guide_pk: strawberry.Private[int | None] = None

    @strawberry.field(description="The guide (staff) who brought the member in; staff only, else null.")
    async def source_guide(self, info: strawberry.Info) -> Staff | None:
        if self.guide_pk is None:
            return None
        return (await load_staff(info.context, [self.guide_pk]))[0]


@strawberry.type(description="An employee: admin, store clerk (of some stores) or live host.")
class Staff(Node):
    name: str = strawberry.field(description="Their name as colleagues know it.")
    roles: list[str] = strawberry.field(
        description="Role names (`admin`, `store_clerk`, `live_host` or a role a component declares: an open list, so strings)."
    )
    store_ids: list[int] = strawberry.field(
        description="The stores a store clerk works at, as numbers.", deprecation_reason=_OLD.format(new="pickupStoreIds")
    )
    pickup_store_ids: list[strawberry.ID] = strawberry.field(
        description="Global ids of the PickupStores a store clerk works at; empty for other roles."
    )
    active: bool = strawberry.field(description="False once deactivated: their tokens are refused.")


def member_node(row: models.Member, ctx: Context) -> Member:
    own = ctx.actor.is_member and ctx.actor.id == row.id
    return Member(
        pk=row.id,
        nickname=row.nickname,
        phone=row.phone if own else mask_phone(row.phone),
        source_channel=row.source_channel,
        source_store_id=row.source_store_id,
        source_pickup_store_id=store_global_ids([row.source_store_id])[0] if row.source_store_id is not None else None,
        created_at=as_utc(row.created_at),
        guide_pk=row.source_guide_id,
    )


def staff_node(row: models.Staff) -> Staff:
    stores = [int(s) for s in row.store_ids or []]
    return Staff(
        pk=row.id, name=row.name, roles=list(row.roles or []), store_ids=stores, pickup_store_ids=store_global_ids(stores), active=bool(row.active)
    )


async def load_members(ctx: Context, keys: list[int]) -> list[Member | None]:
    """A member is visible to themself and to staff who may view members; to anyone else a
    member id resolves to null, exactly like one that does not exist (no probing for ids)."""
    staff_view = ctx.actor.is_staff and ctx.can(VIEW)
    visible = [k for k in keys if staff_view or (ctx.actor.is_member and ctx.actor.id == k)]
    if not visible:
        return [None for _ in keys]
    session = await ctx.session()
    rows = {r.id: r for r in await _rows(session, models.Member, visible)}
    return [member_node(rows[k], ctx) if k in rows else None for k in keys]


async def load_staff(ctx: Context, keys: list[int]) -> list[Staff | None]:
    """Staff are visible to staff only (members never learn employees' names or roles)."""
    if not ctx.actor.is_staff:
        return [None for _ in keys]
    session = await ctx.session()
    rows = {r.id: r for r in await _rows(session, models.Staff, keys)}
    return [staff_node(rows[k]) if k in rows else None for k in keys]


async def _rows(session: AsyncSession, model: type, keys: list[int]) -> list:
    return (await session.scalars(select(model).where(model.id.in_(keys)))).all()


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member, or null for anonymous callers and staff.")
    async def me(self, info: strawberry.Info) -> Member | None:
        ctx: Context = info.context
        if not ctx.actor.is_member:
            return None
        return (await load_members(ctx, [ctx.actor.id]))[0]

    @strawberry.field(description="The signed-in staff member, or null for anonymous callers and members.")
    async def staff_me(self, info: strawberry.Info) -> Staff | None:
        ctx: Context = info.context
        if not ctx.actor.is_staff:
            return None
        return (await load_staff(ctx, [ctx.actor.id]))[0]

    @strawberry.field(
        description="Staff (`members.view`): members, oldest first, searchable by nickname or phone; null with an error for anyone else."
    )
    async def members(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        search: Annotated[str | None, strawberry.argument(description="Text found in the nickname or phone number.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Member] | None:
        ctx: Context = info.context
        ctx.require(VIEW)
        stmt = ctx.kernel.service("members").search(search)
        page = await fetch_page(await ctx.session(), stmt, models.Member.id, first, after, last=last, before=before)
        return connection(page, lambda row: member_node(row, ctx))


@strawberry.input(description="Exactly one of phone, memberId or staffId.")
class SignInForDevelopmentInput:
    phone: str | None = strawberry.field(default=None, description="Sign in as the member with this phone number, creating them if new.")
    member_id: strawberry.ID | None = strawberry.field(default=None, description="Sign in as this member: global id of a Member.")
    staff_id: strawberry.ID | None = strawberry.field(default=None, description="Sign in as this staff member: global id of a Staff.")


@strawberry.input(description="A third-party credential to sign in with.")
class SignInInput:
    provider: str = strawberry.field(description="The identity provider's name, e.g. `wechat`.")
    credential: str = strawberry.field(description="What the provider checks, e.g. a WeChat login code.")


@strawberry.type(description="The result of a sign-in: a token and who it signs in.")
class SignInPayload(Payload):
    token: str | None = strawberry.field(default=None, description="Send as `Authorization: Bearer <token>`; null when refused.")
    member: Member | None = strawberry.field(default=None, description="The member signed in, as they see themself; null for staff or when refused.")
    staff: Staff | None = strawberry.field(default=None, description="The staff member signed in; null for members or when refused.")


def _actor_result(actor: Actor) -> dict:
    # run_mutation wants a JSON-able result; the actor is rebuilt from it after commit.
    return {"kind": actor.kind, "id": actor.id, "roles": sorted(actor.roles), "stores": sorted(actor.store_ids)}


async def _signed_in(ctx: Context, result: dict) -> SignInPayload:
    actor = Actor(result["kind"], result["id"], frozenset(result["roles"]), frozenset(result["stores"]))
    token = ctx.kernel.issue_token(actor)
    # The payload shows the new identity as that identity sees itself (own phone in full),
    # not as the anonymous caller would.
    signed = Context(ctx.kernel, actor)
    try:
        if actor.is_member:
            return SignInPayload(token=token, member=(await load_members(signed, [actor.id]))[0])
        return SignInPayload(token=token, staff=(await load_staff(signed, [actor.id]))[0])
    finally:
        await signed.close()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Development only (`auth.dev_sign_in`, never in production): sign in by phone (creating the member), member id or staff id."
    )
    async def sign_in_for_development(
        self,
        info: strawberry.Info,
        input: Annotated[SignInForDevelopmentInput, strawberry.argument(description="Exactly one way to sign in.")],  # noqa: A002
    ) -> SignInPayload:
        ctx: Context = info.context
        service = ctx.kernel.service("members")

        async def work(tx):  # noqa: ANN001, ANN202
            # Ids are decoded inside the transaction so a malformed one is a user error too.
            actor = await service.dev_sign_in(
                tx,
                phone=input.phone,
                member_id=decode_id(input.member_id, "Member", field="input.memberId") if input.member_id else None,
                staff_id=decode_id(input.staff_id, "Staff", field="input.staffId") if input.staff_id else None,
            )
            return _actor_result(actor)

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SignInPayload(user_errors=errors)
        return await _signed_in(ctx, result)

    @strawberry.mutation(
        description="Sign in with a third-party credential (e.g. a WeChat login code) checked by the identity provider component named `provider`."
    )
    async def sign_in(
        self,
        info: strawberry.Info,
        input: Annotated[SignInInput, strawberry.argument(description="The provider and its credential.")],  # noqa: A002
    ) -> SignInPayload:
        ctx: Context = info.context
        service = ctx.kernel.service("members")
        try:
            verified = await service.verify(input.provider, input.credential)
        except DomainError as error:
            ctx.kernel.check_error_code(error.code)
            return SignInPayload(user_errors=[user_error(error)])

        async def work(tx):  # noqa: ANN001, ANN202
            return _actor_result(await service.sign_in(tx, provider=input.provider, credential=verified))

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SignInPayload(user_errors=errors)
        return await _signed_in(ctx, result)
