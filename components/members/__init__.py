from components.members.settings import SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="members",
    version="1.0.0",
    summary="Members (customers) and staff with roles, staff administration; development, WeChat mini-program and one-time staff-code sign-in",
    titles={"zh": "会员", "en": "Members"},
    summaries={
        "zh": "会员与带角色的员工、员工管理；开发登录、微信小程序登录与员工一次性验证码登录",
        "en": "Members (customers) and staff with roles, staff administration; development, WeChat mini-program and one-time staff-code sign-in",
    },
    hooks="components.members.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "bindWeChatPhone": "member",
        "deactivateStaff": "members.manage_staff",
        "inviteStaff": "members.manage_staff",
        "me": "public",
        "members": "members.view",
        "reactivateStaff": "members.manage_staff",
        "renewStaffSignInCode": "members.manage_staff",
        "setStaffRoles": "members.manage_staff",
        "signIn": "public",
        "signInForDevelopment": "public",
        "staffMe": "public",
        "staffMembers": "members.manage_staff",
        "myShareCode": "public",
        "guideShareCode": "members.manage_staff",
    },
    settings_schema=SCHEMA,
)
