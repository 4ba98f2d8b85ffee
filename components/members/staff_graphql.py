"""Staff administration in GraphQL (permission ``members.manage_staff``, admins).

``staffMembers`` lists them; ``inviteStaff`` creates one and answers a one-time sign-in code
for the new colleague (``signIn(input: {provider: "staff_code", credential: code})``);
``setStaffRoles``, ``deactivateStaff``, ``reactivateStaff`` and ``renewStaffSignInCode``
change them. Thin: the rules are in :mod:`components.members.staff_admin`.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from components.members import models
from components.members.graphql import Staff, load_staff, staff_node
from core.errors import refuse_both
from core.gql import Connection, Context, Payload, connection, decode_id, fetch_page, run_mutation
from core.gql.relay import After, Before, First, Last

MANAGE = "members.manage_staff"


_OLD_STORES = "Use pickupStoreIds; removed in the next release."
_ROLES = "Role names: `admin`, `store_clerk`, `live_host` or a role a component declares (the list is open, so these are strings)."
INPUT = "The mutation's input."


def _stores(new: list[strawberry.ID] | None, old: list[strawberry.ID] | None) -> tuple[list[int], str]:
    """The store keys from either form (both are PickupStore global ids), and the field errors name."""
    refuse_both(new, old, new_name="pickupStoreIds", old_name="storeIds", field="input.pickupStoreIds")
    field = "input.storeIds" if old is not None else "input.pickupStoreIds"
    return [decode_id(i, "PickupStore", field=field) for i in (old if old is not None else new) or []], field


@strawberry.input(description="A new staff member (admins).")
class InviteStaffInput:
    name: str = strawberry.field(description="Their name as colleagues know it, 1 to 50 characters.")
    roles: list[str] = strawberry.field(description=_ROLES)
    pickup_store_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Global ids of the PickupStores they work at; required for store clerks."
    )
    store_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Global ids of PickupStores.", deprecation_reason=_OLD_STORES)
    phone: str | None = strawberry.field(default=None, description="Their mobile number (6 to 15 digits); unique among staff.")


@strawberry.input(description="New roles and stores for a staff member, replacing the old ones.")
class SetStaffRolesInput:
    staff_id: strawberry.ID = strawberry.field(description="Global id of the Staff member.")
    roles: list[str] = strawberry.field(description=_ROLES)
    pickup_store_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Global ids of the PickupStores they work at, replacing the old list; required for store clerks."
    )
    store_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Global ids of PickupStores.", deprecation_reason=_OLD_STORES)


@strawberry.input(description="Names one staff member.")
class StaffIdInput:
    staff_id: strawberry.ID = strawberry.field(description="Global id of the Staff member.")


@strawberry.type(description="The result of inviteStaff.")
class InviteStaffPayload(Payload):
    staff: Staff | None = strawberry.field(default=None, description="The new staff member; null when refused.")
    sign_in_code: str | None = strawberry.field(
        default=None, description="One-time, valid 24 hours: hand it to the new colleague, who signs in with provider `staff_code`. Shown only here."
    )


@strawberry.type(description="The result of renewStaffSignInCode.")
class RenewStaffSignInCodePayload(Payload):
    staff: Staff | None = strawberry.field(default=None, description="The staff member; null when refused.")
    sign_in_code: str | None = strawberry.field(
        default=None, description="The new one-time code, valid 24 hours (the previous one no longer works); shown only here."
    )


@strawberry.type(description="The result of a change to a staff member.")
class StaffPayload(Payload):
    staff: Staff | None = strawberry.field(default=None, description="The staff member as they are now; null when refused.")


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
    @strawberry.field(description="Staff (`members.manage_staff`): everyone employed, oldest first; null with an error for anyone else.")
    async def staff_members(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        include_inactive: Annotated[bool, strawberry.argument(description="Also list deactivated staff.")] = False,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Staff] | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        stmt = select(models.Staff)
        if not include_inactive:
            stmt = stmt.where(models.Staff.active.is_(True))
        page = await fetch_page(await ctx.session(), stmt, models.Staff.id, first, after, last=last, before=before)
        return connection(page, staff_node)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admins: add a staff member; answers their one-time sign-in code.")
    async def invite_staff(
        self,
        info: strawberry.Info,
        input: Annotated[InviteStaffInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> InviteStaffPayload:
        def produce(admin, tx):  # noqa: ANN001, ANN202
            stores, field = _stores(input.pickup_store_ids, input.store_ids)
            return admin.invite(tx, name=input.name, roles=input.roles, store_ids=stores, phone=input.phone, stores_field=field)

        return await _with_code(info, InviteStaffPayload, produce)

    @strawberry.mutation(description="Admins: replace a staff member's roles and stores; takes effect on their next request.")
    async def set_staff_roles(
        self,
        info: strawberry.Info,
        input: Annotated[SetStaffRolesInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> StaffPayload:
        async def change(admin, tx, pk):  # noqa: ANN001, ANN202
            stores, field = _stores(input.pickup_store_ids, input.store_ids)
            await admin.set_roles(tx, pk, roles=input.roles, store_ids=stores, stores_field=field)

        return await _change(info, input.staff_id, change)

    @strawberry.mutation(description="Admins: stop a staff member; their tokens and open subscriptions end at once.")
    async def deactivate_staff(
        self,
        info: strawberry.Info,
        input: Annotated[StaffIdInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> StaffPayload:
        return await _change(info, input.staff_id, lambda admin, tx, pk: admin.set_active(tx, pk, False))

    @strawberry.mutation(description="Admins: let a deactivated staff member work again; their unexpired tokens work again too.")
    async def reactivate_staff(
        self,
        info: strawberry.Info,
        input: Annotated[StaffIdInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> StaffPayload:
        return await _change(info, input.staff_id, lambda admin, tx, pk: admin.set_active(tx, pk, True))

    @strawberry.mutation(description="Admins: a fresh one-time sign-in code for a staff member (the previous one stops working).")
    async def renew_staff_sign_in_code(
        self,
        info: strawberry.Info,
        input: Annotated[StaffIdInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> RenewStaffSignInCodePayload:
        async def produce(admin, tx):  # noqa: ANN001, ANN202
            pk = decode_id(input.staff_id, "Staff", field="input.staffId")
            return pk, await admin.renew_sign_in_code(tx, pk)

        return await _with_code(info, RenewStaffSignInCodePayload, produce)
