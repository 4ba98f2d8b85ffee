"""Subscription fan-out: one execution and one serialisation per event, written to every socket.

strawberry runs a subscription per subscriber: a thousand viewers of one room meant a
thousand broadcast queues, a thousand generator resumptions, a thousand executions of the
same selection and a thousand ``json.dumps`` of the same answer for every comment. Here,
subscribers whose operation is *shareable* (see :mod:`core.gql.fanout_rules`: the answer
cannot depend on the viewer) and whose (document, operation name, variables) are equal form
one :class:`Group`:

- the group's **leader** runs the subscription once, as an anonymous caller, and for every
  event encodes ``{"data": …}`` once; each member's frame is that shared text wrapped in the
  member's own ``{"id": …, "type": "next", "payload": …}`` — a string concatenation;
- a member's **first payload is its own**: it joins the group (from then on the group's
  events are kept for it), then runs the subscription itself for its first result (a room's
  SNAPSHOT, read after joining, as a lone subscriber reads it after subscribing) and closes
  that stream; then the kept events follow, then the live ones;
- a **slow socket blocks nobody**: the leader only appends to each member's queue; the
  member's own task writes. A member ``queue_limit`` frames behind is dropped from the group
  and its operation ends with an ``error`` (``KERNEL_SUBSCRIPTION_BEHIND``): its next shared
  payload could not say that it missed some (``stream.gap`` is the group's), so the client
  subscribes again and gets a fresh snapshot. The socket and its other operations stay open.

Whatever the group cannot answer — a document that is not shareable, a leader whose first
result is an error, a stream that ends at once — takes strawberry's ordinary per-subscriber
path, so errors read exactly as before. ``DOUGONG_WS_SHARED_FANOUT=0`` turns sharing off (the
benchmark's lever).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import OrderedDict
from typing import Any

from graphql import GraphQLError, parse
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from core.auth import ANONYMOUS
from core.errors import INTERNAL
from core.gql.context import Context
from core.gql.fanout_rules import shareable

log = logging.getLogger("dougong.fanout")

QUEUE_LIMIT = 256  # frames a member may fall behind before its operation ends
PLAN_CACHE = 256  # distinct documents whose shareability is remembered
MAX_PLAN_TOKENS = 5000  # as core.gql.schema.MAX_TOKENS: a longer document is refused there anyway
BEHIND = "KERNEL_SUBSCRIPTION_BEHIND"

_END = object()  # the group's stream ended: complete
_FAILED = object()  # the leader failed unexpectedly: a KERNEL_INTERNAL error
_LAGGED = object()  # this member fell behind: KERNEL_SUBSCRIPTION_BEHIND


def sharing_enabled() -> bool:
    return os.environ.get("DOUGONG_WS_SHARED_FANOUT", "1") != "0"


def encode_payload(result: ExecutionResult) -> str:
    """A ``next`` message's payload as strawberry's ``send_next`` builds it, encoded once."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return json.dumps(payload, separators=(",", ":"))


class Member:
    """One subscriber's operation in a group: its frame prefix and its bounded queue."""

    __slots__ = ("group", "limit", "prefix", "queue")

    def __init__(self, operation_id: str, limit: int = QUEUE_LIMIT) -> None:
        self.prefix = '{"id":' + json.dumps(operation_id) + ',"type":"next","payload":'
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.limit = limit
        self.group: Group | None = None

    def frame(self, payload: str) -> str:
        return self.prefix + payload + "}"

    def push(self, payload: str) -> None:
        if self.queue.qsize() >= self.limit:
            self._lag()
            return
        self.queue.put_nowait(payload)

    def _lag(self) -> None:
        if self.group is not None:
            self.group.hub.lagged += 1
            self.group.leave(self)
        while not self.queue.empty():  # what it has not read yet it will never read
            self.queue.get_nowait()
        self.queue.put_nowait(_LAGGED)


