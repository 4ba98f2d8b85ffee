from registry.manifest import Manifest

manifest = Manifest(
    name="members",
    version="1.0.0",
    summary="Members (customers) and staff with roles; development sign-in and identity-provider hook",
    titles={"zh": "会员", "en": "Members"},
    summaries={"zh": "会员与带角色的员工；开发登录与身份提供方接口", "en": "Members (customers) and staff with roles; development sign-in and an identity-provider hook"},
    hooks="components.members.hooks",
    kernel=">=0.1,<1",
    settings_schema={"type": "object", "additionalProperties": False, "properties": {}},
)
