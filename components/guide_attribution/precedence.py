"""The one precedence that decides whom an order is credited to (pure: fast tests, no database).

The order, strongest claim first (issue 23):

1. ``GUIDE_PLACED`` — a guide placed the order for the member (代客下单, ``placeOrderForCustomer``);
2. ``SHARE_CODE`` — the order carries a proven share code (or a checked ``guideId``): the
   sharer member or guide it names;
3. ``LIVE_ROOM_SHARER`` — a live-room order of a viewer who joined the room through someone's
   code: that sharer or guide;
4. ``BOUND_GUIDE`` — the member's bound guide (and the binding's store);
5. ``PICKUP_STORE`` — the store the order is picked up at, crediting the store only;
6. ``NONE`` — nothing above applies.

A code whose credit was refused (the buyer's own code, a guide who left) is no claim at all:
the next rule decides. The store credited with a guide is the store the guide was bound with
(``BOUND_GUIDE``) or the guide's first store; without either, the pickup store.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Reason(enum.Enum):
    GUIDE_PLACED = "guide_placed"
    SHARE_CODE = "share_code"
    LIVE_ROOM_SHARER = "live_room_sharer"
    BOUND_GUIDE = "bound_guide"
    PICKUP_STORE = "pickup_store"
    NONE = "none"


@dataclass(frozen=True)
class Claims:
    """Everything the server proved about an order, as plain ids."""

    placed_by_guide: int | None = None
    code_guide: int | None = None  # the order's own proven guide (code or checked guideId)
    code_sharer: int | None = None  # the order's own proven sharer member
    room_guide: int | None = None  # whoever the viewer joined the live room through
    room_sharer: int | None = None
    bound_guide: int | None = None
    bound_store: int | None = None
    pickup_store: int | None = None


@dataclass(frozen=True)
class Credit:
    reason: Reason
    guide_id: int | None = None
    sharer_member_id: int | None = None
    store_id: int | None = None


def attribute(claims: Claims, guide_store: dict[int, int | None]) -> Credit:
    """The credit for an order. ``guide_store`` maps each guide named in ``claims`` to the
    store a guide's sale counts for (their first store), None for a guide without one."""

    def with_guide(reason: Reason, guide: int | None, sharer: int | None = None) -> Credit:
        store = guide_store.get(guide) if guide is not None else None
        return Credit(reason, guide, sharer, store if store is not None else claims.pickup_store)

    if claims.placed_by_guide is not None:
        return with_guide(Reason.GUIDE_PLACED, claims.placed_by_guide)
    if claims.code_guide is not None or claims.code_sharer is not None:
        return with_guide(Reason.SHARE_CODE, claims.code_guide, claims.code_sharer)
    if claims.room_guide is not None or claims.room_sharer is not None:
        return with_guide(Reason.LIVE_ROOM_SHARER, claims.room_guide, claims.room_sharer)
    if claims.bound_guide is not None or claims.bound_store is not None:
        store = claims.bound_store
        if store is None and claims.bound_guide is not None:
            store = guide_store.get(claims.bound_guide)
        return Credit(Reason.BOUND_GUIDE, claims.bound_guide, None, store if store is not None else claims.pickup_store)
    if claims.pickup_store is not None:
        return Credit(Reason.PICKUP_STORE, store_id=claims.pickup_store)
    return Credit(Reason.NONE)
