"""member_tags' hook implementations: registrations only; the rules are in service.py."""

from components.member_tags import MANAGE, VIEW, demo, graphql, models
from components.member_tags.service import RECOMPUTE_JOB, MemberTagsService
from core.hookspecs import hookimpl

ERROR_CODES = {
    "MEMBER_TAGS_UNKNOWN_TAG": "No tag of this brand has that id.",
    "MEMBER_TAGS_NOT_MANUAL": "Rule and channel tags follow their rule or channel; staff set and delete manual tags only.",
    "MEMBER_TAGS_INVALID_NAME": "A tag's name is empty or longer than 40 characters (or its description longer than 200).",
    "MEMBER_TAGS_NAME_TAKEN": "Another tag of the brand has that name.",
    "MEMBER_TAGS_TOO_MANY_MEMBERS": "A call names no member, or more than 500.",
    "MEMBER_TAGS_UNKNOWN_MEMBER": "A member id names no member of this brand; field names which.",
}


@hookimpl
def dougong_tables(registrar):
    for model in (models.Purchase, models.Profile, models.Tag, models.MemberTag, models.Baseline):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("member_tags", MemberTagsService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql.Mutation)
    registrar.node(graphql.MemberProfile, graphql.load_profiles)
    registrar.node(graphql.MemberTag, graphql.load_tags)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(VIEW, "See members' order figures, RFM segments, lifecycle stages and tags", roles=("admin",))
    registrar.permission(MANAGE, "Make and delete manual member tags and tag members", roles=("admin",))


@hookimpl
def dougong_error_codes(registrar):
    for code, text in ERROR_CODES.items():
        registrar.error_code(code, text)


@hookimpl
def dougong_events(registrar):
    ids = "list[int]: the members (at most 1,000 per event; a recompute sends one event per change per 1,000)"
    registrar.event(
        "member_tags.stage_changed",
        "Members moved from one lifecycle stage to another",
        payload={"memberIds": ids, "fromStage": "str: prospect, new, repeat, dormant or churned", "toStage": "str"},
    )
    registrar.event(
        "member_tags.segment_changed",
        "Members moved from one RFM segment to another",
        payload={"memberIds": ids, "fromSegment": "str | None: e.g. important_value", "toSegment": "str | None"},
    )
    registrar.event(
        "member_tags.tagged",
        "Members gained a tag (from staff, a rule or their channel)",
        payload={"tagId": "int", "memberIds": ids, "source": "str: staff, rule or channel"},
    )
    registrar.event(
        "member_tags.untagged",
        "Members lost a tag (staff took it, or they stopped meeting its rule)",
        payload={"tagId": "int", "memberIds": ids, "source": "str: staff or rule"},
    )


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("member_tags")
    # After commit, idempotent: purchases are keyed by order, refunds set the order's running
    # total, tags are inserted ignoring duplicates.
    registrar.on("member.registered", service.on_member_registered)
    registrar.on("order.paid", service.on_order_paid)
    registrar.on("order.refunded", service.on_order_refunded)


@hookimpl
def dougong_jobs(registrar):
    service = registrar.kernel.service("member_tags")
    registrar.every(RECOMPUTE_JOB, service.settings["recompute_every"], service.recompute)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    await demo.seed(kernel, tx)
