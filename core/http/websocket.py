"""graphql-transport-ws, answering every client mistake on the wire instead of crashing.

strawberry's handler trusted the ``subscribe`` message's shape (``query: null`` or a list of
``variables`` became an internal error), closed the whole socket for one operation's syntax error, and
a message too deep for ``json.loads`` dropped the socket without a close frame. Here:

- a ``subscribe`` whose payload is malformed, or whose variables hold control characters,
  gets an ``error`` message for its id, with the reason; the connection stays open;
- errors before execution (syntax, validation, limits) are that operation's ``error``;
- a frame that is not JSON, too deep or too big closes the socket with 4400 and a reason
  (uvicorn closes frames over ``DOUGONG_MAX_WS_MESSAGE_BYTES`` with 1009).
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.fastapi.router import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, _OperationStreamClosed
from strawberry.utils.aio import aclosing

from core.errors import INTERNAL
from core.http.json_guard import BadRequest, check_text

MAX_OPERATION_ID = 128

log = logging.getLogger("dougong.websocket")


class GuardedWebSocketAdapter(ASGIWebSocketAdapter):
    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> Any:
        frames = super().iter_json(ignore_parsing_errors=ignore_parsing_errors)
        try:
            while True:
                try:
                    message = await frames.__anext__()
                except StopAsyncIteration:
                    return
                except BadRequest as refused:
                    self.refused = refused.message
                    raise NonJsonMessageReceived() from refused
                yield message
        finally:
            await frames.aclose()


def subscribe_problem(message: dict[str, Any]) -> str | None:
    """Why a ``subscribe`` message cannot run, or None."""
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "The subscribe message's payload must be an object."
    if not isinstance(payload.get("query"), str):
        return "The subscribe message's payload.query must be a string."
    if not isinstance(payload.get("variables"), (dict, type(None))):
        return "The subscribe message's payload.variables must be an object or null."
    if not isinstance(payload.get("operationName"), (str, type(None))):
        return "The subscribe message's payload.operationName must be a string or null."
    if not isinstance(payload.get("extensions"), (dict, type(None))):
        return "The subscribe message's payload.extensions must be an object or null."
    try:
        check_text(payload.get("variables"))
    except BadRequest as refused:
        return refused.message
    return None


class GuardedTransportWSHandler(BaseGraphQLTransportWSHandler):
    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.handle_invalid_message("A message must be a JSON object with a type.")
            return
        await super().handle_message(message)  # type: ignore[arg-type]  # a checked dict; the base types it as its TypedDicts

    async def handle_invalid_message(self, error_message: str) -> None:
        refused = getattr(self.websocket, "refused", None)
        await super().handle_invalid_message(refused or error_message)

    async def handle_subscribe(self, message: Any) -> None:
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id or len(operation_id) > MAX_OPERATION_ID:
            await self.handle_invalid_message(f"A subscribe message needs an id: a string of 1 to {MAX_OPERATION_ID} characters.")
            return
        problem = subscribe_problem(message)
        if problem is not None and self.connection_acknowledged and operation_id not in self.operations:
            await self.send_message(
                {"id": operation_id, "type": "error", "payload": [{"message": problem, "extensions": {"code": "KERNEL_BAD_REQUEST"}}]}
            )
            return
        await super().handle_subscribe(message)

    async def _handle_pre_execution_error(self, operation: Any, result: Any) -> None:
        # One operation's syntax error is that operation's error, not the connection's end:
        # the socket carries the client's other subscriptions.
        await operation.send_initial_errors(result.errors)

    async def run_operation(self, operation: Any) -> None:
        """strawberry's, except that an error raised before the stream starts (a syntax
        error, a limit's refusal) is the operation's ``error`` message rather than a bare
        ``complete`` with a traceback in the log."""
        await self.guard_operation(operation, self.stream_alone(operation))

    async def open_stream(self, operation: Any) -> Any:
        """The operation's result stream, executed for this connection alone."""
        return await self.schema.stream(
            operation.query,
            variable_values=operation.variables,
            context_value=self.context,
            root_value=self.root_value,
            operation_name=operation.operation_name,
        )

    async def stream_alone(self, operation: Any) -> None:
        result_source = await self.open_stream(operation)
        async with aclosing(result_source):
            await self._send_result_stream(operation, result_source)
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def guard_operation(self, operation: Any, work: Any) -> None:
        """Await ``work`` (the operation's whole run), answering what it raises on the wire."""
        try:
            await work
        except _OperationStreamClosed:
            return
        except GraphQLError as error:
            await operation.send_initial_errors([error])
        except Exception:
            log.exception("subscription %s failed", operation.id)
            await operation.send_initial_errors([GraphQLError("Internal error; it has been logged.", extensions={"code": INTERNAL})])
        finally:
            self.operations.pop(operation.id, None)
