"""Websocket subscriptions: the token where clients send it, and rights that follow the database.

graphql-ws clients (Apollo, urql, ``graphql-ws``) cannot set headers on a browser websocket;
they send the token in the ``connection_init`` message's payload. We honour
``Authorization`` / ``authorization`` (``Bearer <jwt>`` or the bare token) and ``token``
there. A token that does not check out closes the socket with **4401** and a reason code
(``KERNEL_UNAUTHENTICATED TOKEN_EXPIRED``) — never a silent downgrade to anonymous, which
would leave a signed-in screen streaming a stranger's view.

Once acknowledged, a signed-in connection listens on :data:`core.authority.CHANNEL`: when
the person's rights change, the connection re-reads them (the subscriptions' next events
use the new ones), and a deactivated or deleted person's socket closes with 4401, which ends
every open subscription on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from core import authority
from core.auth import TokenError
from core.gql import fanout
from core.http.websocket import GuardedTransportWSHandler

log = logging.getLogger("dougong.websocket")

UNAUTHENTICATED_CLOSE = 4401
TOKEN_KEYS = ("Authorization", "authorization", "token")


class TokenRefused(Exception):
    """Raised from ``on_ws_connect``; the handler turns it into a 4401 close."""

    def __init__(self, error: TokenError) -> None:
        super().__init__(str(error))
        self.reason = error.reason


def close_reason(reason: str) -> str:
    return f"KERNEL_UNAUTHENTICATED {reason}"


def token_from_payload(payload: Any) -> str | None:
    """The token in a ``connection_init`` payload, or ``None`` when it carries none."""
    if not isinstance(payload, dict):
        return None
    for key in TOKEN_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            scheme, _, rest = value.strip().partition(" ")
            return rest.strip() if scheme.lower() == "bearer" and rest.strip() else value.strip()
    return None


async def connect(kernel: Any, context: Any) -> None:
    """``on_ws_connect``: sign the connection in with the payload's token, if it has one."""
    token = token_from_payload(getattr(context, "connection_params", None))
    if token is None:
        return  # anonymous, or signed in by the upgrade request (header or ?token=)
    try:
        claimed = kernel.tokens.decode(token)
        context.actor = await authority.current_actor(kernel, claimed)
    except TokenError as exc:
        raise TokenRefused(exc) from None


class _Guarded:
    """What both protocols' handlers share: 4401 on a refused token, and the rights watcher."""

    _watcher: asyncio.Task | None = None

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)  # type: ignore[misc]
        except TokenRefused as refused:
            await self.websocket.close(code=UNAUTHENTICATED_CLOSE, reason=close_reason(refused.reason))  # type: ignore[attr-defined]
            return
        if not getattr(self, "connection_acknowledged", True):
            return  # closed for another reason (a malformed payload, a second init)
        actor = self.context.actor  # type: ignore[attr-defined]
        if actor.kind != "anonymous" and self._watcher is None:
            self._watcher = asyncio.create_task(self._follow_rights())

    async def _follow_rights(self) -> None:
        context = self.context  # type: ignore[attr-defined]
        kernel = context.kernel
        try:
            async with kernel.broadcast.subscribe(authority.CHANNEL) as messages:
                async for message in messages:
                    if not authority.concerns(message, context.actor):
                        continue
                    try:
                        context.actor = await authority.current_actor(kernel, context.actor)
                    except TokenError as exc:
                        await self.websocket.close(code=UNAUTHENTICATED_CLOSE, reason=close_reason(exc.reason))  # type: ignore[attr-defined]
                        return
        except asyncio.CancelledError:
            raise
        except Exception:  # the database or Redis is down: the next request checks again anyway
            log.exception("following the rights of %s failed", context.actor.key)

    async def handle(self) -> None:
        try:
            await super().handle()  # type: ignore[misc]
        finally:
            if self._watcher is not None:
                self._watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._watcher


class TransportWSHandler(_Guarded, GuardedTransportWSHandler):
    """``graphql-transport-ws`` (the ``graphql-ws`` library, Apollo, urql): tokens and rights
    here, client mistakes answered on the wire by :class:`core.http.websocket.GuardedTransportWSHandler`.
    The older ``subscriptions-transport-ws`` protocol is not served."""

    async def run_operation(self, operation: Any) -> None:
        """A viewer-independent subscription joins its group (one execution and one encoding
        per event for every subscriber, see :mod:`core.gql.fanout`); anything else runs alone."""
        hub = fanout.hub_for(self.context.kernel)  # type: ignore[attr-defined]  # our Context
        if hub is None or not hub.shareable(operation.query, operation.operation_name):
            await super().run_operation(operation)
            return
        await self.guard_operation(operation, fanout.run_shared(self, hub, operation, self.stream_alone))
