"""Refusals answered before GraphQL runs: the flash crowd's own ASGI layer (issue 26).

When 2,000 members press "buy" on 100 units, 1,900 of them get the same answer: sold out.
Decided from memory (``components/flash_sale/early.py``), that answer still cost each of
them FastAPI's routing and dependencies, strawberry's request pipeline and graphql-core's
mutation execution — ~1.3 ms of the ~2.4 ms a refused buyer cost the server, and the whole
crowd's p99 is the sum of what its requests cost.

A component declares a mutation whose refusals it can decide without writing
(``registrar.early_refusal(field, refuse)``). For ``POST`` to a brand's GraphQL path, signed in
(``Authorization``) with a JSON body, this layer:

1. parses and validates the document exactly as the schema does (graphql-core's rules and
   the kernel's own: depth, aliases, control characters, tokens; kept per document text);
   only a document with one operation, a mutation of one declared field, no directives,
   goes on;
2. coerces the variables and the field's arguments as graphql-core does;
3. reads the caller from the database as every request does, on the request's session (a
   request that goes on takes that context along: the caller is not read twice);
4. asks the component's ``refuse(ctx, arguments)``; a payload means refused, and graphql-core
   completes that payload with the document's own selection (the resolvers of its fields,
   the same serialisers), answered as the router answers (``{"data": …}``, the same bytes).

Anything else — no declared field, an invalid document or variables, a token the normal path
would refuse, ``refuse`` returning None or raising, an error while completing — goes on to the
routes with the body handed on unchanged, where the mutation runs as always. The answer is
the one the resolver would have given: ``tests/components/flash_sale/test_early_refusal.py``
compares both byte for byte. ``DOUGONG_EARLY_REFUSALS=0`` turns the layer off.

A component may also keep a queue (``early_refusal(..., queue=)``): the request holds it from
before ``refuse`` is asked until its answer is sent, the mutation included — flash_sale's
buyers of one item on SQLite, so a crowd fired at once meets the sold-out memo here instead of
all running GraphQL to the writer before the first winner commits.
"""

from __future__ import annotations

import contextlib
import logging
import os
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from starlette.requests import HTTPConnection

from core import fast_json
from core.gql.cached_route import read_body, replay, send_json
from core.gql.context import Context
from core.gql.schema import MAX_TOKENS

log = logging.getLogger("dougong.graphql.early")

# A request that goes on to the routes takes its context along under this scope key: the
# router's context getter uses it instead of reading the caller from the database again.
HANDED_OVER = "dougong.context"
MAX_DOCUMENTS = 256  # per kernel: a client sending ever new documents must not grow memory
MAX_BODY = 64 * 1024  # a buy request is a few hundred bytes; larger bodies go the usual way
_NOT_EARLY = object()


class _Plan:
    __slots__ = ("document", "field_def", "field_node", "name", "operation", "queue", "refuse")

    def __init__(self, document: DocumentNode, operation: OperationDefinitionNode, field_node: FieldNode, field_def: Any, claimed: Any) -> None:
        self.document, self.operation, self.field_node, self.field_def = document, operation, field_node, field_def
        self.refuse, self.queue = claimed
        self.name = operation.name.value if operation.name else None


