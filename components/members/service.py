"""Members and staff, and who may sign in as them.

The rules live here (no GraphQL): the resolvers in ``graphql.py`` only translate. Identity
providers (WeChat login, …) are other components answering the ``dougong_identity_provider``
hook; this module asks them and turns what they say into an :class:`~core.auth.Actor`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from components.members.models import Member, Staff
from core.auth import Actor
from core.errors import DomainError
from core.transaction import Transaction

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

PHONE = re.compile(r"^\+?[0-9]{6,15}$")
MAX_NICKNAME = 50
PHONE_SEARCH_MIN_DIGITS = 11  # a mainland mobile number, whole
MAX_CHANNEL = 50
MAX_STAFF_NAME = 50


def mask_phone(phone: str | None) -> str | None:
    """138****0001: enough for a clerk to confirm a customer at the counter, not enough to call."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def normalise_phone(phone: str) -> str:
    # Frontends paste numbers with spaces and dashes; store one spelling so the unique index
    # (and sign-in by phone) sees "138 0000 0001" and "13800000001" as the same person.
    return re.sub(r"[\s\-()]", "", phone)


class MembersService:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.wechat: Any = None  # the WeChat mini-program provider, when members.wechat is configured

    # -- members -------------------------------------------------------------------------------
    async def create_member(
        self,
        tx: Transaction,
        *,
        phone: str | None = None,
        open_id: str | None = None,
        nickname: str = "",
        source_channel: str | None = None,
        source_guide_id: int | None = None,
        source_store_id: int | None = None,
    ) -> int:
        """Register a member; emits ``member.registered`` after commit.

        The source fields record where the member came from (channel, the guide who brought
        them, the store): commission and store reports read them, so a guide that does not
        exist is refused rather than stored as a dangling number."""
        if phone is not None:
            phone = normalise_phone(phone)
            if not PHONE.match(phone):
                raise DomainError("MEMBERS_INVALID_PHONE", "A phone number is 6 to 15 digits.", field="input.phone")
        if open_id is not None and not (0 < len(open_id) <= 100):
            raise DomainError("KERNEL_INVALID_INPUT", "An open id has 1 to 100 characters.", field="input.openId")
        nickname = (nickname or "").strip()
        if len(nickname) > MAX_NICKNAME:
            raise DomainError("MEMBERS_INVALID_NICKNAME", f"A nickname has at most {MAX_NICKNAME} characters.", field="input.nickname")
        if source_channel is not None and not (0 < len(source_channel) <= MAX_CHANNEL):
            raise DomainError("KERNEL_INVALID_INPUT", f"A source channel has 1 to {MAX_CHANNEL} characters.", field="input.sourceChannel")
        if source_store_id is not None and source_store_id <= 0:
            raise DomainError("KERNEL_INVALID_INPUT", "A store id is a positive number.", field="input.sourceStoreId")
        if source_guide_id is not None and await tx.session.get(Staff, source_guide_id) is None:
            raise DomainError("MEMBERS_UNKNOWN_GUIDE", "No staff member with that id can be the guide.", field="input.sourceGuideId")
        # Checked before the INSERT so the caller gets a typed error, not an IntegrityError (a
        # concurrent duplicate still hits the unique index and rolls the transaction back).
        if phone is not None and await self.member_by_phone(tx.session, phone) is not None:
            raise DomainError("MEMBERS_PHONE_TAKEN", "A member with that phone number already exists.", field="input.phone")
        if open_id is not None and await self.member_by_open_id(tx.session, open_id) is not None:
            raise DomainError("MEMBERS_OPEN_ID_TAKEN", "A member with that open id already exists.", field="input.openId")
        member = Member(
            phone=phone,
            open_id=open_id,
            nickname=nickname,
            source_channel=source_channel,
            source_guide_id=source_guide_id,
            source_store_id=source_store_id,
            created_at=tx.now(),
        )
        tx.session.add(member)
        await tx.session.flush()
        await tx.emit(
            "member.registered",
            {
                "memberId": member.id,
                "channel": source_channel,
                "guideId": source_guide_id,
                "storeId": source_store_id,
            },
        )
        return member.id

    async def member(self, session: AsyncSession, member_id: int) -> Member | None:
        return await session.get(Member, member_id)

    async def member_by_phone(self, session: AsyncSession, phone: str) -> Member | None:
        return await session.scalar(select(Member).where(Member.phone == normalise_phone(phone)))

    async def member_by_open_id(self, session: AsyncSession, open_id: str) -> Member | None:
        return await session.scalar(select(Member).where(Member.open_id == open_id))

    async def member_ids(self, session: AsyncSession, *, limit: int = 20) -> list[int]:
        """The first members' ids, in the order they registered (demo data, samples)."""
        return list((await session.scalars(select(Member.id).order_by(Member.id).limit(limit))).all())

    def search(self, search: str | None) -> Any:
        """The statement behind the staff member list: everyone, or a nickname/phone match."""
        stmt = select(Member)
        needle = (search or "").strip()[:MAX_NICKNAME]
        if needle:
            # LIKE wildcards typed by a clerk are literal characters, not patterns.
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(or_(Member.nickname.ilike(f"%{escaped}%", escape="\\"), self._phone_match(needle)))
        return stmt

    def _phone_match(self, needle: str) -> Any:
        """Phones match whole, or by a prefix of at least ``phone_search_min_digits`` digits:
        a substring search peeled a masked number (138****0004) digit by digit."""
        phone = normalise_phone(needle)
        minimum = self.kernel.settings("members").get("phone_search_min_digits", PHONE_SEARCH_MIN_DIGITS)
        if phone.isascii() and phone.isdigit() and minimum <= len(phone) < PHONE_SEARCH_MIN_DIGITS:
            return Member.phone.like(f"{phone}%")
        return Member.phone == phone

    # -- staff ---------------------------------------------------------------------------------
    async def create_staff(
        self,
        tx: Transaction,
        *,
        name: str,
        roles: list[str] | tuple[str, ...],
        store_ids: list[int] | tuple[int, ...] = (),
        phone: str | None = None,
    ) -> int:
        name = (name or "").strip()
        if not (0 < len(name) <= MAX_STAFF_NAME):
            raise DomainError("KERNEL_INVALID_INPUT", f"A staff name has 1 to {MAX_STAFF_NAME} characters.", field="input.name")
        roles = sorted(set(roles))
        known = self.kernel.contributions.staff_roles
        if not roles or any(r not in known for r in roles):
            raise DomainError("MEMBERS_INVALID_ROLE", f"Roles are {', '.join(sorted(known))}.", field="input.roles")
        stores = sorted({int(s) for s in store_ids})
        if any(s <= 0 for s in stores):
            raise DomainError("MEMBERS_INVALID_STORES", "Store ids are positive numbers.", field="input.storeIds")
        # A clerk's permissions are scoped to their stores; a clerk with none could do nothing,
        # which is always a data-entry mistake.
        if "store_clerk" in roles and not stores:
            raise DomainError("MEMBERS_INVALID_STORES", "A store clerk needs at least one store.", field="input.storeIds")
        if phone is not None:
            phone = normalise_phone(phone)
            if not PHONE.match(phone):
                raise DomainError("MEMBERS_INVALID_PHONE", "A phone number is 6 to 15 digits.", field="input.phone")
        staff = Staff(name=name, phone=phone, roles=roles, store_ids=stores, active=True)
        tx.session.add(staff)
        await tx.session.flush()
        return staff.id

    async def staff(self, session: AsyncSession, staff_id: int) -> Staff | None:
        return await session.get(Staff, staff_id)

    @staticmethod
    def masked_phone(phone: str | None) -> str | None:
        """A phone as other components may show it to staff (138****0001)."""
        return mask_phone(phone)

    async def active_staff(self, session: AsyncSession) -> list[Staff]:
        """Every active staff member, by id."""
        return list((await session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.id))).all())

    async def staff_names(self, session: AsyncSession, staff_ids: list[int]) -> dict[int, str]:
        """Names of the given staff, by id (unknown ids are left out): one query for a page."""
        if not staff_ids:
            return {}
        return dict((await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(set(staff_ids))))).all())

    async def staff_actor(self, session: AsyncSession, staff_id: int) -> Actor | None:
        """The actor for an active staff member, roles and stores as the database has them now."""
        staff = await session.get(Staff, staff_id)
        if staff is None or not staff.active:
            return None
        return Actor("staff", staff.id, frozenset(staff.roles or []), frozenset(int(s) for s in staff.store_ids or []))

    # -- signing in ----------------------------------------------------------------------------
    def dev_sign_in_enabled(self) -> bool:
        # Checked on both flags, though the blueprint loader already folds production into
        # dev_sign_in: a sign-in that needs no credential must never be one flag away.
        blueprint = self.kernel.blueprint
        return bool(blueprint.auth.dev_sign_in) and not blueprint.production

    async def dev_sign_in(
        self,
        tx: Transaction,
        *,
        member_id: int | None = None,
        phone: str | None = None,
        staff_id: int | None = None,
    ) -> Actor:
        """Development sign-in: anyone, by member id, phone (created if new) or staff id."""
        if not self.dev_sign_in_enabled():
            raise DomainError("MEMBERS_SIGN_IN_DISABLED", "Development sign-in is off for this brand.")
        given = [x for x in (member_id, phone, staff_id) if x is not None and x != ""]
        if len(given) != 1:
            raise DomainError("KERNEL_INVALID_INPUT", "Give exactly one of phone, memberId or staffId.", field="input")
        if staff_id is not None:
            actor = await self.staff_actor(tx.session, staff_id)
            if actor is None:
                raise DomainError("KERNEL_NOT_FOUND", "No active staff with that id.", field="input.staffId")
            return actor
        if member_id is not None:
            if await self.member(tx.session, member_id) is None:
                raise DomainError("KERNEL_NOT_FOUND", "No member with that id.", field="input.memberId")
            return Actor("member", member_id)
        assert phone is not None
        found = await self.member_by_phone(tx.session, phone)
        if found is not None:
            return Actor("member", found.id)
        return Actor("member", await self.create_member(tx, phone=phone, source_channel="dev_sign_in"))

    def identity_provider(self, provider: str) -> Any:
        identity = self.kernel.pm.hook.dougong_identity_provider(kernel=self.kernel, provider=provider)
        if identity is None:
            raise DomainError("MEMBERS_UNKNOWN_PROVIDER", f"No identity provider named {provider!r} is installed.", field="input.provider")
        return identity

    async def verify(self, provider: str, credential: str) -> Any:
        """A provider's network step (``verify``, optional), run *before* the transaction: a
        slow identity service must not hold the brand's write lock. Returns what
        ``authenticate`` receives (the credential itself for providers without one)."""
        identity = self.identity_provider(provider)
        verify = getattr(identity, "verify", None)
        return await verify(credential) if verify is not None else credential

    async def bind_phone(self, tx: Transaction, member_id: int, phone: str) -> None:
        """Give a member the phone number an identity provider vouched for."""
        phone = normalise_phone(phone)
        if not PHONE.match(phone):
            raise DomainError("MEMBERS_INVALID_PHONE", "The phone number is malformed.", field="input.code")
        member = await self.member(tx.session, member_id)
        if member is None:
            raise DomainError("KERNEL_NOT_FOUND", "No member with that id.")
        owner = await self.member_by_phone(tx.session, phone)
        if owner is not None and owner.id != member_id:
            # Merging two accounts moves orders, points and history: a support task, not a side effect.
            raise DomainError("MEMBERS_PHONE_TAKEN", "Another member already has that phone number.", field="input.code")
        member.phone = phone

    async def sign_in(self, tx: Transaction, *, provider: str, credential: Any) -> Actor:
        """Ask the installed identity provider named ``provider`` who ``credential`` belongs to
        (``credential`` as :meth:`verify` returned it)."""
        identity = self.identity_provider(provider)
        actor = await identity.authenticate(tx, credential)
        if actor is None or actor.kind not in ("member", "staff") or actor.id is None:
            raise DomainError("MEMBERS_SIGN_IN_REJECTED", "The credential was not accepted.", field="input.credential")
        # A provider vouches for *who* signs in, never for what they may do: roles and stores
        # come from our table, and the member or staff must really exist here.
        if actor.is_staff:
            checked = await self.staff_actor(tx.session, actor.id)
            if checked is None:
                raise DomainError("MEMBERS_SIGN_IN_REJECTED", "No active staff matches that credential.", field="input.credential")
            return checked
        if await self.member(tx.session, actor.id) is None:
            raise DomainError("MEMBERS_SIGN_IN_REJECTED", "No member matches that credential.", field="input.credential")
        return Actor("member", actor.id)
