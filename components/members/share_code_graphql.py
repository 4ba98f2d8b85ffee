"""Share codes in GraphQL: ``myShareCode`` for the signed-in member or guide, and
``guideShareCode`` for staff who print a guide's poster. Thin: the rules are in
:mod:`components.members.share_codes`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from components.members.staff_graphql import MANAGE
from core.gql import Context, decode_id


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in member's share code (一人一码), or a guide's own (staff with the `guide` "
        "role); null for anonymous callers and other staff. Embed it in share links and QR codes "
        "and send it back as `source.shareCode` on orders or `shareCode` when joining a live room: the only way a "
        "sharer is credited."
    )
    async def my_share_code(self, info: strawberry.Info) -> str | None:
        ctx: Context = info.context
        codes = ctx.kernel.service("members.share_codes")
        session = await ctx.session()
        if ctx.actor.is_member:
            return await codes.issue_for_member(session, ctx.actor.id)
        if ctx.actor.is_staff and await codes.is_active_guide(session, ctx.actor.id):
            return await codes.issue_for_guide(session, ctx.actor.id)
        return None

    @strawberry.field(
        description="Staff (`members.manage_staff`): the share code of a guide, e.g. for a printed poster. "
        "MEMBERS_NOT_A_GUIDE unless the staff member is active with the `guide` role; null with an error when refused."
    )
    async def guide_share_code(
        self, info: strawberry.Info, staff_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the guide's Staff.")]
    ) -> str | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        staff = decode_id(staff_id, "Staff", field="staffId")
        return await ctx.kernel.service("members.share_codes").issue_for_guide(await ctx.session(), staff)
