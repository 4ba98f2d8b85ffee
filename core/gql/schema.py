"""Assembling one strawberry schema from every component's contributions."""

from __future__ import annotations

import copy
import logging
import os
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Iterator, Optional

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType
from strawberry.types.union import StrawberryUnion

from core.db import database_unavailable
from core.errors import INTERNAL, INVALID_DOCUMENT, BootError, DomainError
from core.gql.examples import check_examples
from core.gql.fast import FastQueries
from core.gql.payload import UserError
from core.gql.roots import KernelQuery, error_code_type, merged_root
from core.gql.scalars import SCALAR_OVERRIDES
from core.gql.text_rules import NoControlCharacters, without_suggestions

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

log = logging.getLogger("dougong.graphql")

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
CONTRIBUTED_BY = "_dougong_component"  # set on extension fields, to name who added a field that breaks the build


class DougongSchema(strawberry.Schema):
    """Adds the fields one component contributes to another's type, and types
    ``UserError.code`` as the enum of every code the loaded components declared."""

    def __init__(
        self, *args: Any, field_extensions: dict[str, list[StrawberryField]], error_code_enum: Any, production: bool = False, **kwargs: Any
    ) -> None:
        self._field_extensions = field_extensions
        self._error_code_enum = error_code_enum
        self._production = production
        self.extra_validation_rules: tuple[Any, ...] = ()  # set by the assembly, see below
        super().__init__(*args, **kwargs)

    def get_fields(self, type_definition):  # noqa: ANN001
        fields = list(super().get_fields(type_definition))
        if type_definition.origin is UserError:
            fields = [self._typed_code(f) if f.python_name == "code" else f for f in fields]
        return fields + self._field_extensions.get(type_definition.name, [])

    def _typed_code(self, field: StrawberryField) -> StrawberryField:
        typed = copy.copy(field)
        typed.type_annotation = None
        typed.type = self._error_code_enum
        return typed

    def process_errors(self, errors, execution_context=None):  # noqa: ANN001
        for error in errors:
            if self._production:
                error.message = without_suggestions(error.message)
            original = _root_cause(error)
            if isinstance(original, DomainError):
                # A refusal in a query (no payload to carry it): give the client the code.
                error.extensions = {**(error.extensions or {}), "code": original.code}
            elif original is not None and database_unavailable(original):
                # The database is down or unreachable: say so with a code a client can retry
                # on, and log briefly (one line per request, not a traceback per outage).
                log.warning("database unavailable in %s: %r", error.path, original)
                error.message = "The service is temporarily unavailable; please try again shortly."
                error.extensions = {**(error.extensions or {}), "code": "KERNEL_DATABASE_UNAVAILABLE"}
            elif original is not None and error.path is None and isinstance(original, (ValueError, TypeError)):
                # Before execution: a scalar refused a literal or a variable (a Long too big).
                # The message names the value's fault; it is the client's, not ours.
                error.extensions = {**(error.extensions or {}), "code": "KERNEL_INVALID_INPUT"}
            elif original is not None and not isinstance(original, GraphQLError):
                # Logged in full; the client gets no internals (SQL text, stack details).
                log.error("unexpected error in %s", error.path, exc_info=original)
                error.message = "Internal error; it has been logged."
                error.extensions = {**(error.extensions or {}), "code": INTERNAL}
            if error.path is None and not (error.extensions or {}).get("code"):
                # The document itself was refused (syntax, validation, the depth/alias/token
                # limits, a variable of the wrong type): every errors[] entry carries a code.
                error.extensions = {**(error.extensions or {}), "code": INVALID_DOCUMENT}


def _root_cause(error: GraphQLError) -> BaseException | None:
    """What was raised first: graphql-core wraps a scalar's ValueError in one GraphQLError for
    the value and another for the variable, each keeping the one before as original_error."""
    original = getattr(error, "original_error", None)
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


