"""How the fast path (``core.gql.fast``) gets one schema field's value from a source object,
decided once per schema field: a plain attribute, a self-only method, a resolver called
directly, or strawberry's own wrapper (arguments, permissions, extensions)."""

from __future__ import annotations

from typing import Any

from graphql.execution.executor import default_field_resolver

from core.gql.loaded import Loaded, declared_load

BACKREF = "strawberry-definition"


class FieldPlan:
    """How to get one field's value from a source object, decided once per schema field."""

    __slots__ = ("attribute", "call", "field", "loaded", "method", "resolve")

    def __init__(self, field_def: Any, middleware: Any) -> None:
        self.attribute: str | None = None
        self.method: Any = None
        self.call: Any = None  # (function, positional self?, root kwarg, info kwarg)
        self.loaded: Loaded | None = None  # a field declared with @loaded: one load of a level's keys
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
        self.loaded = declared_load(resolver.wrapped_func)
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
