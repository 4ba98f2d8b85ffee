"""Input types other components may add fields to (the checkout input, its lines).

The owner declares its input with :func:`extensible_input`; a dependent component calls
``registrar.extend_input("CheckoutInput", "pickup", PickupChoiceInput)``. The schema then
shows the field (optional, typed), and the owner's resolver reads what the client sent with
``input.extension("pickup")`` and hands it to the component that asked for it. Fields of a
component that is not loaded do not exist in that brand's schema at all.
"""

from __future__ import annotations

from typing import Any, Mapping

from strawberry.annotation import StrawberryAnnotation
from strawberry.types.arguments import convert_argument


class ExtensibleInput:
    """Mixin for an input type built with :func:`extensible_input`."""

    _extensions: dict[str, Any]

    def extension(self, field_name: str) -> Any:
        """What the client sent for a field another component added (``None`` when absent)."""
        return getattr(self, "_extensions", {}).get(field_name)

    def with_extensions(self, values: Mapping[str, Any]) -> ExtensibleInput:
        """Set extension values directly (services and tests that build inputs in Python)."""
        self._extensions = {**getattr(self, "_extensions", {}), **values}
        return self


def extensible_input(cls: type) -> type:
    """Let the kernel's input extensions reach instances of the strawberry input ``cls``."""
    cls.__strawberry_definition__.from_input = _build  # type: ignore[attr-defined]
    return cls


def _build(cls: type, value: Mapping[str, Any], ctx: Any) -> Any:
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    name_of = ctx.config.name_converter.from_field
    kwargs: dict[str, Any] = {}
    for field in definition.fields:
        graphql_name = name_of(field)
        if graphql_name in value:
            kwargs[field.python_name] = convert_argument(
                value[graphql_name],
                field.resolve_type(type_definition=definition),
                ctx.scalar_registry,
                ctx.config,
                ctx.info,
                path=(*ctx.path, graphql_name),
            )
    instance = cls(**kwargs)
    extensions: dict[str, Any] = {}
    kernel = _kernel_of(ctx.info)
    if kernel is not None:
        for ext in kernel.contributions.input_extensions:
            if ext.type_name == definition.name and ext.field_name in value:
                # Resolved like the schema's own field, so a list (``list[strawberry.ID]``) converts too.
                extensions[ext.field_name] = convert_argument(
                    value[ext.field_name],
                    StrawberryAnnotation(ext.python_type).resolve(),
                    ctx.scalar_registry,
                    ctx.config,
                    ctx.info,
                    path=(*ctx.path, ext.field_name),
                )
    instance._extensions = extensions
    return instance


def _kernel_of(info: Any) -> Any:
    context = getattr(info, "context", None)
    return getattr(context, "kernel", None)


def plain(value: Any) -> Any:
    """A strawberry input value as JSON-able data keyed by GraphQL field names (``storeId``),
    so components read one form whether a request came from GraphQL, a stored cart or Python."""
    import enum

    from strawberry import UNSET

    from core.gql.schema import strawberry_camel  # the schema's own spelling of field names

    if value is UNSET:
        return None
    if isinstance(value, enum.Enum):  # before the definition: strawberry enums carry one too
        return value.value
    definition = getattr(value, "__strawberry_definition__", None)
    if definition is not None:
        out = {field.graphql_name or strawberry_camel(field.python_name): plain(getattr(value, field.python_name)) for field in definition.fields}
        out.update({name: plain(v) for name, v in getattr(value, "_extensions", {}).items()})
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)
