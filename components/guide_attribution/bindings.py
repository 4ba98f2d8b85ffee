"""Channel codes, first touch and transfers: who a member's guide and store are.

A touch names a channel code: a guide's (``g…``, members' share code), a store's (``s…``,
store_codes.py) or a sharing member's (``m…``: the newcomer joins the sharer's guide and store,
since a guide's customer who brings a friend brings them to that guide). The binding rules are
in binding_rules.py; the write that makes a first touch bind exactly once is the insert of the
member's row (its primary key), inside a savepoint so the loser of a race reads the winner's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from components.guide_attribution import figures, store_codes
from components.guide_attribution.binding_rules import Rules, may_rebind
from components.guide_attribution.models import Binding
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Transaction

MAX_CODE = 64
MAX_TRANSFER = 2000  # members moved by one call; a larger book is moved by calling again


@dataclass(frozen=True)
class Touch:
    """What a valid code binds to."""

    guide_id: int | None
    store_id: int | None
    channel: str


@dataclass(frozen=True)
class Outcome:
    binding: Binding | None
    bound: bool  # this touch bound (or re-bound) the member


class Bindings:
    def __init__(self, kernel: Any, rules: Rules, zone: Any) -> None:
        self.kernel = kernel
        self.rules = rules
        self.zone = zone

    # -- codes -------------------------------------------------------------------------------------
    def _store_key(self) -> bytes:
        return store_codes.derive_key(self.kernel.signing_secret())

    def store_code(self, store_id: int) -> str:
        return store_codes.sign(self._store_key(), self.kernel.blueprint.brand.slug, store_id)

    async def existing_stores(self, session: Any, store_ids: list[int]) -> set[int]:
        claimed = self.kernel.contributions.stores.get("stores")
        return set(await claimed.value(session, store_ids)) if claimed is not None else set()

    async def guide_store(self, session: Any, guide_id: int) -> int | None:
        staff = await self.kernel.service("members").staff(session, guide_id)
        stores = list(staff.store_ids or []) if staff is not None else []
        return int(stores[0]) if stores else None

    async def resolve(self, tx: Transaction, member_id: int, code: str, field: str = "input.code") -> Touch:
        """What touching ``code`` would bind ``member_id`` to; a typed error for a code that
        binds nobody, so a frontend bug is seen rather than silently dropped."""
        if not isinstance(code, str) or not 0 < len(code) <= MAX_CODE:
            raise DomainError("GUIDE_ATTRIBUTION_INVALID_CODE", "That channel code was not issued by this brand.", field=field)
        session = tx.session
        if code.startswith("s"):
            store = store_codes.parse(self._store_key(), self.kernel.blueprint.brand.slug, code)
            if store is None or store not in await self.existing_stores(session, [store]):
                raise DomainError("GUIDE_ATTRIBUTION_INVALID_CODE", "That channel code was not issued by this brand.", field=field)
            return Touch(None, store, "store_code")
        codes = self.kernel.service("members.share_codes")
        holder = codes.holder(code)
        if holder is None:
            raise DomainError("GUIDE_ATTRIBUTION_INVALID_CODE", "That channel code was not issued by this brand.", field=field)
        if holder.kind == "guide":
            if not await codes.is_active_guide(session, holder.id):
                raise DomainError("GUIDE_ATTRIBUTION_GUIDE_INACTIVE", "The guide of that code has left; nothing was bound.", field=field)
            return Touch(holder.id, await self.guide_store(session, holder.id), "guide_code")
        if holder.id == member_id:
            raise DomainError("GUIDE_ATTRIBUTION_OWN_CODE", "One's own share code binds nobody.", field=field)
        if await self.kernel.service("members").member(session, holder.id) is None:
            raise DomainError("GUIDE_ATTRIBUTION_INVALID_CODE", "That channel code was not issued by this brand.", field=field)
        sharer = await session.get(Binding, holder.id)
        return Touch(sharer.guide_id if sharer else None, sharer.store_id if sharer else None, "member_code")

    # -- binding -----------------------------------------------------------------------------------
    async def of_member(self, session: Any, member_id: int) -> Binding | None:
        return await session.scalar(select(Binding).where(Binding.member_id == member_id).execution_options(populate_existing=True))

    async def touch(self, tx: Transaction, member_id: int, code: str) -> Outcome:
        return await self.bind(tx, member_id, await self.resolve(tx, member_id, code), code=code)

    async def bind(self, tx: Transaction, member_id: int, touch: Touch, *, code: str | None = None) -> Outcome:
        if touch.guide_id is None and touch.store_id is None:
            return Outcome(await self.of_member(tx.session, member_id), False)  # a sharer bound to nobody
        now = tx.now()
        current = await self.of_member(tx.session, member_id)
        if current is None:
            try:
                async with tx.session.begin_nested():
                    row = Binding(
                        member_id=member_id,
                        guide_id=touch.guide_id,
                        store_id=touch.store_id,
                        channel=touch.channel,
                        code=code,
                        bound_at=now,
                        protected_until=self.rules.protected_until(now),
                        rebinds=0,
                    )
                    tx.session.add(row)
            except IntegrityError:  # a concurrent first touch bound the member: it won
                current = await self.of_member(tx.session, member_id)
            else:
                await self._count_added(tx, touch)
                return Outcome(row, True)
        assert current is not None
        same = (current.guide_id, current.store_id) == (touch.guide_id, touch.store_id)
        until = as_utc(current.protected_until) if current.protected_until else None
        if not may_rebind(self.rules, protected_until=until, now=now, same_holder=same):
            return Outcome(current, False)
        # Conditional on the row we read: of two concurrent re-binding touches only one moves it.
        moved = await tx.session.execute(
            update(Binding)
            .where(Binding.member_id == member_id, Binding.bound_at == current.bound_at)
            .values(
                guide_id=touch.guide_id,
                store_id=touch.store_id,
                channel=touch.channel,
                code=code,
                bound_at=now,
                protected_until=self.rules.protected_until(now),
                rebinds=Binding.rebinds + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount:
            await self._count_added(tx, touch)
        return Outcome(await self.of_member(tx.session, member_id), bool(moved.rowcount))

    async def _count_added(self, tx: Transaction, touch: Touch) -> None:
        day = figures.brand_day(tx.now(), self.zone)
        await figures.bump(tx, day, [(figures.GUIDE, touch.guide_id), (figures.STORE, touch.store_id)], members_added=1)

    async def on_member_registered(self, kernel: Any, event: Any) -> None:
        """A sign-up that named its guide or store is that member's first touch (idempotent:
        a redelivery finds the binding and, being the same holder, changes nothing)."""
        guide, store = event.payload.get("guideId"), event.payload.get("storeId")
        if guide is None and store is None:
            return
        async with kernel.transaction() as tx:
            codes = kernel.service("members.share_codes")
            if guide is not None and not await codes.is_active_guide(tx.session, int(guide)):
                guide = None  # staff who is not (or no longer) a guide earns no customer
            if store is None and guide is not None:
                store = await self.guide_store(tx.session, int(guide))
            await self.bind(tx, int(event.payload["memberId"]), Touch(guide, store, "registration"))

    # -- transfer ----------------------------------------------------------------------------------
    async def transfer(self, tx: Transaction, from_guide: int, to_guide: int) -> tuple[int, int]:
        """Move the customers of ``from_guide`` (a guide who leaves) to ``to_guide``, at most
        ``MAX_TRANSFER`` per call (one short transaction); returns (moved, still with the old
        guide). Calling again moves the rest; once none is left it moves nobody."""
        if from_guide == to_guide:
            raise DomainError("GUIDE_ATTRIBUTION_SAME_GUIDE", "Customers move to another guide.", field="input.toGuideId")
        if await self.kernel.service("members").staff(tx.session, from_guide) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No staff member with that id.", field="input.fromGuideId")
        if not await self.kernel.service("members.share_codes").is_active_guide(tx.session, to_guide):
            raise DomainError("GUIDE_ATTRIBUTION_NOT_A_GUIDE", "Customers move only to active staff with the guide role.", field="input.toGuideId")
        store = await self.guide_store(tx.session, to_guide)
        values: dict[str, Any] = {"guide_id": to_guide, "channel": "transfer", "rebinds": Binding.rebinds + 1}
        if store is not None:
            values["store_id"] = store
        batch = select(Binding.member_id).where(Binding.guide_id == from_guide).order_by(Binding.member_id).limit(MAX_TRANSFER)
        members = list((await tx.session.scalars(batch)).all())
        moved = await tx.session.execute(
            update(Binding)
            .where(Binding.member_id.in_(members), Binding.guide_id == from_guide)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        left = await tx.session.scalar(select(func.count()).select_from(Binding).where(Binding.guide_id == from_guide))
        return int(moved.rowcount or 0), int(left or 0)
