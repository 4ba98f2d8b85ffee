"""Compiled plans for known documents: the fast path's executor (``core.gql.fast``).

The level executor used to decide, on every request and for every level, which fields a
selection holds (``collect_fields``), how each field gets its value (``FieldPlan``) and how
its values are completed (a walk down the field's type: non-null, list, leaf, object). For a
document it has seen before none of that changes — only the objects, the context and the
variables do — so ``PlanCache`` keeps, per schema, document text and operation name, a tree
of :class:`Level` objects built on first use and reused afterwards:

- a level knows its response keys and, per key, a step: ``__typename``, a plain attribute
  (an ``attrgetter``), a self-only method, or a resolver (called as the level executor calls
  it: through strawberry's wrapper when the field has arguments, permissions or extensions);
- a step knows its completer, compiled from the field's type: a leaf serialiser that passes
  the common case (a ``str`` for String/ID, an in-range ``int`` for Int, a ``bool`` for
  Boolean) through untouched and calls the scalar's own ``serialize`` otherwise, and for
  objects the next level (for abstract types one level per runtime type, built when first
  met);
- a level's response dicts are built by zipping its columns, one dict per object.

What stays per request: the executor (variables coerced, context, root value), one resolve
info per resolver field and level, the resolvers themselves and everything they return.
Documents whose selection depends on variables (``@skip``/``@include`` with a variable) are
compiled again for every request, and so is every document with ``DOUGONG_COMPILED_PLANS=0``
(the level executor as it was: the benches' comparison). Every refusal and every runtime
surprise raises ``GiveUp``, so graphql-core answers whatever this cannot answer exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any

from graphql import (
    DirectiveNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    OperationType,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.executor import Executor, default_type_resolver, to_nodes
from graphql.execution.values import get_argument_values
from graphql.language import VariableNode
from graphql.pyutils import Path
from graphql.type.definition import is_abstract_type

from core.gql.fast_drive import GiveUp, drive
from core.gql.fast_fields import FieldPlan
from core.gql.fast_values import leaf_column

# Documents kept per schema: a client sending ever new documents must not grow memory.
MAX_PLANS = 256
REFUSED = object()  # a document whose root selection the plan cannot answer (introspection, @defer)
PER_REQUEST = object()  # a document whose selection depends on its variables: compiled per request


def _is_awaitable(value: Any) -> bool:
    return hasattr(value, "__await__") and not isinstance(value, (str, bytes, Mapping))


class _Request:
    """What a plan needs from one request: its executor and the strawberry Info class."""

    __slots__ = ("executor", "info_class")

    def __init__(self, executor: Executor, info_class: Any) -> None:
        self.executor = executor
        self.info_class = info_class


class PlanCache:
    """Compiled plans of one schema, by (document text, operation name)."""

    def __init__(self, schema: Any, middleware: Any) -> None:
        self.schema = schema
        self.middleware = middleware
        self.field_plans: dict[int, tuple[Any, FieldPlan]] = {}
        self.documents: dict[tuple[str, str | None], Any] = {}

    def field_plan(self, field_def: Any) -> FieldPlan:
        entry = self.field_plans.get(id(field_def))
        if entry is None or entry[0] is not field_def:
            entry = self.field_plans[id(field_def)] = (field_def, FieldPlan(field_def, self.middleware))
        return entry[1]

    def root(self, text: str | None, executor: Executor, keep: bool = True) -> tuple[Level, bool]:
        """The document's root level: compiled on first use and kept, unless ``keep`` is off,
        the text is unknown or the selection depends on the variables (``@skip``/``@include``
        with a variable) — then it is compiled for this request alone; and whether it is kept."""
        if not keep or text is None:
            return self._compile(executor), False
        key = (text, executor.operation.name.value if executor.operation.name else None)
        level: Any = self.documents.get(key)
        if level is None:
            try:
                level = PER_REQUEST if _selection_depends_on_variables(executor) else self._compile(executor)
            except GiveUp:
                level = REFUSED  # the document never compiles: refuse it at once from now on
            if len(self.documents) >= MAX_PLANS:
                self.documents.pop(next(iter(self.documents)))
            self.documents[key] = level
        if level is REFUSED:
            raise GiveUp("the document does not compile")
        if level is PER_REQUEST:
            return self._compile(executor), False
        return level, True

    def _compile(self, executor: Executor) -> Level:
        if executor.operation.operation is not OperationType.QUERY:
            raise GiveUp("not a query")
        root_type = self.schema.query_type
        if root_type is None:
            raise GiveUp("no query type")
        collected = collect_fields(self.schema, executor.fragments, executor.variable_values, root_type, executor.operation)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise GiveUp("@defer/@stream")
        return Level(self, root_type, collected.grouped_field_set, executor)


class _DirectiveVariables(Visitor):
    found = False

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        if any(isinstance(argument.value, VariableNode) for argument in node.arguments or ()):
            self.found = True


def _selection_depends_on_variables(executor: Executor) -> bool:
    visitor = _DirectiveVariables()
    visit(executor.operation, visitor)
    for fragment in executor.fragment_definitions.values():
        visit(fragment, visitor)
    return visitor.found


TYPENAME, ATTRIBUTE, METHOD, CALL, RESOLVE, LOADED = range(6)


class Step:
    """One response key of a level: how its values are got and completed."""

    __slots__ = ("complete", "details", "field_def", "function", "key", "kind", "node", "nodes", "plan")

    def __init__(self, cache: PlanCache, parent_type: GraphQLObjectType, key: str, details: list, executor: Executor) -> None:
        first = details[0]
        if first.defer_usage is not None or first.fragment_variable_values is not None:
            raise GiveUp("fragment arguments / defer")
        self.key = key
        self.details = details
        self.node = first.node
        self.nodes = to_nodes(details)
        name = self.node.name.value
        # None for __typename only (whose steps never read them)
        self.field_def: Any = None
        self.plan: Any = None
        self.function: Any = None
        self.complete: Any = None
        if name == "__typename":
            self.kind = TYPENAME
            self.function = parent_type.name
            return
        if name.startswith("__"):
            raise GiveUp("introspection")
        field_def = parent_type.fields.get(name)
        if field_def is None:
            raise GiveUp(f"unknown field {name}")
        self.field_def = field_def
        plan = self.plan = cache.field_plan(field_def)
        if plan.attribute is not None:
            self.kind, self.function = ATTRIBUTE, attrgetter(plan.attribute)
        elif plan.method is not None:
            self.kind, self.function = METHOD, plan.method
        elif plan.loaded is not None and not self.node.arguments:
            self.kind = LOADED
        elif plan.call is not None and not self.node.arguments:
            self.kind = CALL
        else:
            self.kind = RESOLVE
        self.complete = compile_completer(cache, field_def.type, details, executor)


class Level:
    """The fields of one selection on one object type, for all objects of a level at once."""

    __slots__ = ("keys", "parent_type", "steps")

    def __init__(self, cache: PlanCache, parent_type: GraphQLObjectType, grouped: Mapping[str, list], executor: Executor) -> None:
        self.parent_type = parent_type
        self.keys = tuple(grouped)
        self.steps = [Step(cache, parent_type, key, details, executor) for key, details in grouped.items()]

    async def run(self, request: _Request, sources: list[Any]) -> list[dict]:
        columns: list[list[Any]] = []
        waiting: list[Any] = []
        slots: list[tuple[list, int]] = []
        spread: list[tuple[list, list[int] | None]] = []  # where a LOADED step's results go
        count = len(sources)
        for step in self.steps:
            kind = step.kind
            if kind == TYPENAME:
                columns.append([step.function] * count)
                continue
            if kind == ATTRIBUTE or kind == METHOD:
                columns.append(list(map(step.function, sources)))
                continue
            if kind == LOADED:
                # One load of every key of the level (core.gql.loaded), not a coroutine per object.
                loader_name, key_of, if_none = step.plan.loaded
                values = [if_none] * count
                wanted = list(map(key_of, sources))
                if None in wanted:
                    indexes = [i for i, k in enumerate(wanted) if k is not None]
                    wanted = [wanted[i] for i in indexes]
                else:
                    indexes = None
                if wanted:
                    waiting.append(request.executor.context_value.loader(loader_name).load_all(wanted))
                    spread.append((values, indexes))
                columns.append(values)
                continue
            executor = request.executor
            # One info per field and level, as in the level executor.
            info = executor.build_resolve_info(step.field_def, step.nodes, self.parent_type, Path(None, step.key, self.parent_type.name))
            plan = step.plan
            if kind == CALL:
                function, positional, root_name, info_name = plan.call
                kwargs = {info_name: request.info_class(_raw_info=info, _field=plan.field)} if info_name else {}
                if positional:
                    values = [function(source, **kwargs) for source in sources]
                elif root_name:
                    values = [function(**kwargs, **{root_name: source}) for source in sources]
                else:
                    values = [function(**kwargs) for _ in sources]
            else:
                field_def = step.field_def
                args = {}
                if field_def.args or step.node.arguments:
                    args = get_argument_values(field_def, step.node, executor.variable_values, None, False)
                resolve = plan.resolve
                values = [resolve(source, info, **args) for source in sources]
            for index, value in enumerate(values):
                if _is_awaitable(value):
                    slots.append((values, index))
            columns.append(values)
        if slots:
            waiting.extend(values[index] for values, index in slots)
        if waiting:
            # Awaited together so that every DataLoader of this level dispatches one batch. The
            # LOADED steps' awaitables come first in ``waiting``, then one per object.
            done = await drive(waiting)
            for (values, indexes), results in zip(spread, done, strict=False):
                if indexes is None:
                    values[:] = results
                else:
                    for index, result in zip(indexes, results, strict=True):
                        values[index] = result
            for (values, index), value in zip(slots, done[len(spread) :], strict=True):
                values[index] = value
        completed = []
        for step, values in zip(self.steps, columns, strict=True):
            if step.complete is None:  # __typename
                completed.append(values)
            else:
                completed.append(await step.complete(request, values))
        keys = self.keys
        return [dict(zip(keys, row, strict=True)) for row in zip(*completed, strict=True)]


def compile_completer(cache: PlanCache, return_type: Any, details: list, executor: Executor) -> Any:
    """An async function completing a column of values of ``return_type``, built once."""
    if isinstance(return_type, GraphQLNonNull):
        inner = return_type.of_type
        if isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
            serialize_leaf = leaf_column(inner)

            async def non_null_leaf(request: _Request, values: list[Any]) -> list[Any]:
                # A None in, or a None out of serialize: both are a null in a non-null position.
                out = serialize_leaf(values)
                if None in out:
                    raise GiveUp("null in a non-null position")
                return out

            return non_null_leaf
        complete_inner = compile_completer(cache, inner, details, executor)

        async def non_null(request: _Request, values: list[Any]) -> list[Any]:
            for value in values:
                if value is None:
                    raise GiveUp("null in a non-null position")
            completed = await complete_inner(request, values)
            for value in completed:
                if value is None:
                    raise GiveUp("null in a non-null position")
            return completed

        return non_null
    if isinstance(return_type, GraphQLList):
        complete_item = compile_completer(cache, return_type.of_type, details, executor)

        async def list_of(request: _Request, values: list[Any]) -> list[Any]:
            flat: list[Any] = []
            lengths: list[int | None] = []
            for value in values:
                if value is None:
                    lengths.append(None)
                    continue
                if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
                    raise GiveUp("not a list")
                items = list(value)
                for item in items:
                    if _is_awaitable(item):
                        raise GiveUp("awaitable list items")
                lengths.append(len(items))
                flat.extend(items)
            done = await complete_item(request, flat) if flat else []
            out: list[Any] = []
            position = 0
            for length in lengths:
                if length is None:
                    out.append(None)
                else:
                    out.append(done[position : position + length])
                    position += length
            return out

        return list_of
    if isinstance(return_type, (GraphQLScalarType, GraphQLEnumType)):
        serialize_leaf = leaf_column(return_type)

        async def leaf(request: _Request, values: list[Any]) -> list[Any]:
            return serialize_leaf(values)

        return leaf
    if is_abstract_type(return_type):
        return _Abstract(cache, return_type, details).complete
    if isinstance(return_type, GraphQLObjectType):
        return _Objects(cache, return_type, details, executor).complete
    raise GiveUp(f"unexpected type {return_type}")


class _Objects:
    """Completes a column of objects of one type: the is_type_of check, then the next level
    (compiled on first use: building it needs the request's executor for the fragments)."""

    __slots__ = ("cache", "details", "level", "object_type")

    def __init__(self, cache: PlanCache, object_type: GraphQLObjectType, details: list, executor: Executor | None = None) -> None:
        self.cache = cache
        self.object_type = object_type
        self.details = details
        self.level: Level | None = None

    async def complete(self, request: _Request, values: list[Any]) -> list[Any]:
        present = [value for value in values if value is not None]
        if not present:
            return list(values)
        object_type = self.object_type
        executor = request.executor
        is_type_of = object_type.is_type_of
        if is_type_of is not None:
            info = executor.build_resolve_info(
                object_type.fields[next(iter(object_type.fields))], to_nodes(self.details), object_type, Path(None, "", object_type.name)
            )
            for value in present:
                check = is_type_of(value, info)
                if _is_awaitable(check) or not check:
                    if _is_awaitable(check):
                        check.close()  # type: ignore[union-attr]  # a coroutine never awaited
                    raise GiveUp("is_type_of")
        level = self.level
        if level is None:
            grouped = executor.collect_subfields(object_type, self.details)
            if grouped.new_defer_usages or grouped.forbidden_directive_instances:
                raise GiveUp("@defer/@stream")
            level = self.level = Level(self.cache, object_type, grouped.grouped_field_set, executor)
        done = await level.run(request, present)
        if len(present) == len(values):
            return done
        rows = iter(done)
        return [None if value is None else next(rows) for value in values]


class _Abstract:
    """Completes a column of an interface or union: each value's runtime type is resolved
    per request, each runtime type's level compiled once."""

    __slots__ = ("abstract_type", "by_runtime", "cache", "details")

    def __init__(self, cache: PlanCache, abstract_type: Any, details: list) -> None:
        self.cache = cache
        self.abstract_type = abstract_type
        self.details = details
        self.by_runtime: dict[str, _Objects] = {}

    async def complete(self, request: _Request, values: list[Any]) -> list[Any]:
        abstract_type = self.abstract_type
        schema = self.cache.schema
        resolve_type = abstract_type.resolve_type or default_type_resolver
        query_type = schema.query_type
        if query_type is None:
            raise GiveUp("no query type")
        info = request.executor.build_resolve_info(
            query_type.fields[next(iter(query_type.fields))], to_nodes(self.details), query_type, Path(None, "", abstract_type.name)
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
            objects = self.by_runtime.get(name)
            if objects is None:
                runtime = schema.get_type(name)
                if not isinstance(runtime, GraphQLObjectType) or not schema.is_sub_type(abstract_type, runtime):
                    raise GiveUp("runtime type")
                objects = self.by_runtime[name] = _Objects(self.cache, runtime, self.details)
            done = await objects.complete(request, [values[i] for i in indexes])
            for index, value in zip(indexes, done, strict=True):
                out[index] = value
        return out


async def run_plan(cache: PlanCache, text: str | None, executor: Executor, info_class: Any, keep: bool = True) -> tuple[dict[str, Any], bool]:
    """The response data of the executor's operation, through the plan of ``text``, and
    whether that plan is a kept one."""
    root, kept = cache.root(text, executor, keep)
    [data] = await root.run(_Request(executor, info_class), [executor.root_value])
    return data, kept