class Group:
    """Subscribers sharing one execution of (document, operation name, variables)."""

    def __init__(
        self, hub: FanOut, key: tuple[str, str | None, str], query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> None:
        self.hub = hub
        self.key = key
        self.query = query
        self.variables = variables
        self.operation_name = operation_name
        self.members: dict[Member, None] = {}  # ordered: frames go out in joining order
        self.ready = asyncio.Event()  # the leader streams (live) or gave up (not live)
        self.live = False
        self.closed = False
        self.executions = 0
        self.task: asyncio.Task | None = None

    def join(self, member: Member) -> None:
        member.group = self
        self.members[member] = None

    def leave(self, member: Member) -> None:
        member.group = None
        self.members.pop(member, None)
        if not self.members and not self.closed:
            self._close()
            if self.task is not None:
                self.task.cancel()  # nobody listens: stop the leader and its broadcast subscription

    def _close(self) -> None:
        self.closed = True
        self.ready.set()
        if self.hub.groups.get(self.key) is self:
            del self.hub.groups[self.key]

    def deliver(self, payload: str) -> None:
        """One event's shared payload to every member's queue; never waits on a socket."""
        self.executions += 1
        self.hub.executions += 1
        for member in list(self.members):
            member.push(payload)

    def start(self) -> None:
        self.task = asyncio.create_task(self._lead(), name=f"fanout {self.key[1] or 'subscription'}")

    async def _lead(self) -> None:
        end: Any = _END
        context = Context(self.hub.kernel, ANONYMOUS)
        try:
            stream = await self.hub.kernel.schema.stream(
                self.query, variable_values=self.variables, context_value=context, operation_name=self.operation_name
            )
            async with aclosing(stream):
                first = True
                async for result in stream:
                    if first:
                        # The leader's own first payload (a snapshot) is nobody's: every member
                        # reads its own. An error here is left to each member's own path.
                        first = False
                        if isinstance(result, PreExecutionError) or not isinstance(result, ExecutionResult) or result.errors:
                            return
                        self.live = True
                        self.ready.set()
                        continue
                    payload = encode_payload(result) if isinstance(result, ExecutionResult) else None
                    if payload is None:
                        end = _FAILED
                        return
                    self.deliver(payload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the shared subscription %s failed", self.key[1] or self.query[:80])
            end = _FAILED
        finally:
            was_live = self.live
            if not self.closed:
                self._close()
            if was_live:
                for member in list(self.members):
                    member.group = None
                    member.queue.put_nowait(end)
                self.members.clear()


class FanOut:
    """A kernel's subscription groups, and which documents may join one."""

    def __init__(self, kernel: Any, queue_limit: int = QUEUE_LIMIT) -> None:
        self.kernel = kernel
        self.queue_limit = queue_limit
        self.groups: dict[tuple[str, str | None, str], Group] = {}
        self._plans: OrderedDict[tuple[str, str | None], bool] = OrderedDict()
        self.executions = 0  # shared executions, every group together (tests count them)
        self.lagged = 0  # members dropped for falling behind

    def shareable(self, query: str, operation_name: str | None) -> bool:
        key = (query, operation_name)
        known = self._plans.get(key)
        if known is not None:
            self._plans.move_to_end(key)
            return known
        try:
            document = parse(query, max_tokens=MAX_PLAN_TOKENS)
            answer = shareable(self.kernel.schema._schema, document, operation_name)
        except (GraphQLError, RecursionError):
            answer = False  # strawberry reports the mistake on the subscriber's own path
        self._plans[key] = answer
        while len(self._plans) > PLAN_CACHE:
            self._plans.popitem(last=False)
        return answer

    def group_for(self, query: str, variables: dict[str, Any] | None, operation_name: str | None) -> Group:
        key = (query, operation_name, json.dumps(variables or {}, sort_keys=True, separators=(",", ":")))
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(self, key, query, variables, operation_name)
            group.start()
        return group


def figures(kernel: Any) -> tuple[int, int, int]:
    """(groups now, shared executions, members dropped behind) for ``/metrics``."""
    hub = getattr(kernel, "_fanout", None)
    return (len(hub.groups), hub.executions, hub.lagged) if hub is not None else (0, 0, 0)


def hub_for(kernel: Any) -> FanOut | None:
    """The kernel's fan-out, made on first use; None when sharing is switched off."""
    hub = getattr(kernel, "_fanout", None)
    if hub is None:
        if not sharing_enabled():
            return None
        hub = kernel._fanout = FanOut(kernel)
    return hub


async def run_shared(handler: Any, hub: FanOut, operation: Any, alone: Any) -> None:
    """Run ``operation`` as a member of its group; ``alone(operation)`` is the ordinary path.
    The handler's ``guard_operation`` answers what this raises and forgets the operation."""
    member = Member(operation.id, hub.queue_limit)
    group = hub.group_for(operation.query, operation.variables, operation.operation_name)
    group.join(member)
    try:
        await group.ready.wait()
        if not group.live and member.queue.empty():
            group.leave(member)
            await alone(operation)
            return
        if not await _own_first_result(handler, operation):
            return
        await _write(handler, operation, member)
    finally:
        if member.group is not None:
            member.group.leave(member)


async def _own_first_result(handler: Any, operation: Any) -> bool:
    """Send this subscriber's own first payload; False when its operation is over already."""
    source = await handler.open_stream(operation)
    async with aclosing(source):
        async for result in source:
            if isinstance(result, PreExecutionError):
                await handler._handle_pre_execution_error(operation, result)
                return False
            if not isinstance(result, ExecutionResult):
                await handler._reject_incremental_delivery(operation)
                return False
            await operation.send_next(result)
            if not result.errors:
                return True
            # A refusal or a failed read: its stream goes on (or ends) as it would alone.
            await handler._send_result_stream(operation, source)
            break
    await operation.send_operation_message({"id": operation.id, "type": "complete"})
    return False


async def _write(handler: Any, operation: Any, member: Member) -> None:
    send = handler.websocket.ws.send_text
    queue = member.queue
    while True:
        item = await queue.get()
        if item is _END:
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
            return
        if item is _LAGGED or item is _FAILED:
            error = (
                {
                    "message": f"This subscriber fell {member.limit} messages behind; subscribe again for a fresh snapshot.",
                    "extensions": {"code": BEHIND},
                }
                if item is _LAGGED
                else {"message": "Internal error; it has been logged.", "extensions": {"code": INTERNAL}}
            )
            await operation.send_operation_message({"id": operation.id, "type": "error", "payload": [error]})
            return
        with contextlib.suppress(Exception):
            await send(member.frame(item))
            continue
        return  # the socket is gone: strawberry's handler ends the connection's operations
