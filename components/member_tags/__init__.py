from components.member_tags.settings import SCHEMA
from registry.manifest import Manifest

VIEW = "member_tags.view"
MANAGE = "member_tags.manage"

manifest = Manifest(
    name="member_tags",
    version="1.0.0",
    summary="Member tags (staff, rules, channels), RFM segments and lifecycle stages, kept from order events",
    titles={"zh": "会员标签与分群", "en": "Member tags and segments"},
    summaries={
        "zh": "会员标签（人工、规则、渠道）、RFM 分群与生命周期阶段，由订单事件增量维护并定时重算",
        "en": "Member tags (staff, rules, channels), RFM segments and lifecycle stages, kept from order events and recomputed on a schedule",
    },
    hooks="components.member_tags.hooks",
    kernel=">=0.1,<1",
    depends={"members": ">=1.0,<2", "orders": ">=1.0,<2"},
    # Staff only: a member never sees how the brand labels them (README).
    access={
        "memberProfiles": VIEW,
        "memberProfile": VIEW,
        "memberTags": VIEW,
        "memberTag": VIEW,
        "createMemberTag": MANAGE,
        "deleteMemberTag": MANAGE,
        "tagMembers": MANAGE,
        "untagMembers": MANAGE,
    },
    moves={},
    settings_schema=SCHEMA,
)
