"""A level-at-a-time executor for queries: the storefront's fast path.

(Over 400 lines on purpose: one executor, whose levels, completion of values and bail-outs
must be read together to see that it answers only what graphql-core would answer.)

graphql-core executes a query one field of one object at a time: for a page of 50 products
with 3 SKUs each that is ~1,800 resolver calls, each wrapped by strawberry (Info object,
argument conversion, extension chain) and each async one turned into its own task. Most of
those fields are plain attributes.

This executor walks the same document breadth-first instead: every field is resolved for
*all* objects of a level in one loop (a plain attribute is a ``getattr``; a field with a
resolver still goes through strawberry's own resolver wrapper, so arguments, permissions
and field extensions behave as always), the awaitables of a level are awaited together (so
DataLoaders batch exactly as before: one statement per relation), and values are completed
with the schema's own ``serialize``/``is_type_of``/``resolve_type``.

It only ever produces an answer when the answer has no errors. Anything it does not handle
(@defer/@stream, introspection fields, abstract types resolved asynchronously) and *any*
error — a resolver raising, a null in a non-null position — makes it give up, and the query
runs again through graphql-core, which then produces the usual data, errors, paths and
masking. Queries read and never write, and loaders cache per request, so running again
costs time but changes nothing observable. Mutations and subscriptions never come here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    OperationType,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.executor import Executor, default_field_resolver, default_type_resolver, to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from graphql.type.definition import is_abstract_type
from strawberry.extensions import SchemaExtension

from core.db import database_unavailable

log = logging.getLogger("dougong.graphql.fast")

BACKREF = "strawberry-definition"


class GiveUp(Exception):
    """The fast path cannot answer this query exactly; graphql-core will."""


def _is_awaitable(value: Any) -> bool:
    return hasattr(value, "__await__") and not isinstance(value, (str, bytes, Mapping))


class FieldPlan:
    """How to get one field's value from a source object, decided once per schema field."""

    __slots__ = ("attribute", "call", "field", "method", "resolve")

    def __init__(self, field_def: Any, middleware: Any) -> None:
        self.attribute: str | None = None
        self.method: Any = None
        self.call: Any = None  # (function, positional self?, root kwarg, info kwarg)
        self.field = (field_def.extensions or {}).get(BACKREF)
        strawberry_field = (field_def.extensions or {}).get(BACKREF)
        resolve = field_def.resolve or default_field_resolver
        if middleware is not None:
            resolve = middleware.get_field_resolver(resolve)
        self.resolve = resolve
        if strawberry_field is None or middleware_has_resolvers(middleware) or field_def.args:
            return
        if strawberry_field.extensions:
            return  # permission classes and field extensions run through strawberry's wrapper
        resolver = strawberry_field.base_resolver
        if resolver is None:
            if getattr(strawberry_field, "default_resolver", getattr) is getattr:
                self.attribute = strawberry_field.python_name  # a leaf read as a plain attribute
            return
        # A relation without arguments (`async def skus(self, info)`, `def stock(root, info)`):
        # called directly with one strawberry Info per level, as strawberry would call it.
        params = resolver.signature.parameters
        reserved = [
            p for p in (resolver.self_parameter, resolver.root_parameter, resolver.parent_parameter, resolver.info_parameter) if p is not None
        ]
        if not resolver.arguments and len(params) == len(reserved) and resolver.parent_parameter is None:
            self.call = (
                resolver.wrapped_func,
                resolver.self_parameter is not None,
                resolver.root_parameter.name if resolver.root_parameter is not None else None,
                resolver.info_parameter.name if resolver.info_parameter is not None else None,
            )
        # `def id(self) -> ID`: sync, nothing but self — call the function itself.
        if (
            not resolver.is_async
            and not resolver.arguments
            and resolver.info_parameter is None
            and resolver.root_parameter is None
            and resolver.parent_parameter is None
            and resolver.self_parameter is not None
            and len(resolver.signature.parameters) == 1
        ):
            self.method = resolver.wrapped_func


def middleware_has_resolvers(middleware: Any) -> bool:
    return bool(middleware is not None and getattr(middleware, "_middleware_resolvers", None))


