"""Members' GraphQL: me, staffMe, members (staff), and the sign-in mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy import or_, select

from components.members import models
from components.members.service import mask_phone
from core.auth import Actor
from core.clock import as_utc
from core.errors import DomainError
from core.gql import Connection, Context, Node, Payload, connection, decode_id, fetch_page, run_mutation

VIEW = "members.view"


@strawberry.type(description="A customer of the brand.")
class Member(Node):
    nickname: str
    phone: str | None = strawberry.field(description="Full for the member themself; masked for staff.")
    source_channel: str | None
    created_at: datetime


@strawberry.type(description="An employee: admin, store clerk or live host.")
class Staff(Node):
    name: str
    roles: list[str]
    store_ids: list[int]


def member_node(row: models.Member, ctx: Context) -> Member:
    own = ctx.actor.is_member and ctx.actor.id == row.id
    return Member(pk=row.id, nickname=row.nickname, phone=row.phone if own else mask_phone(row.phone),
                  source_channel=row.source_channel, created_at=as_utc(row.created_at))


def staff_node(row: models.Staff) -> Staff:
    return Staff(pk=row.id, name=row.name, roles=list(row.roles or []), store_ids=[int(s) for s in row.store_ids or []])


async def load_members(ctx: Context, keys: list[int]) -> list[Member | None]:
    """A member is visible to themself and to staff who may view members; to nobody else."""
    staff_view = ctx.actor.is_staff and ctx.can(VIEW)
    visible = [k for k in keys if staff_view or (ctx.actor.is_member and ctx.actor.id == k)]
    if not visible:
        return [None for _ in keys]
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Member).where(models.Member.id.in_(visible)))).all()}
    return [member_node(rows[k], ctx) if k in rows else None for k in keys]


async def load_staff(ctx: Context, keys: list[int]) -> list[Staff | None]:
    if not ctx.actor.is_staff:
        return [None for _ in keys]
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Staff).where(models.Staff.id.in_(keys)))).all()}
    return [staff_node(rows[k]) if k in rows else None for k in keys]


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member, or null.")
    async def me(self, info: strawberry.Info) -> Member | None:
        ctx: Context = info.context
        if not ctx.actor.is_member:
            return None
        return (await load_members(ctx, [ctx.actor.id]))[0]

    @strawberry.field(description="The signed-in staff member, or null.")
    async def staff_me(self, info: strawberry.Info) -> Staff | None:
        ctx: Context = info.context
        if not ctx.actor.is_staff:
            return None
        return (await load_staff(ctx, [ctx.actor.id]))[0]

    @strawberry.field(description="Staff: members, newest last, searchable by nickname or phone.")
    async def members(self, info: strawberry.Info, first: int | None = 20, after: str | None = None, search: str | None = None) -> Connection[Member]:
        ctx: Context = info.context
        ctx.require(VIEW)
        stmt = select(models.Member)
        if search:
            needle = f"%{search.strip()[:50]}%"
            stmt = stmt.where(or_(models.Member.nickname.ilike(needle), models.Member.phone.ilike(needle)))
        page = await fetch_page(await ctx.session(), stmt, models.Member.id, first, after)
        return connection(page, lambda row: member_node(row, ctx))


@strawberry.input
class SignInForDevelopmentInput:
    phone: str | None = None
    member_id: strawberry.ID | None = None
    staff_id: strawberry.ID | None = None


@strawberry.input
class SignInInput:
    provider: str
    credential: str


@strawberry.type
class SignInPayload(Payload):
    token: str | None = None
    member: Member | None = None
    staff: Staff | None = None


async def _signed_in(ctx: Context, actor: Actor) -> SignInPayload:
    token = ctx.kernel.issue_token(actor)
    signed = Context(ctx.kernel, actor)
    try:
        if actor.is_member:
            return SignInPayload(token=token, member=(await load_members(signed, [actor.id]))[0])
        return SignInPayload(token=token, staff=(await load_staff(signed, [actor.id]))[0])
    finally:
        await signed.close()


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Development only: sign in by phone (creating the member), member id or staff id.")
    async def sign_in_for_development(self, info: strawberry.Info, input: SignInForDevelopmentInput) -> SignInPayload:  # noqa: A002
        ctx: Context = info.context
        kernel = ctx.kernel
        service = kernel.service("members")

        async def work(tx):  # noqa: ANN001, ANN202
            if not kernel.blueprint.auth.dev_sign_in or kernel.blueprint.production:
                raise DomainError("MEMBERS_SIGN_IN_DISABLED", "Development sign-in is off for this brand.")
            given = [x for x in (input.phone, input.member_id, input.staff_id) if x]
            if len(given) != 1:
                raise DomainError("KERNEL_INVALID_INPUT", "Give exactly one of phone, memberId or staffId.", field="input")
            if input.staff_id:
                actor = await service.staff_actor(tx.session, decode_id(input.staff_id, "Staff", field="input.staffId"))
                if actor is None:
                    raise DomainError("KERNEL_NOT_FOUND", "No active staff with that id.", field="input.staffId")
                return {"kind": "staff", "id": actor.id}
            if input.member_id:
                member_id = decode_id(input.member_id, "Member", field="input.memberId")
                if await service.member(tx.session, member_id) is None:
                    raise DomainError("KERNEL_NOT_FOUND", "No member with that id.", field="input.memberId")
                return {"kind": "member", "id": member_id}
            found = await service.member_by_phone(tx.session, input.phone.strip())
            member_id = found.id if found else await service.create_member(tx, phone=input.phone.strip(), source_channel="dev_sign_in")
            return {"kind": "member", "id": member_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SignInPayload(user_errors=errors)
        if result["kind"] == "staff":
            async with kernel.db.read() as session:
                actor = await service.staff_actor(session, result["id"])
        else:
            actor = Actor("member", result["id"])
        return await _signed_in(ctx, actor)

    @strawberry.mutation(description="Sign in with a third-party credential (e.g. a WeChat login code).")
    async def sign_in(self, info: strawberry.Info, input: SignInInput) -> SignInPayload:  # noqa: A002
        ctx: Context = info.context
        kernel = ctx.kernel
        provider = kernel.pm.hook.dougong_identity_provider(kernel=kernel, provider=input.provider)

        async def work(tx):  # noqa: ANN001, ANN202
            if provider is None:
                raise DomainError("MEMBERS_UNKNOWN_PROVIDER", f"No identity provider named {input.provider!r} is installed.", field="input.provider")
            actor = await provider.authenticate(tx, input.credential)
            if actor is None or actor.kind == "anonymous" or actor.id is None:
                raise DomainError("MEMBERS_SIGN_IN_REJECTED", "The credential was not accepted.", field="input.credential")
            return {"kind": actor.kind, "id": actor.id, "roles": sorted(actor.roles), "stores": sorted(actor.store_ids)}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SignInPayload(user_errors=errors)
        actor = Actor(result["kind"], result["id"], frozenset(result["roles"]), frozenset(result["stores"]))
        return await _signed_in(ctx, actor)
