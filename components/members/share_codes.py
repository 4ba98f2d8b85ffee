"""Share codes (一人一码): the only proof that a member or a shopping guide brought a buyer.

A share code names its holder — a member (``m``) or a guide (``g``, staff with the ``guide``
role) — and carries an HMAC of the brand's slug, the kind and the id, keyed from the brand's
signing secret. The server stores nothing: any worker checks a code from the secret alone, and
a code minted for one brand never verifies at another. A mini-program embeds it in its share
links and QR codes (it fits WeChat's 32-character ``scene``) and sends it back as
``source.shareCode`` on an order or ``shareCode`` on ``joinLiveRoom``.

:func:`decide` is the one rule for what a client may claim about who brought it; it is pure
(the members service looks up who the holder is first), so checkout and the live room's join
answer the same for the same claim. The rule, where the issue left the choice to us:

- a code that is malformed, forged, tampered with or another brand's is refused
  (``MEMBERS_INVALID_SHARE_CODE``): a genuine frontend never sends one;
- a ``sharerMemberId`` is only accepted together with a code of that member
  (``MEMBERS_UNPROVEN_SHARER`` otherwise): naming a friend was exactly the hole;
- a ``guideId`` must name active staff holding the ``guide`` role (``MEMBERS_NOT_A_GUIDE``);
  with a guide's code it must name that guide;
- a valid code whose credit cannot go to anyone — the buyer's own code, a guide since
  deactivated or no longer a guide — refuses only the credit: the purchase goes ahead, credits
  nobody, and the reason is recorded (``SELF_SHARE``, ``GUIDE_INACTIVE``), because the buyer
  did nothing wrong (a stale poster, tapping one's own link).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from components.members.models import Member, Staff
from core.errors import DomainError

Kind = Literal["member", "guide"]
PREFIX: dict[str, Kind] = {"m": "member", "g": "guide"}
LETTER = {kind: letter for letter, kind in PREFIX.items()}
MAC_BYTES = 12  # 96 bits: far beyond online guessing, short enough for a QR scene
CODE = re.compile(r"^([mg])([0-9a-z]{1,13})\.([A-Za-z0-9_-]{16})$")
MAX_ID = 2**63 - 1
GUIDE_ROLE = "guide"

SELF_SHARE = "SELF_SHARE"
GUIDE_INACTIVE = "GUIDE_INACTIVE"


@dataclass(frozen=True)
class Holder:
    """Who a valid code names."""

    kind: Kind
    id: int


@dataclass(frozen=True)
class Credit:
    """What an order or a viewer is credited with: at most one sharing member and one guide;
    ``refused`` says why a valid code credits nobody."""

    sharer_member_id: int | None = None
    guide_id: int | None = None
    share_code: str | None = None
    refused: str | None = None


def derive_key(secret: str) -> bytes:
    # A key of its own: a share code's MAC can never be replayed as (or learnt from) a token's.
    return hmac.new(secret.encode(), b"dougong share code v1", hashlib.sha256).digest()


def _mac(key: bytes, brand: str, kind: Kind, holder_id: int) -> str:
    digest = hmac.new(key, f"{brand}:{kind}:{holder_id}".encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def sign(key: bytes, brand: str, kind: Kind, holder_id: int) -> str:
    if not 0 < holder_id <= MAX_ID:
        raise ValueError("a share code names a positive id")
    return f"{LETTER[kind]}{_base36(holder_id)}.{_mac(key, brand, kind, holder_id)}"


def parse(key: bytes, brand: str, code: str) -> Holder | None:
    """The holder of a genuine code of this brand, or ``None`` for anything else."""
    match = CODE.match(code) if isinstance(code, str) else None
    if match is None:
        return None
    letter, digits, mac = match.groups()
    holder_id = int(digits, 36)
    if digits != _base36(holder_id) or not 0 < holder_id <= MAX_ID:
        return None  # one spelling per id (no leading zeros): codes compare as strings
    kind = PREFIX[letter]
    if not hmac.compare_digest(mac, _mac(key, brand, kind, holder_id)):
        return None
    return Holder(kind, holder_id)


def invalid_code(field: str) -> DomainError:
    return DomainError("MEMBERS_INVALID_SHARE_CODE", "That share code was not issued by this brand.", field=field)


def decide(
    *,
    buyer_id: int,
    code: str | None,
    holder: Holder | None,
    holder_eligible: bool,
    sharer_member_id: int | None,
    sharer_exists: bool,
    guide_id: int | None,
    guide_eligible: bool,
    field: str,
) -> Credit:
    """The credit a client's claim earns (see the module's rules). ``holder`` is the parsed code
    (``None`` with a code means it did not verify); ``holder_eligible`` whether that holder can
    be credited now (the member exists; the guide is active with the guide role); the rest
    describe the loose ``sharerMemberId`` and ``guideId`` the client sent."""
    if code is not None and holder is None:
        raise invalid_code(f"{field}.shareCode")
    if sharer_member_id is not None:
        if holder is None or holder.kind != "member" or holder.id != sharer_member_id or not sharer_exists:
            raise DomainError("MEMBERS_UNPROVEN_SHARER", "A sharer is credited only through their share code.", field=f"{field}.sharerMemberId")
    if guide_id is not None:
        if not guide_eligible or (holder is not None and holder.kind == "guide" and holder.id != guide_id):
            raise DomainError("MEMBERS_NOT_A_GUIDE", "The guide must be active staff with the guide role.", field=f"{field}.guideId")
    if holder is None:
        return Credit(guide_id=guide_id)
    if holder.kind == "member":
        if not holder_eligible:
            raise invalid_code(f"{field}.shareCode")  # signed, yet for nobody: never issued by us
        if holder.id == buyer_id:
            return Credit(guide_id=guide_id, share_code=code, refused=SELF_SHARE)
        return Credit(sharer_member_id=holder.id, guide_id=guide_id, share_code=code)
    if not holder_eligible:
        return Credit(guide_id=guide_id, share_code=code, refused=GUIDE_INACTIVE)
    return Credit(guide_id=holder.id, share_code=code)


class ShareCodes:
    """The ``members.share_codes`` service: issue codes, and turn a client's claim into a credit.

    Other components call it (orders at checkout, live_room on join); the guides and
    distribution components build on :meth:`holder` and :meth:`credit`."""

    def __init__(self, kernel) -> None:  # noqa: ANN001
        self.kernel = kernel

    def _key(self) -> bytes:
        return derive_key(self.kernel.signing_secret())

    def _brand(self) -> str:
        return self.kernel.blueprint.brand.slug

    async def is_active_guide(self, session: AsyncSession, staff_id: int) -> bool:
        staff = await session.get(Staff, staff_id)
        return staff is not None and bool(staff.active) and GUIDE_ROLE in (staff.roles or [])

    async def issue_for_member(self, session: AsyncSession, member_id: int) -> str:
        if await session.get(Member, member_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such member.", field="memberId")
        return sign(self._key(), self._brand(), "member", member_id)

    async def issue_for_guide(self, session: AsyncSession, staff_id: int, *, field: str = "staffId") -> str:
        if not await self.is_active_guide(session, staff_id):
            raise DomainError("MEMBERS_NOT_A_GUIDE", "Only active staff with the guide role have a share code.", field=field)
        return sign(self._key(), self._brand(), "guide", staff_id)

    def holder(self, code: str | None) -> Holder | None:
        """Who a code names, if this brand issued it (no database read)."""
        return parse(self._key(), self._brand(), code) if code is not None else None

    async def credit(
        self,
        session: AsyncSession,
        *,
        buyer_id: int,
        share_code: str | None = None,
        sharer_member_id: int | None = None,
        guide_id: int | None = None,
        field: str = "input",
    ) -> Credit:
        """The credit a buyer's claim earns (:func:`decide`); raises a typed error for a claim
        no genuine frontend makes, and changes nothing."""
        holder = self.holder(share_code)
        eligible = False
        if holder is not None:
            eligible = await session.get(Member, holder.id) is not None if holder.kind == "member" else await self.is_active_guide(session, holder.id)
        sharer_exists = sharer_member_id is not None and await session.get(Member, sharer_member_id) is not None
        guide_ok = guide_id is not None and await self.is_active_guide(session, guide_id)
        return decide(
            buyer_id=buyer_id,
            code=share_code,
            holder=holder,
            holder_eligible=eligible,
            sharer_member_id=sharer_member_id,
            sharer_exists=sharer_exists,
            guide_id=guide_id,
            guide_eligible=guide_ok,
            field=field,
        )
