"""Staff administration in GraphQL (permission ``members.manage_staff``, admins).

``staffMembers`` lists them; ``inviteStaff`` creates one and answers a one-time sign-in code
for the new colleague (``signIn(input: {provider: "staff_code", credential: code})``);
``setStaffRoles``, ``deactivateStaff``, ``reactivateStaff`` and ``renewStaffSignInCode``
change them. Thin: the rules are in :mod:`components.members.staff_admin`.
"""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from components.members import models
from components.members.graphql import Staff, load_staff, staff_node
from core.gql import Connection, Context, Payload, connection, decode_id, fetch_page, run_mutation

MANAGE = "members.manage_staff"


def _stores(ids: list[strawberry.ID] | None) -> list[int]:
    return [decode_id(i, "PickupStore", field="input.storeIds") for i in ids or []]


@strawberry.input
class InviteStaffInput:
    name: str
    roles: list[str] = strawberry.field(description="`admin`, `store_clerk`, `live_host` or a role a component declares.")
    store_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="PickupStore ids; required for store clerks.")
    phone: str | None = None


@strawberry.input
class SetStaffRolesInput:
    staff_id: strawberry.ID
    roles: list[str]
    store_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Replaces the stores; PickupStore ids.")


@strawberry.input
class StaffIdInput:
    staff_id: strawberry.ID


@strawberry.type
class InviteStaffPayload(Payload):
    staff: Staff | None = None
    sign_in_code: str | None = strawberry.field(
        default=None, description="One-time, valid 24 hours: hand it to the new colleague, who signs in with provider `staff_code`. Shown only here."
    )


@strawberry.type
class RenewStaffSignInCodePayload(Payload):
    staff: Staff | None = None
    sign_in_code: str | None = None


@strawberry.type
class StaffPayload(Payload):
    staff: Staff | None = None


async def _staff(ctx: Context, staff_id: int) -> Staff | None:
    return (await load_staff(ctx, [staff_id]))[0]


async def _change(info: strawberry.Info, staff_id: strawberry.ID, change) -> StaffPayload:  # noqa: ANN001
    ctx: Context = info.context
    admin = ctx.kernel.service("members.staff_admin")

    async def work(tx):  # noqa: ANN001, ANN202
        ctx.require(MANAGE)  # inside: a refusal is a userError, like every mutation's
        pk = decode_id(staff_id, "Staff", field="input.staffId")
        await change(admin, tx, pk)
        return {"staff": pk}

    result, errors = await run_mutation(ctx, work)
    if errors:
        return StaffPayload(user_errors=errors)
    return StaffPayload(staff=await _staff(ctx, result["staff"]))


async def _with_code(info: strawberry.Info, payload: type, produce) -> Any:  # noqa: ANN001
    """inviteStaff and renewStaffSignInCode: a change that answers a staff member and their code."""
    ctx: Context = info.context
    admin = ctx.kernel.service("members.staff_admin")

    async def work(tx):  # noqa: ANN001, ANN202
        ctx.require(MANAGE)
        pk, code = await produce(admin, tx)
        return {"staff": pk, "code": code}

    result, errors = await run_mutation(ctx, work)
    if errors:
        return payload(user_errors=errors)
    return payload(staff=await _staff(ctx, result["staff"]), sign_in_code=result["code"])


@strawberry.type
class Query:
    @strawberry.field(description="Staff (`members.manage_staff`): everyone employed, oldest first.")
    async def staff_members(
        self,
        info: strawberry.Info,
        first: int | None = 20,
        after: str | None = None,
        include_inactive: bool = False,
    ) -> Connection[Staff]:
        ctx: Context = info.context
        ctx.require(MANAGE)
        stmt = select(models.Staff)
        if not include_inactive:
            stmt = stmt.where(models.Staff.active.is_(True))
        page = await fetch_page(await ctx.session(), stmt, models.Staff.id, first, after)
        return connection(page, staff_node)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admins: add a staff member; answers their one-time sign-in code.")
    async def invite_staff(self, info: strawberry.Info, input: InviteStaffInput) -> InviteStaffPayload:  # noqa: A002
        def produce(admin, tx):  # noqa: ANN001, ANN202
            return admin.invite(tx, name=input.name, roles=input.roles, store_ids=_stores(input.store_ids), phone=input.phone)

        return await _with_code(info, InviteStaffPayload, produce)

    @strawberry.mutation(description="Admins: replace a staff member's roles and stores; takes effect on their next request.")
    async def set_staff_roles(self, info: strawberry.Info, input: SetStaffRolesInput) -> StaffPayload:  # noqa: A002
        stores = input.store_ids

        async def change(admin, tx, pk):  # noqa: ANN001, ANN202
            await admin.set_roles(tx, pk, roles=input.roles, store_ids=_stores(stores))

        return await _change(info, input.staff_id, change)

    @strawberry.mutation(description="Admins: stop a staff member; their tokens and open subscriptions end at once.")
    async def deactivate_staff(self, info: strawberry.Info, input: StaffIdInput) -> StaffPayload:  # noqa: A002
        return await _change(info, input.staff_id, lambda admin, tx, pk: admin.set_active(tx, pk, False))

    @strawberry.mutation(description="Admins: let a deactivated staff member work again; their unexpired tokens work again too.")
    async def reactivate_staff(self, info: strawberry.Info, input: StaffIdInput) -> StaffPayload:  # noqa: A002
        return await _change(info, input.staff_id, lambda admin, tx, pk: admin.set_active(tx, pk, True))

    @strawberry.mutation(description="Admins: a fresh one-time sign-in code for a staff member (the previous one stops working).")
    async def renew_staff_sign_in_code(self, info: strawberry.Info, input: StaffIdInput) -> RenewStaffSignInCodePayload:  # noqa: A002
        async def produce(admin, tx):  # noqa: ANN001, ANN202
            pk = decode_id(input.staff_id, "Staff", field="input.staffId")
            return pk, await admin.renew_sign_in_code(tx, pk)

        return await _with_code(info, RenewStaffSignInCodePayload, produce)
