"""Holiday and special-date hours (pure rules), the pickup reminders (ready, expiring soon), and
a scanned QR code held to the same checks as a typed code, the atomic guess limit included."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import select
from store_pickup_helpers import MY, boot
from test_store_pickup_flow import _paid_pickup

from components.store_pickup.hours import normalise_hours, open_at, ranges_on, special_dates
from components.store_pickup.models import Attempt
from core.errors import DomainError
from core.models import EventRow
from core.testing import member, staff

WEEK = {d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["20:00-02:00"]}


def test_special_dates_replace_the_weekday_and_a_holiday_closes_the_day():
    hours = normalise_hours({**WEEK, "2027-02-10": [], "2027-02-11": ["10:00-16:00"], "2027-02-13": ["18:00-01:00"]})
    wed, thu = datetime(2027, 2, 10, 12, 0), datetime(2027, 2, 11, 12, 0)   # a holiday, then short hours
    assert open_at(WEEK, wed) and not open_at(hours, wed)
    assert open_at(hours, thu) and not open_at(hours, thu.replace(hour=17))
    # A special Saturday opening runs past midnight into the Sunday; the usual Saturday tail is replaced.
    assert open_at(hours, datetime(2027, 2, 14, 0, 30)) and not open_at(hours, datetime(2027, 2, 14, 1, 30))
    assert open_at(hours, datetime(2027, 2, 21, 1, 30))  # an ordinary Saturday night
    assert ranges_on(hours, datetime(2027, 2, 10).date()) == []
    assert special_dates(hours)[0] == ("2027-02-10", [])
    # Only special dates: ordinary days stay open, the holiday does not.
    only = normalise_hours({"2027-10-01": []})
    assert open_at(only, datetime(2027, 10, 2, 3, 0)) and not open_at(only, datetime(2027, 10, 1, 12, 0))
    for bad in ({"2027-02-30": []}, {"holiday": []}, {"mon": "9-5"}, {"2027-02-10": "closed"}):
        with pytest.raises(DomainError):
            normalise_hours(bad)


async def test_a_pickup_is_announced_ready_then_reminded_once_before_its_window_ends(kernel_factory, graphql, clock):
    ps = await boot(kernel_factory, settings="{pickup_window: 3d, expiry_reminder_before: 1d}")
    await _paid_pickup(ps, graphql)
    assert await ps.kernel.run_due() == 0
    clock.advance(days=2, minutes=1)
    assert await ps.kernel.run_due() == 1                 # the reminder, not yet the expiry
    async with ps.kernel.db.read() as session:
        names = [row.name for row in (await session.scalars(select(EventRow).order_by(EventRow.id))).all()]
    assert names.count("store_pickup.ready") == 1 and names.count("store_pickup.expiring_soon") == 1
    assert names.index("store_pickup.ready") < names.index("store_pickup.expiring_soon")

    # A pickup collected before its reminder is not reminded.
    second, _ = await _paid_pickup(ps, graphql, member_id=2)
    here = ps.stores[0]
    await ps.kernel.service("store_pickup").verify(staff(ps.clerks[here], "store_clerk", stores=(here,)), store_id=here,
                                                   code=second["code"], confirm=True)
    clock.advance(days=2, hours=1)
    await ps.kernel.run_due()
    async with ps.kernel.db.read() as session:
        reminded = [row.payload["memberId"] for row in (await session.scalars(
            select(EventRow).where(EventRow.name == "store_pickup.expiring_soon"))).all()]
    assert reminded == [1]


async def test_scanned_qr_codes_share_the_typed_codes_guess_limit_under_concurrency(kernel_factory, graphql):
    ps = await boot(kernel_factory)  # 10 refusals per clerk per 15 minutes
    pickup, _ = await _paid_pickup(ps, graphql)
    here = ps.stores[0]
    actor = staff(ps.clerks[here], "store_clerk", stores=(here,))
    service = ps.kernel.service("store_pickup")
    qr = pickup["qrPayload"]
    forged = [qr[:-6] + f"{i:06d}" for i in range(15)]       # bad signatures
    typed = [f"{(int(pickup['code']) + i) % 10**8:08d}" for i in range(1, 16)]

    async def attempt(**kwargs):
        try:
            await service.verify(actor, store_id=here, **kwargs)
            return "ok"
        except DomainError as error:
            return error.code

    outcomes = await asyncio.gather(*(attempt(qr_payload=p) for p in forged), *(attempt(code=c) for c in typed))
    assert outcomes.count("STORE_PICKUP_RATE_LIMITED") == 20  # 30 guesses, 10 refused on their merits, whatever the way
    assert outcomes.count("STORE_PICKUP_INVALID_QR") + outcomes.count("STORE_PICKUP_WRONG_CODE") == 10
    # The genuine QR is refused too while the clerk is locked out, and recorded like a typed code.
    assert await attempt(qr_payload=qr) == "STORE_PICKUP_RATE_LIMITED"
    assert await ps.count(Attempt, Attempt.via == "qr") == 16
    mine = (await graphql(ps.kernel, member(1)).data(MY))["myPickups"]["nodes"][0]
    assert mine["state"] == "AWAITING_PICKUP"
