"""member_tags' rules at work: figures from order events, RFM segments, lifecycle stages and
rule tags, per member on each event and for the whole brand on the scheduled recompute.

Both paths end in :meth:`MemberTagsService._apply`, so an event and the recompute can never
disagree about a member given the same figures and the same medians.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, delete, func, select, update

from components.member_tags import rules
from components.member_tags.models import Baseline, MemberTag, Profile, Purchase, Tag
from components.member_tags.settings import resolved
from components.member_tags.store import aware, chunks, ensure_profiles, insert_ignoring_duplicates, lock_profile, tag_id
from components.member_tags.tagging import Tagging
from core.transaction import Transaction

RECOMPUTE_JOB = "member_tags.recompute"
AGGREGATE_MEMBERS = 20_000  # members per aggregate statement of the recompute
FIGURE_FIELDS = ("orders_count", "paid_minor", "first_order_at", "last_order_at", "window_orders", "window_paid_minor")


@dataclass
class Outcome:
    """What a recompute changed (also the bench's report)."""

    members: int = 0
    stage_changes: int = 0
    segment_changes: int = 0
    tags_added: int = 0
    tags_removed: int = 0
    # Where the time went, in seconds: reading, classifying in memory, writing (bench figures).
    phases: dict[str, float] = field(default_factory=dict)


class MemberTagsService:
    def __init__(self, kernel: Any, settings: dict[str, Any] | None) -> None:
        self.kernel = kernel
        self.settings = resolved(settings)
        self.windows = rules.windows_of(self.settings)
        self.tagging = Tagging(kernel)

    # -- events (after commit, at least once: every write below is idempotent) -----------------
    async def on_member_registered(self, kernel: Any, event: Any) -> None:
        payload = event.payload
        member_id = int(payload["memberId"])
        async with kernel.transaction() as tx:
            await ensure_profiles(tx, [member_id])
            if self.settings["channel_tags"]:
                await self.tagging.tag_channel(tx, member_id, payload.get("channel"), payload.get("guideId"), payload.get("storeId"))

    async def on_order_paid(self, kernel: Any, event: Any) -> None:
        payload = event.payload
        member_id, order_id = int(payload["memberId"]), int(payload["orderId"])
        async with kernel.transaction() as tx:
            await lock_profile(tx, member_id)
            if await tx.session.get(Purchase, order_id) is None:
                # The event's own time, not the delivery's: a redelivery an hour late still
                # dates the order when it was paid.
                tx.session.add(
                    Purchase(
                        order_id=order_id,
                        member_id=member_id,
                        paid_at=event.created_at,
                        total_minor=int(payload["totalMinor"]),
                        refunded_minor=int(payload.get("refundedMinor") or 0),
                        counted=True,
                    )
                )
                await tx.session.flush()
            await self.refresh(tx, member_id)

    async def on_order_refunded(self, kernel: Any, event: Any) -> None:
        payload = event.payload
        member_id, order_id = int(payload["memberId"]), int(payload["orderId"])
        async with kernel.transaction() as tx:
            await lock_profile(tx, member_id)
            purchase = await tx.session.get(Purchase, order_id)
            if purchase is None:
                return  # paid before the component was installed: it never counted here
            # The order's running refunded total, never a sum of deliveries: a refund event
            # delivered twice, or two refunds delivered out of order, land on the same figure.
            purchase.refunded_minor = max(purchase.refunded_minor, min(int(payload["refundedMinor"]), purchase.total_minor))
            whole = payload.get("status") == "refunded" or (purchase.total_minor > 0 and purchase.refunded_minor >= purchase.total_minor)
            purchase.counted = not whole
            await tx.session.flush()
            await self.refresh(tx, member_id)

    # -- one member --------------------------------------------------------------------------
    async def refresh(self, tx: Transaction, member_id: int) -> None:
        """Recount one member from their own purchases and reclassify them against the
        medians of the last recompute."""
        now = tx.now()
        rows = (
            await tx.session.execute(
                select(Purchase.paid_at, Purchase.total_minor - Purchase.refunded_minor, Purchase.counted).where(Purchase.member_id == member_id)
            )
        ).all()
        fig = rules.figures_from([(aware(at), int(net), bool(ok)) for at, net, ok in rows], now, self.windows)
        await self._apply(tx, {member_id: fig}, await self.baseline(tx.session), whole_brand=False)

    async def baseline(self, session: Any) -> dict[str, float]:
        row = await session.get(Baseline, "rfm")
        return dict(row.values) if row is not None else {}

    # -- the whole brand ---------------------------------------------------------------------
    async def recompute(self, tx: Transaction, timer: Any = None) -> Outcome:
        """Every member, set-based: one GROUP BY over the purchases for the lifetime figures
        and every window's, then classification in memory and bulk writes of what changed only."""
        now = tx.now()
        session = tx.session
        started = time.perf_counter()
        # One pass over the purchases: lifetime figures and every window's, by conditional sums.
        amount = Purchase.total_minor - Purchase.refunded_minor
        days_used = sorted(self.windows)
        per_window = []
        for days in days_used:
            inside = Purchase.paid_at >= now - days * rules.DAY
            per_window += [func.sum(case((inside, 1), else_=0)), func.sum(case((inside, amount), else_=0))]
        stmt = (
            select(Purchase.member_id, func.count(), func.sum(amount), func.min(Purchase.paid_at), func.max(Purchase.paid_at), *per_window)
            .where(Purchase.counted.is_(True))
            .group_by(Purchase.member_id)
        )
        lifetime: dict[int, tuple[int, int, Any, Any]] = {}
        windows: dict[int, dict[int, tuple[int, int]]] = {}
        # By ranges of member ids: each statement stays far below the brand's statement
        # timeout however many orders there are (the purchases are indexed by member).
        highest = int(await session.scalar(select(func.max(Purchase.member_id))) or 0)
        for low in range(0, highest + 1, AGGREGATE_MEMBERS):
            part = stmt.where(Purchase.member_id >= low, Purchase.member_id < low + AGGREGATE_MEMBERS)
            for row in await session.execute(part):
                mid = row[0]
                lifetime[mid] = (int(row[1]), int(row[2] or 0), aware(row[3]), aware(row[4]))
                windows[mid] = {days: (int(row[5 + 2 * i] or 0), int(row[6 + 2 * i] or 0)) for i, days in enumerate(days_used)}
        members = set((await session.scalars(select(Profile.member_id))).all())
        await ensure_profiles(tx, set(lifetime) - members)  # purchases of a member whose profile went missing
        figs = {}
        for mid in members | set(lifetime):
            n, paid, first, last = lifetime.get(mid, (0, 0, None, None))
            figs[mid] = rules.Figures(n, paid, first, last, windows.get(mid, {}))
        window = self.settings["window_days"]
        baseline = rules.medians((rules.days_since(f.last_order_at, now), *f.in_window(window)) for f in figs.values())
        await session.merge(Baseline(key="rfm", values=baseline, computed_at=now))
        read = time.perf_counter() - started
        outcome = await self._apply(tx, figs, baseline, whole_brand=True)
        outcome.phases = {"aggregate": round(read, 2), **outcome.phases}
        return outcome

    # -- classify and write --------------------------------------------------------------------
    async def _apply(self, tx: Transaction, figs: dict[int, rules.Figures], baseline: dict[str, float], *, whole_brand: bool) -> Outcome:
        now, session, s = tx.now(), tx.session, self.settings
        # In this order: the loop below reads them by position (3–8 are FIGURE_FIELDS, 9 stage_since).
        columns = [Profile.member_id, Profile.stage, Profile.segment, *(getattr(Profile, f) for f in FIGURE_FIELDS), Profile.stage_since]
        stmt = select(*columns)
        if not whole_brand:
            stmt = stmt.where(Profile.member_id.in_(list(figs)))
        started = time.perf_counter()
        current = {row[0]: row for row in await session.execute(stmt)}
        rule_tags = {rule["name"]: await tag_id(tx, f"rule:{rule['name']}", rule["name"], "rule", rule.get("description", "")) for rule in s["rules"]}
        outcome = Outcome(members=len(figs))
        updates: list[dict[str, Any]] = []
        stage_moves: dict[tuple[str, str], list[int]] = defaultdict(list)
        segment_moves: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
        wanted: dict[int, set[int]] = {t: set() for t in rule_tags.values()}
        for mid, fig in figs.items():
            stage = rules.stage(fig, now, s["lifecycle"])
            segment = rules.segment(fig, now, s["rfm"], s["window_days"], baseline)
            for rule in s["rules"]:
                if rules.rule_matches(rule, fig, now, stage, segment, s["window_days"]):
                    wanted[rule_tags[rule["name"]]].add(mid)
            orders, paid = fig.in_window(s["window_days"])
            new = {
                "orders_count": fig.orders,
                "paid_minor": fig.paid_minor,
                "first_order_at": fig.first_order_at,
                "last_order_at": fig.last_order_at,
                "window_orders": orders,
                "window_paid_minor": paid,
            }
            old = current.get(mid)
            old_stage, old_segment = (old[1], old[2]) if old is not None else ("prospect", None)
            same = old is not None and (old[3], old[4], aware(old[5]), aware(old[6]), old[7], old[8]) == (
                fig.orders,
                fig.paid_minor,
                fig.first_order_at,
                fig.last_order_at,
                orders,
                paid,
            )
            if same and old_stage == stage and old_segment == segment:
                continue
            # Every row has the same keys: the bulk UPDATE then goes out as one executemany
            # (rows of mixed keys split it into a round trip per run of alike rows).
            moved = old is None or old_stage != stage
            row = {"member_id": mid, **new, "stage": stage, "segment": segment, "computed_at": now, "stage_since": now if moved else old[9]}
            if old_stage != stage:
                stage_moves[(old_stage, stage)].append(mid)
            if old_segment != segment:
                segment_moves[(old_segment, segment)].append(mid)
            updates.append(row)
        classified = time.perf_counter()
        for batch in chunks(updates):
            await session.execute(update(Profile), batch)
        updated = time.perf_counter()
        outcome.stage_changes = sum(map(len, stage_moves.values()))
        outcome.segment_changes = sum(map(len, segment_moves.values()))
        for (old_stage, stage), mids in stage_moves.items():
            for batch in chunks(sorted(mids)):
                await tx.emit("member_tags.stage_changed", {"memberIds": batch, "fromStage": old_stage, "toStage": stage})
        for (old_segment, segment), mids in segment_moves.items():
            for batch in chunks(sorted(mids)):
                await tx.emit("member_tags.segment_changed", {"memberIds": batch, "fromSegment": old_segment, "toSegment": segment})
        emitted = time.perf_counter()
        for tag, members in wanted.items():
            added, removed = await self._hold_exactly(tx, tag, members, None if whole_brand else set(figs))
            outcome.tags_added += added
            outcome.tags_removed += removed
        outcome.phases = {
            "read_and_classify": round(classified - started, 2),
            "profiles": round(updated - classified, 2),
            "events": round(emitted - updated, 2),
            "rule_tags": round(time.perf_counter() - emitted, 2),
        }
        return outcome

    async def _hold_exactly(self, tx: Transaction, tag: int, members: set[int], scope: set[int] | None) -> tuple[int, int]:
        """Make the rule tag's holders exactly ``members`` (within ``scope``, the members just
        reclassified; everyone when None); emits tagged/untagged for the difference."""
        stmt = select(MemberTag.member_id).where(MemberTag.tag_id == tag)
        if scope is not None:
            stmt = stmt.where(MemberTag.member_id.in_(list(scope)))
        held = set((await tx.session.scalars(stmt)).all())
        add, drop = sorted(members - held), sorted(held - members)
        for batch in chunks(add):
            await tx.session.execute(
                insert_ignoring_duplicates(tx, MemberTag), [{"tag_id": tag, "member_id": m, "tagged_at": tx.now()} for m in batch]
            )
            await tx.emit("member_tags.tagged", {"tagId": tag, "memberIds": batch, "source": "rule"})
        for batch in chunks(drop):
            await tx.session.execute(delete(MemberTag).where(MemberTag.tag_id == tag, MemberTag.member_id.in_(batch)))
            await tx.emit("member_tags.untagged", {"tagId": tag, "memberIds": batch, "source": "rule"})
        return len(add), len(drop)

    async def tag_names(self, session: Any, tag_ids: list[int]) -> dict[int, str]:
        return dict((await session.execute(select(Tag.id, Tag.name).where(Tag.id.in_(tag_ids)))).all()) if tag_ids else {}