class EarlyRefusals:
    """ASGI middleware; ``kernels`` maps a GraphQL path to its brand's kernel."""

    enabled = os.environ.get("DOUGONG_EARLY_REFUSALS", "1") != "0"
    answered = 0  # requests refused here (the tests read it)

    def __init__(self, app: Any, kernels: dict[str, Any]) -> None:
        self.app = app
        self.kernels = {path: kernel for path, kernel in kernels.items() if kernel.contributions.early_refusals}
        self._plans: dict[int, dict[str, Any]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kernel = self.kernels.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if kernel is None or not self.enabled or not _signed_in_json(scope["headers"]):
            await self.app(scope, receive, send)
            return
        body, message = await read_body(receive)
        prepared = None
        if message is None and len(body) <= MAX_BODY:
            try:
                prepared = await self._prepare(kernel, scope, body)
            except Exception:  # noqa: BLE001 - the routes answer instead, as they always did
                log.debug("early refusal skipped", exc_info=True)
        if prepared is None:
            await self.app(scope, replay(body, message, receive), send)
            return
        plan, context, arguments, variables = prepared
        # The component's queue, if it keeps one: its buyers go one at a time from here to their
        # answer, so those behind a sell-out meet the refusal here instead of all running
        # GraphQL to the writer first. No pooled connection is held while waiting in it.
        queue = None
        try:
            queue = plan.queue(context, arguments) if plan.queue is not None else None
            if queue is not None:
                await context.reset_session()  # reopened by whatever reads after the wait
        except Exception:  # noqa: BLE001 - no queue then; the refusal is still asked
            log.debug("early refusal queue skipped", exc_info=True)
        async with queue if queue is not None else contextlib.nullcontext():
            answer = None
            hand_over = True
            try:
                answer = await self._refuse(kernel, plan, context, arguments, variables)
            except Exception:  # noqa: BLE001 - the routes answer instead, reading the caller again
                log.debug("early refusal skipped", exc_info=True)
                await context.close()
                hand_over = False
            if answer is None:
                if hand_over:
                    scope[HANDED_OVER] = context  # the mutation runs with this caller, read once
                try:
                    await self.app(scope, replay(body, message, receive), send)
                finally:
                    unused = scope.pop(HANDED_OVER, None)  # the routes never asked for it
                    if unused is not None:
                        await unused.close()
                return
            await context.close()
            EarlyRefusals.answered += 1
            await send_json(send, answer)

    async def _prepare(self, kernel: Any, scope: Any, body: bytes) -> tuple[_Plan, Context, dict, dict] | None:
        """The plan, the caller's context and the arguments, when this request is one for an
        early refusal; else None (the routes take it, nothing was read)."""
        request = fast_json.loads(body)
        if not isinstance(request, dict):
            return None
        variables = request.get("variables") or {}
        if not isinstance(variables, dict):
            return None
        text = kernel.trusted_documents.resolve(request.get("query"), request.get("extensions"))
        if not isinstance(text, str):
            return None
        plan = self._plan(kernel, text)
        if plan is None or request.get("operationName") not in (None, plan.name):
            return None
        schema = kernel.schema._schema
        coerced = get_variable_values(schema, plan.operation.variable_definitions or (), variables, max_errors=1)
        if isinstance(coerced, list):  # the variables do not fit: the routes say how
            return None
        arguments = get_argument_values(plan.field_def, plan.field_node, coerced)
        from core.app import actor_from_connection  # the app imports this module

        context = Context(kernel)
        try:
            context.actor = await actor_from_connection(kernel, HTTPConnection(scope), context)
        except BaseException:
            await context.close()  # the routes read the caller again, and refuse the token themselves
            raise
        return plan, context, arguments, variables

    async def _refuse(self, kernel: Any, plan: _Plan, context: Context, arguments: dict, variables: dict) -> bytes | None:
        """The refusal's answer, completed with the document's selection; None to run the mutation."""
        payload = await plan.refuse(context, arguments)
        if payload is None:
            return None
        result = execute(
            kernel.schema._schema,
            plan.document,
            context_value=context,
            variable_values=variables,
            operation_name=plan.name,
            middleware=[_answer_root_with(payload)],
        )
        if isawaitable(result):
            result = await result
        if result.errors or result.data is None:  # type: ignore[union-attr]  # an ExecutionResult by now
            return None
        return fast_json.dumps({"data": result.data})  # type: ignore[union-attr]

    def _plan(self, kernel: Any, text: str) -> _Plan | None:
        plans = self._plans.setdefault(id(kernel), {})
        plan = plans.get(text, _NOT_EARLY if text in plans else None)
        if plan is None:
            plan = _compile(kernel, text)
            if len(plans) >= MAX_DOCUMENTS:
                plans.pop(next(iter(plans)))
            plans[text] = plan if plan is not None else _NOT_EARLY
        return None if plan is _NOT_EARLY else plan


def _signed_in_json(headers: Any) -> bool:
    """Only members and staff can be refused a mutation by a component; the rest go the usual way."""
    signed_in = json = False
    for name, value in headers:
        if name == b"authorization":
            signed_in = True
        elif name == b"content-type" and not json:
            json = value.startswith(b"application/json")
    return signed_in and json


def _compile(kernel: Any, text: str) -> _Plan | None:
    """The document's plan if it is one mutation of one field with an early refusal, valid by
    every rule the schema applies; else None."""
    schema = kernel.schema._schema
    try:
        document = parse(text, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None
    if validate(schema, document, (*specified_rules, *kernel.schema.extra_validation_rules)):
        return None
    if len(document.definitions) != 1 or not isinstance(document.definitions[0], OperationDefinitionNode):
        return None
    operation = document.definitions[0]
    if operation.operation is not OperationType.MUTATION or operation.directives:
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode) or selections[0].directives:
        return None
    field_node = selections[0]
    claimed = kernel.contributions.early_refusals.get(field_node.name.value)
    mutation_type = schema.mutation_type
    if claimed is None or mutation_type is None:
        return None
    return _Plan(document, operation, field_node, mutation_type.fields[field_node.name.value], claimed.value)


def _answer_root_with(payload: Any) -> Any:
    """graphql-core middleware: the root field's value is the refusal's payload; every field
    below it resolves as usual."""

    def middleware(next_: Any, root: Any, info: Any, **arguments: Any) -> Any:
        if info.path.prev is None:
            return payload
        return next_(root, info, **arguments)

    return middleware
