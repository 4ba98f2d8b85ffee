"""The fast path's executor (``core.gql.fast``): every field of a level is resolved for all
objects of that level in one loop, and values are completed with the schema's own
``serialize``/``is_type_of``/``resolve_type``; anything it cannot answer exactly raises
``GiveUp``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
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

from core.gql.fast_drive import GiveUp, drive

BACKREF = "strawberry-definition"


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