class LevelExecutor:
    def __init__(self, executor: Executor, plans: dict[int, tuple[Any, FieldPlan]], info_class: Any) -> None:
        self.executor = executor
        self.info_class = info_class
        self.schema = executor.schema
        self.plans = plans

    async def run(self) -> dict[str, Any]:
        ex = self.executor
        if ex.operation.operation is not OperationType.QUERY:
            raise GiveUp("not a query")
        root_type = self.schema.query_type
        if root_type is None:
            raise GiveUp("no query type")
        collected = collect_fields(self.schema, ex.fragments, ex.variable_values, root_type, ex.operation)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise GiveUp("@defer/@stream")
        [data] = await self.level(root_type, [ex.root_value], collected.grouped_field_set)
        return data

    def plan(self, field_def: Any) -> FieldPlan:
        # Keyed by id, holding the field itself: the id cannot be reused while the entry lives.
        entry = self.plans.get(id(field_def))
        if entry is None or entry[0] is not field_def:
            entry = self.plans[id(field_def)] = (field_def, FieldPlan(field_def, self.executor.middleware_manager))
        return entry[1]

    async def level(self, parent_type: GraphQLObjectType, sources: list[Any], grouped: Mapping[str, list]) -> list[dict]:
        results = [dict.fromkeys(grouped) for _ in sources]
        resolved: list[tuple[str, Any, list, list]] = []
        waiting: list[Any] = []
        slots: list[tuple[list, int]] = []
        for key, details in grouped.items():
            first = details[0]
            if first.defer_usage is not None or first.fragment_variable_values is not None:
                raise GiveUp("fragment arguments / defer")
            node = first.node
            name = node.name.value
            if name == "__typename":
                for result in results:
                    result[key] = parent_type.name
                continue
            if name.startswith("__"):
                raise GiveUp("introspection")
            field_def = parent_type.fields.get(name)
            if field_def is None:
                raise GiveUp(f"unknown field {name}")
            plan = self.plan(field_def)
            if plan.attribute is not None:
                values = [getattr(source, plan.attribute) for source in sources]
            elif plan.method is not None:
                values = [plan.method(source) for source in sources]
            else:
                # One info per field and level: resolvers read context, variables and the
                # selection from it; only error paths would differ, and errors never leave here.
                info = self.executor.build_resolve_info(field_def, to_nodes(details), parent_type, Path(None, key, parent_type.name))
                if plan.call is not None and not node.arguments:
                    function, positional, root_name, info_name = plan.call
                    kwargs = {info_name: self.info_class(_raw_info=info, _field=plan.field)} if info_name else {}
                    if positional:
                        values = [function(source, **kwargs) for source in sources]
                    elif root_name:
                        values = [function(**kwargs, **{root_name: source}) for source in sources]
                    else:
                        values = [function(**kwargs) for source in sources]
                else:
                    args = (
                        get_argument_values(field_def, node, self.executor.variable_values, None, False) if field_def.args or node.arguments else {}
                    )
                    resolve = plan.resolve
                    values = [resolve(source, info, **args) for source in sources]
                for index, value in enumerate(values):
                    if _is_awaitable(value):
                        waiting.append(value)
                        slots.append((values, index))
            resolved.append((key, field_def, details, values))
        if waiting:
            # Awaited together so that every DataLoader of this level dispatches one batch.
            done = await drive(waiting)
            for (values, index), value in zip(slots, done, strict=True):
                values[index] = value
        for key, field_def, details, values in resolved:
            completed = await self.complete(field_def.type, details, values)
            for result, value in zip(results, completed, strict=True):
                result[key] = value
        return results

    async def complete(self, return_type: Any, details: list, values: list[Any]) -> list[Any]:
        if isinstance(return_type, GraphQLNonNull):
            if any(value is None for value in values):
                raise GiveUp("null in a non-null position")
            completed = await self.complete(return_type.of_type, details, values)
            if any(value is None for value in completed):
                raise GiveUp("null in a non-null position")
            return completed
        if isinstance(return_type, GraphQLList):
            flat: list[Any] = []
            lengths: list[int | None] = []
            for value in values:
                if value is None:
                    lengths.append(None)
                    continue
                if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
                    raise GiveUp("not a list")
                items = list(value)
                if any(_is_awaitable(item) for item in items):
                    raise GiveUp("awaitable list items")
                lengths.append(len(items))
                flat.extend(items)
            done = await self.complete(return_type.of_type, details, flat) if flat else []
            out: list[Any] = []
            position = 0
            for length in lengths:
                if length is None:
                    out.append(None)
                else:
                    out.append(done[position : position + length])
                    position += length
            return out
        if isinstance(return_type, (GraphQLScalarType, GraphQLEnumType)):
            serialize = return_type.serialize
            out = []
            for value in values:
                if value is None:
                    out.append(None)
                    continue
                serialized = serialize(value)
                if serialized is Undefined or serialized is None:
                    raise GiveUp("leaf did not serialize")
                out.append(serialized)
            return out
        if is_abstract_type(return_type):
            return await self.complete_abstract(return_type, details, values)
        if isinstance(return_type, GraphQLObjectType):
            return await self.complete_objects(return_type, details, values)
        raise GiveUp(f"unexpected type {return_type}")

    async def complete_objects(self, object_type: GraphQLObjectType, details: list, values: list[Any]) -> list[Any]:
        present = [value for value in values if value is not None]
        if not present:
            return list(values)
        is_type_of = object_type.is_type_of
        if is_type_of is not None:
            info = self.executor.build_resolve_info(
                object_type.fields[next(iter(object_type.fields))], to_nodes(details), object_type, Path(None, "", object_type.name)
            )
            for value in present:
                check = is_type_of(value, info)
                if _is_awaitable(check) or not check:
                    if _is_awaitable(check):
                        check.close()  # type: ignore[union-attr]  # a coroutine never awaited
                    raise GiveUp("is_type_of")
        grouped = self.executor.collect_subfields(object_type, details)
        if grouped.new_defer_usages or grouped.forbidden_directive_instances:
            raise GiveUp("@defer/@stream")
        done = iter(await self.level(object_type, present, grouped.grouped_field_set))
        return [None if value is None else next(done) for value in values]

    async def complete_abstract(self, abstract_type: Any, details: list, values: list[Any]) -> list[Any]:
        resolve_type = abstract_type.resolve_type or default_type_resolver
        query_type = self.schema.query_type
        if query_type is None:
            raise GiveUp("no query type")
        info = self.executor.build_resolve_info(
            query_type.fields[next(iter(query_type.fields))],
            to_nodes(details),
            query_type,
            Path(None, "", abstract_type.name),
        )
        by_type: dict[str, list[int]] = {}
        for index, value in enumerate(values):
            if value is None:
                continue
            name = resolve_type(value, info, abstract_type)
            if not isinstance(name, str):
                if _is_awaitable(name):
                    name.close() if hasattr(name, "close") else None  # type: ignore[union-attr]  # a coroutine never awaited
                raise GiveUp("runtime type")
            by_type.setdefault(name, []).append(index)
        out = list(values)
        for name, indexes in by_type.items():
            runtime = self.schema.get_type(name)
            if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(abstract_type, runtime):
                raise GiveUp("runtime type")
            done = await self.complete_objects(runtime, details, [values[i] for i in indexes])
            for index, value in zip(indexes, done, strict=True):
                out[index] = value
        return out