class RequestScope(SchemaExtension):
    """Closes the request's read session when the operation ends (also on websockets)."""

    async def on_operation(self):  # noqa: ANN201
        yield
        context = self.execution_context.context
        if hasattr(context, "cacheable"):
            # The response cache keeps only successful queries (see core.gql.response_cache).
            ec = self.execution_context
            try:
                is_query = ec.graphql_document is not None and ec.operation_type is OperationType.QUERY
            except RuntimeError:  # no such operation in the document
                is_query = False
            context.cacheable = is_query and not ec.pre_execution_errors and ec.result is not None and not ec.result.errors
        close = getattr(context, "close", None)
        if close is not None:
            await close()


# A test session boots hundreds of kernels of a handful of blueprints, and building the schema
# was most of a kernel's construction (~0.35 s of CPU for the demo). The test plugin
# (core.testing) sets a key naming everything a schema is made from (the blueprint text, the
# installed components, the DOUGONG_* environment); kernels built under the same key share the
# first one's schema. A schema holds no kernel: resolvers reach theirs through the context.
SCHEMA_REUSE_KEY: ContextVar[tuple[Any, ...] | None] = ContextVar("dougong_schema_reuse_key", default=None)
_REUSED: dict[tuple[Any, ...], DougongSchema] = {}


def build_schema(kernel: Kernel) -> DougongSchema:
    key = SCHEMA_REUSE_KEY.get()
    if key is not None and key in _REUSED:
        return _REUSED[key]
    schema = _build_schema(kernel)
    if key is not None:
        _REUSED[key] = schema
    return schema


def _build_schema(kernel: Kernel) -> DougongSchema:
    c = kernel.contributions
    kernel_fields = {"node": "kernel", "nodes": "kernel", "brand": "kernel"}
    if c.page_blocks:
        kernel_fields.update(storefrontPage="kernel", storefrontBlockTypes="kernel")
    _check_root_fields(c.queries, "Query", extra=kernel_fields)
    _check_root_fields(c.mutations, "Mutation")
    _check_root_fields(c.subscriptions, "Subscription")
    _check_type_names(kernel)

    error_code_enum = error_code_type(c.error_codes)
    field_extensions = _field_extensions(kernel)
    for type_name, fields in _input_extensions(kernel).items():
        field_extensions.setdefault(type_name, []).extend(fields)
    try:
        schema = _assemble(kernel, field_extensions, error_code_enum, None)
    except BootError:
        raise
    except Exception as exc:  # strawberry's or graphql-core's own refusal: find whose contribution it is
        raise BootError(_attributed(kernel, field_extensions, error_code_enum, exc)) from exc
    check_examples(c.examples, schema._schema)
    return schema


def _assemble(kernel: Kernel, field_extensions: dict[str, list[StrawberryField]], error_code_enum: Any, components: set[str] | None) -> DougongSchema:
    """The schema of every contribution, or of those of ``components`` only (to find a culprit)."""
    c = kernel.contributions

    def mine(claims: Any) -> list[Any]:
        return [cl.value for cl in claims if components is None or cl.component in components]

    from core.gql.storefront import StorefrontQuery

    queries, mutations, subscriptions = mine(c.queries), mine(c.mutations), mine(c.subscriptions)
    # Storefront pages only where some loaded component offers blocks to build them from.
    kernel_queries = (KernelQuery, StorefrontQuery) if c.page_blocks else (KernelQuery,)
    query = merged_root("Query", (*kernel_queries, *queries))
    mutation = merged_root("Mutation", tuple(mutations)) if mutations else None
    subscription = merged_root("Subscription", tuple(subscriptions)) if subscriptions else None
    if components is not None:
        field_extensions = {t: [f for f in fs if getattr(f, CONTRIBUTED_BY, None) in components] for t, fs in field_extensions.items()}

    # The limits are validation rules, made once per schema: QueryDepthLimiter and
    # MaxAliasesLimiter build a new rule class per instance, and a new class per request made
    # every validation a cache miss (the storefront query was validated in full each time).
    rules: list[Any] = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
        NoControlCharacters,
    ]
    if kernel.blueprint.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        RequestScope,
        # Error-free queries take a level-at-a-time path; anything else runs as before.
        *([FastQueries] if os.environ.get("DOUGONG_FAST_QUERIES", "1") != "0" else []),
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        # Bounded LRU caches; strawberry keeps them at module level, shared by every request.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    schema = DougongSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=mine(c.types.values()),
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
        scalar_overrides=SCALAR_OVERRIDES,
        field_extensions=field_extensions,
        error_code_enum=error_code_enum,
        production=kernel.blueprint.production,
    )
    # The same rules for a document checked outside strawberry's pipeline (core.gql.early_refusals).
    schema.extra_validation_rules = tuple(rules)
    return schema


