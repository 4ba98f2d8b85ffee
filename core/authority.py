"""Who the caller is *now*: the token says who signed in, the database says what they may do.

A bearer token lives for days; a clerk moved to another store, a host whose role was taken
away or an admin who left must lose those rights on their very next request. So the claims a
token carries are only a *claim*: on every request (once, with one statement) the kernel asks
the component answering ``dougong_authority`` (members) for the caller as its tables have them
now — roles, stores, active — and refuses a token whose person no longer exists or is
inactive. A change is also published on :data:`CHANNEL` so that open websockets re-read the
caller (or close, for someone deactivated) without waiting for a reconnect.

A blueprint without a people directory (a catalog-only sandbox) has no staff table to read;
there the token's signed claims are all there is, and they are used as signed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from core.auth import ANONYMOUS, Actor

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.kernel import Kernel
    from core.transaction import Transaction

log = logging.getLogger("dougong.authority")

CHANNEL = "kernel.authority"


class Directory(Protocol):
    """What ``dougong_authority`` returns."""

    async def current(self, session: AsyncSession, claimed: Actor) -> Actor:
        """The caller as the database has them now; raise :class:`~core.auth.TokenError`
        (reason ``TOKEN_UNKNOWN_SUBJECT`` or ``STAFF_INACTIVE``) when there is no such person."""


async def current_actor(kernel: Kernel, claimed: Actor, session: AsyncSession | None = None) -> Actor:
    """``claimed`` (decoded from a token) checked against the database; raises TokenError."""
    directory = kernel.authority
    if directory is None or claimed is ANONYMOUS or claimed.kind == "anonymous":
        return claimed
    if session is not None:
        return await directory.current(session, claimed)
    own = kernel.db.request_session()  # inline on SQLite (core.inline_reads)
    try:
        return await directory.current(own, claimed)
    finally:
        await own.close()


def changed(tx: Transaction, actor_kind: str, actor_id: int) -> None:
    """Tell open connections (in every process, after commit) that this person's rights changed."""
    tx.publish(CHANNEL, {"kind": actor_kind, "id": actor_id})


def concerns(message: Any, actor: Actor) -> bool:
    return isinstance(message, dict) and message.get("kind") == actor.kind and message.get("id") == actor.id
