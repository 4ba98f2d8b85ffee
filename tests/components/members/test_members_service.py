"""The members service as other components call it: registration with its source, staff with
roles and stores, validation that changes nothing, and the demo people."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from components.members.models import Member, Staff
from core.auth import Actor
from core.errors import DomainError

BRAND = ("dougong: 1\nbrand: {slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}\n"
         "components:\n  members: {}\n")


async def count(kernel, model) -> int:  # noqa: ANN001
    async with kernel.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def refused(kernel, code: str, work) -> DomainError:  # noqa: ANN001
    """Run ``work(tx, service)`` in a transaction that must fail with ``code``."""
    with pytest.raises(DomainError) as caught:
        async with kernel.transaction() as tx:
            await work(tx, kernel.service("members"))
    assert caught.value.code == code, caught.value
    return caught.value


async def test_registration_keeps_its_source_and_announces_the_member(kernel_factory, clock):
    kernel = await kernel_factory(BRAND)
    service = kernel.service("members")
    async with kernel.transaction() as tx:
        guide = await service.create_staff(tx, name="导购 Zhou", roles=("store_clerk",), store_ids=(7, 7, 3))
        member_id = await service.create_member(
            tx, phone="13900000001", nickname=" 小雨 ", source_channel="guide_share", source_guide_id=guide, source_store_id=7,
        )
    async with kernel.db.read() as session:
        row = await service.member(session, member_id)
        clerk = await service.staff(session, guide)
        assert (row.phone, row.nickname, row.source_channel, row.source_guide_id, row.source_store_id) == (
            "13900000001", "小雨", "guide_share", guide, 7)
        assert row.open_id is None
        assert row.created_at.replace(tzinfo=None) == clock.now().replace(tzinfo=None)
        assert (clerk.roles, clerk.store_ids) == (["store_clerk"], [3, 7])  # deduplicated, sorted
        assert await service.staff_actor(session, guide) == Actor("staff", guide, frozenset({"store_clerk"}), frozenset({3, 7}))
        assert (await service.member_by_phone(session, "139-0000-0001")).id == member_id


async def test_member_registered_event_is_emitted_after_commit(kernel_factory, make_component):
    listener = make_component("registration_log", depends={"members": ""}, hooks="""
        from core.hookspecs import hookimpl

        HEARD = []

        @hookimpl
        def dougong_event_handlers(registrar):
            async def remember(kernel, event):
                HEARD.append(event.payload)
            registrar.on("member.registered", remember)
    """)
    import importlib

    kernel = await kernel_factory(BRAND + "  registration_log: {}\n", installed=[listener])
    async with kernel.transaction() as tx:
        await kernel.service("members").create_member(tx, open_id="o-1", source_channel="live_room", source_store_id=2)
    # Delivered when the transaction committed: no worker tick needed.
    heard = importlib.import_module(listener.manifest.hooks).HEARD
    assert heard == [{"memberId": 1, "channel": "live_room", "guideId": None, "storeId": 2}]


async def test_bad_registrations_change_nothing(kernel_factory):
    kernel = await kernel_factory(BRAND)
    async with kernel.transaction() as tx:
        await kernel.service("members").create_member(tx, phone="13900000001", open_id="o-1")

    cases = [
        ("MEMBERS_INVALID_PHONE", dict(phone="12ab")),
        ("MEMBERS_INVALID_NICKNAME", dict(nickname="长" * 51)),
        ("MEMBERS_PHONE_TAKEN", dict(phone="139 0000 0001")),
        ("MEMBERS_OPEN_ID_TAKEN", dict(open_id="o-1")),
        ("MEMBERS_UNKNOWN_GUIDE", dict(phone="13900000002", source_guide_id=42)),
        ("KERNEL_INVALID_INPUT", dict(phone="13900000002", source_store_id=0)),
        ("KERNEL_INVALID_INPUT", dict(phone="13900000002", source_channel="x" * 51)),
    ]
    for code, kwargs in cases:
        async def work(tx, service, kwargs=kwargs):  # noqa: ANN001, ANN202
            await service.create_member(tx, **kwargs)

        await refused(kernel, code, work)
    assert await count(kernel, Member) == 1


async def test_staff_need_known_roles_and_clerks_need_stores(kernel_factory):
    kernel = await kernel_factory(BRAND)
    cases = [
        ("MEMBERS_INVALID_ROLE", dict(name="a", roles=())),
        ("MEMBERS_INVALID_ROLE", dict(name="a", roles=("owner",))),
        ("MEMBERS_INVALID_STORES", dict(name="a", roles=("store_clerk",))),
        ("MEMBERS_INVALID_STORES", dict(name="a", roles=("store_clerk",), store_ids=(0,))),
        ("KERNEL_INVALID_INPUT", dict(name=" ", roles=("admin",))),
    ]
    for code, kwargs in cases:
        async def work(tx, service, kwargs=kwargs):  # noqa: ANN001, ANN202
            await service.create_staff(tx, **kwargs)

        await refused(kernel, code, work)
    assert await count(kernel, Staff) == 0
    async with kernel.transaction() as tx:
        both = await kernel.service("members").create_staff(tx, name="店长兼主播", roles=("live_host", "admin"))
    async with kernel.db.read() as session:
        assert (await kernel.service("members").staff_actor(session, both)).roles == frozenset({"admin", "live_host"})


async def test_demo_people_have_predictable_ids(kernel_factory):
    kernel = await kernel_factory(BRAND, seed_demo=True)
    service = kernel.service("members")
    async with kernel.db.read() as session:
        actors = [await service.staff_actor(session, i) for i in (1, 2, 3, 4)]
        members = [await service.member(session, i) for i in range(1, 6)]
    assert actors == [
        Actor("staff", 1, frozenset({"admin"})),
        Actor("staff", 2, frozenset({"store_clerk"}), frozenset({1})),
        Actor("staff", 3, frozenset({"store_clerk"}), frozenset({2})),
        Actor("staff", 4, frozenset({"live_host"})),
    ]
    assert [m.phone for m in members] == [f"1380000000{i}" for i in range(1, 6)]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m.nickname) for m in members)  # Chinese nicknames
    assert (members[2].source_guide_id, members[2].source_store_id) == (2, 1)
