"""Small storage helpers shared by the service and the tagging rules (dialect differences only)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from sqlalchemy import select

from components.member_tags.models import Profile, Tag
from core.transaction import Transaction

CHUNK = 1000  # ids per IN (...) and per event payload: well under every driver's parameter limit


def insert_ignoring_duplicates(tx: Transaction, model: Any) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL: concurrent first touches of
    one member (two events at once) must both succeed, not trip the primary key."""
    if tx.kernel.db.is_postgresql:
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).on_conflict_do_nothing()


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def ensure_profiles(tx: Transaction, member_ids: Iterable[int]) -> None:
    rows = [
        {
            "member_id": m,
            "orders_count": 0,
            "paid_minor": 0,
            "window_orders": 0,
            "window_paid_minor": 0,
            "stage": "prospect",
            "stage_since": tx.now(),
            "computed_at": tx.now(),
        }
        for m in sorted(set(member_ids))
    ]
    for batch in chunks(rows):
        await tx.session.execute(insert_ignoring_duplicates(tx, Profile), batch)


async def lock_profile(tx: Transaction, member_id: int) -> Profile:
    """The member's profile row, locked until commit on PostgreSQL (SQLite has one writer):
    two events of one member are then applied one after the other, each seeing the other's
    purchase, instead of the second overwriting the first's figures."""
    await ensure_profiles(tx, [member_id])
    stmt = select(Profile).where(Profile.member_id == member_id).execution_options(populate_existing=True)
    if tx.kernel.db.is_postgresql:
        stmt = stmt.with_for_update()
    profile = await tx.session.scalar(stmt)
    assert profile is not None
    return profile


async def tag_id(tx: Transaction, key: str, name: str, kind: str, description: str = "") -> int:
    """The id of the tag with this key, made on first use (rule and channel tags)."""
    found = await tx.session.scalar(select(Tag.id).where(Tag.key == key))
    if found is not None:
        return found
    values = {"key": key, "name": name[:60], "kind": kind, "description": description[:200], "created_at": tx.now()}
    await tx.session.execute(insert_ignoring_duplicates(tx, Tag).values(**values))
    made = await tx.session.scalar(select(Tag.id).where(Tag.key == key))
    assert made is not None
    return made


def aware(moment: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite hands them back naive)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)