async def drive(awaitables: list[Any]) -> list[Any]:
    """Run coroutines side by side without a task each (a task per field and object was
    most of graphql-core's cost): step every coroutine until it waits on a future, and step
    it again once that future is done, until all have returned. This is what asyncio.Task
    does for one coroutine; DataLoaders see the same interleaving (every load of a level is
    made before the batch is dispatched), and a coroutine waiting on another (a lock) makes
    progress because each is resumed as soon as its own future is done."""
    loop = asyncio.get_running_loop()
    results: list[Any] = [None] * len(awaitables)
    ready: list[tuple[int, Any]] = []
    pending = 0
    wake: list[Any] = [None]
    unfinished: dict[int, Any] = {}

    def resume_later(index: int, coroutine: Any, _future: Any = None) -> None:
        ready.append((index, coroutine))
        if wake[0] is not None and not wake[0].done():
            wake[0].set_result(None)

    def step(index: int, coroutine: Any) -> None:
        nonlocal pending
        try:
            waited = coroutine.send(None)
        except StopIteration as stop:
            results[index] = stop.value
            pending -= 1
            unfinished.pop(index, None)
            return
        unfinished[index] = coroutine
        if waited is None:  # a bare yield: resume after the loop has run once
            loop.call_soon(resume_later, index, coroutine)
            return
        if not getattr(waited, "_asyncio_future_blocking", False):
            raise GiveUp("a resolver yielded something that is not a future")
        waited._asyncio_future_blocking = False
        waited.add_done_callback(partial(resume_later, index, coroutine))

    try:
        for index, awaitable in enumerate(awaitables):
            pending += 1
            if not hasattr(awaitable, "send"):  # not a coroutine: await it the usual way
                awaitable = awaitables[index] = _await(awaitable)
            step(index, awaitable)
        while pending:
            if not ready:
                wake[0] = loop.create_future()
                try:
                    await wake[0]
                except asyncio.CancelledError:
                    _hand_on_cancellation(unfinished)
                    raise
            batch = ready[:]
            ready.clear()
            for index, coroutine in batch:
                step(index, coroutine)
    except BaseException:
        for awaitable in awaitables:
            if hasattr(awaitable, "close"):
                awaitable.close()
        raise
    return results