def _attributed(kernel: Kernel, field_extensions: dict[str, list[StrawberryField]], error_code_enum: Any, exc: Exception) -> str:
    """Name the component whose contributions break the schema: build with the components in
    load order, one more each time (dependencies come first, so each build is complete); the
    first that fails is the culprit. Only on the failure path, so the extra builds cost nothing
    in a good boot."""
    loaded: set[str] = set()
    for name in kernel.components:
        loaded.add(name)
        try:
            _assemble(kernel, field_extensions, error_code_enum, loaded)
        except Exception as found:  # noqa: BLE001 - this is the one we were looking for
            return f"component {name!r}: its GraphQL contributions cannot be built into the schema: {_reason(found)}"
    return f"the GraphQL schema could not be built: {_reason(exc)}"


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, BootError) else str(exc)


def _check_root_fields(claims: list, root: str, extra: dict[str, str] | None = None) -> None:
    owners: dict[str, str] = dict(extra or {})
    for claimed in claims:
        for field in claimed.value.__strawberry_definition__.fields:
            name = field.graphql_name or strawberry_camel(field.python_name)
            if name in owners:
                raise BootError(f"root field {root}.{name} is claimed by both {owners[name]!r} and {claimed.component!r}")
            owners[name] = claimed.component


def strawberry_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _field_extensions(kernel: Kernel) -> dict[str, list[StrawberryField]]:
    c = kernel.contributions
    out: dict[str, list[StrawberryField]] = {}
    taken: dict[tuple[str, str], str] = {}
    for ext in c.extensions:
        owner = c.types.get(ext.type_name)
        if owner is None:
            raise BootError(f"component {ext.component!r} extends type {ext.type_name!r}, which no loaded component registered")
        if owner.component != ext.component and owner.component not in kernel.dependencies_of(ext.component):
            raise BootError(
                f"component {ext.component!r} extends {ext.type_name!r} of component {owner.component!r} "
                f"without depending on it; add {owner.component!r} to its manifest's depends"
            )
        own_fields = {f.graphql_name or strawberry_camel(f.python_name) for f in owner.value.__strawberry_definition__.fields}
        key = (ext.type_name, ext.field_name)
        if ext.field_name in own_fields or key in taken:
            first = owner.component if ext.field_name in own_fields else taken[key]
            raise BootError(f"field {ext.type_name}.{ext.field_name} is claimed by both {first!r} and {ext.component!r}")
        taken[key] = ext.component
        try:
            field = strawberry.field(
                resolver=ext.resolver, name=ext.field_name, description=ext.description, deprecation_reason=ext.deprecation_reason
            )
        except Exception as exc:  # strawberry refuses the resolver itself (an argument without a type)
            raise BootError(
                f"component {ext.component!r} extends {ext.type_name}.{ext.field_name} with a resolver strawberry refuses: {_reason(exc)}"
            ) from exc
        field.python_name = ext.field_name
        setattr(field, CONTRIBUTED_BY, ext.component)
        out.setdefault(ext.type_name, []).append(field)
    return out


