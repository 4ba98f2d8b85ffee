"""Who an order is credited to: only what the server can prove.

A buyer's ``source`` may name a sharer (``sharerMemberId``), a guide (``guideId``), a share code
(``shareCode``), a live room (``liveRoomId``) and a group (``groupId``). Guides and sharers earn
commission, so none of it is taken on the client's word:

- the sharer and the guide go through ``members.share_codes`` (a code the brand signed; a
  guide must be active staff with the ``guide`` role); what it refuses is a typed error and
  nothing is written, a valid code that credits nobody (one's own) is recorded as
  ``creditRefused``;
- a room or a group is kept only if the component that owns it checked it in ``prepare`` and
  called ``draft.vouch(key)`` (the room exists; the group exists and the buyer is in it or may
  join it). A key nobody vouched for — the component is not loaded — is ``ORDERS_UNKNOWN_SOURCE``.
"""

from __future__ import annotations

from typing import Any

from core.checkout import Draft
from core.errors import DomainError
from core.gql.relay import decode_id, to_global_id
from core.transaction import Transaction

SOURCE_KEYS = ("liveRoomId", "groupId", "guideId", "shareCode", "sharerMemberId")
CREDIT_KEYS = ("shareCode", "sharerMemberId", "guideId")
VOUCHED_KEYS = ("liveRoomId", "groupId")  # an owner component checks these in prepare
REFUSED_KEY = "creditRefused"
MAX_SHARE_CODE = 64


async def proven_source(tx: Transaction, member_id: int, claimed: dict[str, Any]) -> dict[str, Any]:
    """The order's source with its credit proven: ids as global ids, the refusal recorded."""
    source = {k: v for k, v in claimed.items() if k in SOURCE_KEYS and v is not None}
    if not any(k in source for k in CREDIT_KEYS):
        return source
    code = source.get("shareCode")
    if code is not None and (not isinstance(code, str) or len(code) > MAX_SHARE_CODE):
        raise DomainError("KERNEL_INVALID_INPUT", f"A share code has at most {MAX_SHARE_CODE} characters.", field="input.source.shareCode")
    sharer = _id(source.get("sharerMemberId"), "Member", "input.source.sharerMemberId")
    guide = _id(source.get("guideId"), "Staff", "input.source.guideId")
    credit = await tx.kernel.service("members.share_codes").credit(
        tx.session, buyer_id=member_id, share_code=code, sharer_member_id=sharer, guide_id=guide, field="input.source"
    )
    proven = {k: v for k, v in source.items() if k not in CREDIT_KEYS}
    if credit.share_code is not None:
        proven["shareCode"] = credit.share_code
    if credit.sharer_member_id is not None:
        proven["sharerMemberId"] = to_global_id("Member", credit.sharer_member_id)
    if credit.guide_id is not None:
        proven["guideId"] = to_global_id("Staff", credit.guide_id)
    if credit.refused is not None:
        proven[REFUSED_KEY] = credit.refused
    return proven


def check_vouched(draft: Draft, claimed: dict[str, Any]) -> None:
    """After every participant's prepare: a room or group the buyer named that no loaded
    component checked is refused rather than stored on the buyer's word."""
    for key in VOUCHED_KEYS:
        if claimed.get(key) is not None and key in draft.source and key not in draft.vouched:
            raise DomainError("ORDERS_UNKNOWN_SOURCE", f"This brand has nothing that source.{key} can name.", field=f"input.source.{key}")


def _id(value: Any, type_name: str, field: str) -> int | None:
    return decode_id(str(value), type_name, field=field) if value is not None else None
