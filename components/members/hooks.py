"""members' hook implementations: registrations only; the rules are in service.py."""

from components.members import demo, graphql, models, share_code_graphql, staff_graphql, wechat_graphql
from components.members.authority import PeopleDirectory
from components.members.reach import MemberReach
from components.members.service import MembersService
from components.members.share_codes import ShareCodes
from components.members.staff_admin import SIGN_IN_CODE_PROVIDER, StaffAdmin, StaffCodeSignIn
from components.members.wechat import PROVIDER as WECHAT
from components.members.wechat import WeChatMiniProgram
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    registrar.table(models.Member)
    registrar.table(models.Staff)


@hookimpl
def dougong_services(registrar):
    service = MembersService(registrar.kernel)
    service.wechat = WeChatMiniProgram.configured(registrar.settings)
    registrar.service("members", service)
    registrar.service("members.staff_admin", StaffAdmin(registrar.kernel))
    registrar.service("members.share_codes", ShareCodes(registrar.kernel))
    registrar.service("members.reach", MemberReach())


@hookimpl
def dougong_authority(kernel):
    return PeopleDirectory()


@hookimpl
def dougong_identity_provider(kernel, provider):
    if provider == SIGN_IN_CODE_PROVIDER:
        return StaffCodeSignIn()
    if provider == WECHAT:
        return kernel.service("members").wechat  # None (no such provider) unless configured
    return None


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql.Mutation)
    registrar.query(staff_graphql.Query)
    registrar.mutation(staff_graphql.Mutation)
    registrar.mutation(wechat_graphql.Mutation)
    registrar.query(share_code_graphql.Query)
    registrar.node(graphql.Member, graphql.load_members)
    registrar.node(graphql.Staff, graphql.load_staff)


@hookimpl
def dougong_dataloaders(registrar):
    # Other components (orders' `member` field for staff) batch member look-ups through this;
    # it applies the same visibility as node(id).
    registrar.dataloader("members.members", graphql.load_members)
    registrar.dataloader("members.staff", graphql.load_staff)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.VIEW, "List members and see their (masked) phone numbers", roles=("admin",))
    registrar.permission(staff_graphql.MANAGE, "Invite staff, set their roles and stores, deactivate them", roles=("admin",))


@hookimpl
def dougong_error_codes(registrar):
    registrar.error_code("MEMBERS_SIGN_IN_DISABLED", "Development sign-in is turned off for this brand.")
    registrar.error_code("MEMBERS_UNKNOWN_PROVIDER", "No identity provider with that name is installed.")
    registrar.error_code("MEMBERS_SIGN_IN_REJECTED", "The identity provider refused the credential.")
    registrar.error_code("MEMBERS_INVALID_PHONE", "A phone number is malformed.")
    registrar.error_code("MEMBERS_INVALID_NICKNAME", "A nickname is too long.")
    registrar.error_code("MEMBERS_INVALID_ROLE", "A staff role is unknown.")
    registrar.error_code("MEMBERS_INVALID_STORES", "Store ids are malformed, or a store clerk has none.")
    registrar.error_code("MEMBERS_PHONE_TAKEN", "Another member already has that phone number.")
    registrar.error_code("MEMBERS_OPEN_ID_TAKEN", "Another member already has that open id.")
    registrar.error_code("MEMBERS_UNKNOWN_GUIDE", "The registration names a guide who is not staff.")
    registrar.error_code("MEMBERS_UNKNOWN_STORE", "A store id names no pickup store of this brand.")
    registrar.error_code("MEMBERS_LAST_ADMIN", "The change would leave the brand without an active admin.")
    registrar.error_code("MEMBERS_STAFF_INACTIVE", "The staff member is deactivated.")
    registrar.error_code("MEMBERS_WECHAT_REJECTED", "WeChat refused the code (used, expired or from another app).")
    registrar.error_code("MEMBERS_INVALID_SHARE_CODE", "The share code was not issued by this brand (malformed, forged or tampered with).")
    registrar.error_code("MEMBERS_UNPROVEN_SHARER", "A sharer was named without their share code.")
    registrar.error_code("MEMBERS_NOT_A_GUIDE", "The guide is not active staff with the guide role.")
    registrar.error_code("MEMBERS_WECHAT_UNAVAILABLE", "WeChat could not be reached or failed; nothing changed, retry shortly.")


@hookimpl
async def dougong_seed_demo(kernel, tx):
    await demo.seed(kernel, tx)


@hookimpl
def dougong_events(registrar):
    registrar.event(
        "member.registered",
        "A new member signed up",
        payload={"memberId": "int", "channel": "str | None", "guideId": "int | None", "storeId": "int | None"},
    )