def _input_extensions(kernel: Kernel) -> dict[str, list[StrawberryField]]:
    """Optional fields that components add to another component's extensible input type."""
    from core.gql.extensible import _build

    c = kernel.contributions
    out: dict[str, list[StrawberryField]] = {}
    taken: dict[tuple[str, str], str] = {}
    for ext in c.input_extensions:
        owner = c.types.get(ext.type_name)
        definition = getattr(owner.value, "__strawberry_definition__", None) if owner is not None else None
        if owner is None or definition is None or not definition.is_input:
            raise BootError(f"component {ext.component!r} extends input {ext.type_name!r}, which no loaded component registered")
        if definition.from_input is not _build:
            raise BootError(
                f"component {ext.component!r} extends input {ext.type_name!r} of {owner.component!r}, "
                "which is not extensible (its owner did not declare it with extensible_input)"
            )
        if owner.component != ext.component and owner.component not in kernel.dependencies_of(ext.component):
            raise BootError(
                f"component {ext.component!r} extends input {ext.type_name!r} of component {owner.component!r} "
                f"without depending on it; add {owner.component!r} to its manifest's depends"
            )
        own_fields = {f.graphql_name or strawberry_camel(f.python_name) for f in definition.fields}
        key = (ext.type_name, ext.field_name)
        if ext.field_name in own_fields or key in taken:
            first = owner.component if ext.field_name in own_fields else taken[key]
            raise BootError(f"input field {ext.type_name}.{ext.field_name} is claimed by both {first!r} and {ext.component!r}")
        taken[key] = ext.component
        field = StrawberryField(
            python_name=ext.field_name,
            graphql_name=ext.field_name,
            type_annotation=StrawberryAnnotation(Optional[ext.python_type]),
            default=None,
            description=ext.description or f"Added by the {ext.component} component.",
        )
        setattr(field, CONTRIBUTED_BY, ext.component)
        out.setdefault(ext.type_name, []).append(field)
    return out


def _check_type_names(kernel: Kernel) -> None:
    """Two different classes with one GraphQL name, from two components: name both."""
    c = kernel.contributions
    seen: dict[str, tuple[type, str]] = {}
    roots = [(cl.value, cl.component) for cl in (*c.queries, *c.mutations, *c.subscriptions)]
    roots += [(cl.value, cl.component) for cl in c.types.values()]
    for cls, component in roots:
        for found in _reachable(cls):
            definition = found.__strawberry_definition__  # type: ignore[attr-defined]  # _reachable yields strawberry types only
            # Specialised generics (Connection[Product]) get their names from strawberry.
            if getattr(definition, "specialized_type_var_map", None) or getattr(definition, "type_var_map", None) or definition.is_graphql_generic:
                continue
            name = definition.name
            if name in ("Query", "Mutation", "Subscription"):
                continue
            previous = seen.get(name)
            if previous is None:
                seen[name] = (found, _owner(found, component))
            elif previous[0] is not found:
                raise BootError(f"GraphQL type {name!r} is defined by both {previous[1]!r} and {_owner(found, component)!r}")


def _owner(cls: type, fallback: str) -> str:
    module = getattr(cls, "__module__", "")
    if module.startswith("components."):
        return module.split(".")[1]
    return fallback


def _reachable(cls: type, seen: set[int] | None = None) -> Iterator[type]:
    seen = seen if seen is not None else set()
    if id(cls) in seen or not hasattr(cls, "__strawberry_definition__"):
        return
    seen.add(id(cls))
    yield cls
    definition = cls.__strawberry_definition__
    for field in getattr(definition, "fields", []):
        try:
            field_type = field.type
        except Exception:  # unresolved forward reference: strawberry reports it at build
            continue
        for inner in _unwrap(field_type):
            yield from _reachable(inner, seen)


def _unwrap(field_type: Any) -> Iterator[Any]:
    if isinstance(field_type, (StrawberryList, StrawberryOptional)):
        yield from _unwrap(field_type.of_type)
    elif isinstance(field_type, StrawberryUnion):
        for t in field_type.types:
            yield from _unwrap(t)
    elif hasattr(field_type, "__strawberry_definition__"):
        yield field_type