def _hand_on_cancellation(unfinished: dict[int, Any]) -> None:
    """Deliver a cancellation of this task to the coroutines it was running.

    ``asyncio.timeout`` (the connection pool's wait, a driver's) cancels the *task* it runs
    in, and expects the CancelledError back in its own ``async with`` to turn it into
    TimeoutError. Here every coroutine runs in the one request task, so the cancellation
    arrives at ``drive``'s own await instead: it used to escape as a bare CancelledError (a
    plain-text 500 with a traceback under pool exhaustion). Thrown into each waiting
    coroutine, as a Task would, the expired timeout converts it; if that leaves the task no
    longer cancelled, the timeout's error is raised in place of the cancellation.
    """
    task = asyncio.current_task()
    failure: BaseException | None = None
    for coroutine in list(unfinished.values()):
        try:
            coroutine.throw(asyncio.CancelledError())
        except (StopIteration, asyncio.CancelledError):
            continue
        except BaseException as exc:  # noqa: BLE001 - the timeout's error, reported below
            failure = failure or exc
        else:
            coroutine.close()  # it caught the cancellation and waited again; end it
    unfinished.clear()
    if failure is not None and task is not None and task.cancelling() == 0:
        raise failure


async def _await(awaitable: Any) -> Any:
    return await awaitable


class FastQueries(SchemaExtension):
    """Answers error-free queries with :class:`LevelExecutor`; anything else falls through to
    graphql-core (strawberry skips its executor when an extension has set the result)."""

    # Field plans are per schema field and shared by every request (a class attribute keyed
    # by the GraphQL field's id: fields live as long as the schema).
    _plans: dict[int, tuple[Any, FieldPlan]] = {}
    enabled = True
    answered = 0  # queries this path answered (tests read it to know which path ran)

    async def on_execute(self):  # noqa: ANN201
        ec = self.execution_context
        if self.enabled and ec.graphql_document is not None and not ec.result:
            try:
                result = await self._run(ec)
            except GiveUp as reason:
                log.debug("fast path gave up: %s", reason)
            except Exception as exc:
                if database_unavailable(exc):
                    # Running again would wait for the database a second time: answer now,
                    # as graphql-core would (process_errors gives it its code).
                    ec.result = ExecutionResult(data=None, errors=[GraphQLError(str(exc), original_error=exc)])
                else:  # graphql-core will raise it again, where errors are reported
                    log.debug("fast path failed; executing normally", exc_info=True)
            else:
                ec.result = result
                FastQueries.answered += 1
        yield

    async def _run(self, ec: Any) -> Any:
        schema = ec.schema._schema
        built = Executor.build(schema, ec.graphql_document, ec.root_value, ec.context, ec.variables, ec.operation_name)
        if isinstance(built, list):
            raise GiveUp("variables or operation")
        data = await LevelExecutor(built, self._plans, ec.schema.config.info_class).run()
        return ExecutionResult(data=data, errors=None)
