"""The per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from core.auth import ANONYMOUS, Actor
from core.errors import NotAuthenticated, NotAuthorized
from core.gql.loader import BatchLoader
from core.inline_reads import InlineSession

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel


class SerialSession:
    """The request's read session, safe for concurrently resolved fields.

    GraphQL resolves sibling fields concurrently, but an AsyncSession allows one operation
    at a time. Queueing them on a lock keeps one connection per request (DataLoaders already
    batch, so there are few statements to queue)."""

    _SERIALISED = ("execute", "scalar", "scalars", "get", "stream", "stream_scalars")

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._lock = asyncio.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._session, name)
        if name not in self._SERIALISED:
            return attribute

        async def serialised(*args: Any, **kwargs: Any) -> Any:
            async with self._lock:
                return await attribute(*args, **kwargs)

        return serialised

    async def close(self) -> None:
        async with self._lock:
            await self._session.close()


class Context(BaseContext):
    def __init__(self, kernel: Kernel, actor: Actor = ANONYMOUS) -> None:
        super().__init__()
        self.kernel = kernel
        self.actor = actor
        self._session: SerialSession | InlineSession | None = None
        self._release: Any = None  # closes a session handed over by a committed mutation
        self._handed_over: tuple[AsyncSession, Any] | None = None
        self._loaders: dict[str, BatchLoader] = {}
        self.cacheable = False  # set when the operation ends: a query answered without errors

    # -- storage -------------------------------------------------------------------------------
    async def session(self) -> AsyncSession:
        """The request's read session, opened on first use and closed when the request ends."""
        if self._session is None:
            session = self.kernel.db.request_session()
            # An inline (SQLite) session finishes each call before the next starts: no lock needed.
            self._session = session if isinstance(session, InlineSession) else SerialSession(session)
        return self._session  # type: ignore[return-value]  # an AsyncSession in all but name

    async def reset_session(self) -> None:
        if self._session is not None:
            session, release, self._session, self._release = self._session, self._release, None, None
            self._loaders.clear()  # cached rows may predate the write
            await session.close()
            if release is not None:
                await release()

    def adopt_session(self, session: AsyncSession, release: Any) -> None:
        """Keep a committed mutation's own session and connection to read the rest of the
        request on (see ``Kernel.transaction(hand_over=...)``); ``release`` frees them."""
        self._handed_over = (session, release)

    async def after_write(self) -> None:
        """A write ended: forget what was read before it, and read on from the session the
        write handed over, if it did (no new connection needed for the payload)."""
        await self.reset_session()
        handed_over, self._handed_over = self._handed_over, None
        if handed_over is not None:
            self._session = SerialSession(handed_over[0])
            self._release = handed_over[1]

    async def close(self) -> None:
        await self.reset_session()

    def loader(self, name: str) -> BatchLoader:
        loader = self._loaders.get(name)
        if loader is None:
            claimed = self.kernel.contributions.dataloaders.get(name)
            if claimed is None:
                raise LookupError(f"no loaded component offers the dataloader {name!r}")
            batch = claimed.value

            async def load(keys: list[Any], _batch=batch) -> list[Any]:
                return await _batch(self, keys)

            loader = self._loaders[name] = BatchLoader(load)
        return loader

    # -- who may do what ----------------------------------------------------------------------
    def can(self, permission: str) -> bool:
        perm = self.kernel.contributions.permissions.get(permission)
        if perm is None:
            raise LookupError(f"permission {permission!r} was never declared")
        return self.actor.is_staff and (self.actor.is_admin or any(r in self.actor.roles for r in perm.roles))

    def require(self, permission: str) -> None:
        if self.actor.kind == "anonymous":
            raise NotAuthenticated()
        if not self.can(permission):
            raise NotAuthorized(f"You need the permission {permission!r}.")

    def require_member(self) -> int:
        if self.actor.kind == "anonymous":
            raise NotAuthenticated("Sign in as a member first.")
        if not self.actor.is_member or self.actor.id is None:
            raise NotAuthorized("Only members can do this.")
        return self.actor.id

    def require_staff(self) -> Actor:
        if self.actor.kind == "anonymous":
            raise NotAuthenticated("Sign in as staff first.")
        if not self.actor.is_staff:
            raise NotAuthorized("Only staff can do this.")
        return self.actor
