"""Nearest stores: the grid prefilter answers exactly what a full scan answers; hours and radius."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
from store_pickup_helpers import BLUEPRINT, INSTALLED


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_prefilter_matches_full_scan_everywhere(kernel_factory, database):
    kernel = await kernel_factory(BLUEPRINT % "{}", installed=INSTALLED, database=database)
    service = kernel.service("store_pickup")
    rng = random.Random(7)
    async with kernel.transaction() as tx:
        # A dense city, a sparse province, and a few stores far away (and near the antimeridian).
        points = [(31.2 + rng.uniform(-0.1, 0.1), 121.45 + rng.uniform(-0.1, 0.1)) for _ in range(300)]
        points += [(rng.uniform(25, 35), rng.uniform(110, 120)) for _ in range(300)]
        points += [(-33.86, 151.2), (64.1, -21.9), (-17.7, 179.9), (-17.8, -179.9), (78.2, 15.6)]
        for i, (lat, lng) in enumerate(points):
            hours = {"mon": ["09:00-12:00"]} if i % 10 == 0 else {}
            await service.create_store(tx, name=f"s{i}", latitude=lat, longitude=lng, hours=hours,
                                       status="suspended" if i % 17 == 0 else "open")
    queries = [(31.2, 121.45), (30.0, 115.0), (-17.75, 179.95), (0.0, 0.0), (89.9, 0.0), (31.25, 121.5)]
    monday_evening = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)  # 20:00 in Shanghai: the morning-only stores are shut
    async with kernel.db.read() as session:
        for lat, lng in queries:
            for limit, radius, open_only in ((10, None, True), (5, 20_000.0, True), (50, None, False), (3, 300.0, True)):
                fast = await service.nearest(session, lat, lng, limit=limit, radius_m=radius, at=monday_evening, open_only=open_only)
                slow = await service.nearest(session, lat, lng, limit=limit, radius_m=radius, at=monday_evening,
                                             open_only=open_only, prefilter=False)
                assert [s.store.id for s in fast] == [s.store.id for s in slow], (lat, lng, limit, radius)
                assert all(s.store.status == "open" for s in fast)
                if radius is not None:
                    assert all(s.distance_m <= radius for s in fast)
        # The far Pacific query finds the stores either side of the antimeridian first.
        pacific = await service.nearest(session, -17.75, 179.95, limit=2, at=monday_evening)
        assert {s.store.name for s in pacific} == {f"s{len(points) - 3}", f"s{len(points) - 2}"}


async def test_hours_decide_who_serves_now(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT % "{}", installed=INSTALLED)
    service = kernel.service("store_pickup")
    async with kernel.transaction() as tx:
        await service.create_store(tx, name="day", latitude=31.0, longitude=121.0, hours={"mon": ["09:00-18:00"]})
        await service.create_store(tx, name="late", latitude=31.01, longitude=121.0, hours={"sun": ["20:00-02:00"], "mon": ["20:00-02:00"]})
    query = "query($at: DateTime) { pickupStoresNear(latitude: 31.0, longitude: 121.0, at: $at) { store { name } } }"
    client = graphql(kernel)
    names = lambda body: [n["store"]["name"] for n in body["pickupStoresNear"]]  # noqa: E731
    assert names(await client.data(query)) == ["day"]  # Monday 10:00 in Shanghai
    assert names(await client.data(query, at="2026-01-05T17:30:00+00:00")) == ["late"]  # Tuesday 01:30: last night's tail
    assert names(await client.data(query, at="2026-01-04T13:00:00+00:00")) == ["late"]  # Sunday 21:00
    bad = await client.execute("{ pickupStoresNear(latitude: 91, longitude: 0) { store { name } } }")
    assert "KERNEL_INVALID_INPUT" in str(bad) or bad.get("errors")
