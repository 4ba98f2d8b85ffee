"""The kernel's own part of the schema: ``node``/``nodes``/``brand``, the ``ErrorCode`` enum
gathered from every component, and the root types (``Query``, ``Mutation``, ``Subscription``)
merged from every component's, each with a description."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from graphql import GraphQLError

from core.errors import DomainError
from core.gql.relay import Node, from_global_id, parse_key

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

MAX_NODES = 100


async def resolve_node(info: strawberry.Info, global_id: str) -> Any:
    kernel: Kernel = info.context.kernel
    try:
        type_name, pk = from_global_id(str(global_id))
    except DomainError:
        return None
    claimed = kernel.contributions.nodes.get(type_name)
    key = parse_key(pk)
    if claimed is None or key is None:
        return None
    _cls, loader = claimed.value
    found = await loader(info.context, [key])
    return found[0] if found else None


@strawberry.type
class KernelQuery:
    @strawberry.field(description="Fetch any object by its global id (null if missing or not yours).")
    async def node(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id, as any object's `id` gives it.")],  # noqa: A002
    ) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Fetch up to 100 objects by global id, in the order given.")
    async def nodes(
        self,
        info: strawberry.Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description=f"Up to {MAX_NODES} global ids; each answer is null if missing or not yours.")
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise GraphQLError(f"nodes() takes at most {MAX_NODES} ids", extensions={"code": "KERNEL_INVALID_INPUT"})
        return [await resolve_node(info, i) for i in ids]

    @strawberry.field(description="The brand this endpoint serves.")
    def brand(self, info: strawberry.Info) -> "BrandInfo":
        bp = info.context.kernel.blueprint
        return BrandInfo(slug=bp.brand.slug, name=bp.brand.name, currency=bp.brand.currency, timezone=bp.brand.timezone)


@strawberry.type(description="The brand a blueprint describes.")
class BrandInfo:
    slug: str = strawberry.field(description="The brand's short name in URLs (`/brands/<slug>/graphql`).")
    name: str = strawberry.field(description="The brand's display name.")
    currency: str = strawberry.field(description="The ISO 4217 code every Money amount of this brand is in (`CNY`).")
    timezone: str = strawberry.field(
        description="The IANA timezone (`Asia/Shanghai`) of the brand's calendar: `Date` values and day-based rules use it."
    )


def error_code_type(codes: dict[str, Any]) -> Any:
    """``ErrorCode``: every code the loaded components declared, each value described with the
    text its component gave ``registrar.error_code(code, description)`` (the kernel's own too)."""
    values = {code: strawberry.enum_value(code, description=_described(codes[code])) for code in sorted(codes)}
    return strawberry.enum(
        enum.Enum("ErrorCode", values),  # type: ignore[call-overload]  # a functional Enum
        name="ErrorCode",
        description="Every userErrors code the loaded components may return, prefixed by the component that returns it.",
    )


def _described(claimed: Any) -> str:
    text = str(getattr(claimed, "value", claimed) or "").strip()
    return text or f"Returned by the {getattr(claimed, 'component', 'kernel')} component."


ROOT_DESCRIPTIONS = {
    "Query": "Everything a client can read: the brand, any node by id, and each loaded component's root fields.",
    "Mutation": "Everything a client can change; each mutation takes one input and answers a payload with userErrors.",
    "Subscription": "Live streams over the graphql-transport-ws websocket protocol; each names what it streams.",
}


def merged_root(name: str, types: tuple[type, ...]) -> type:
    """strawberry's ``merge_types`` with a description: the root types are the first thing a
    frontend developer reads in GraphiQL. Duplicate fields were refused by _check_root_fields."""
    return strawberry.type(type(name, types, {}), name=name, description=ROOT_DESCRIPTIONS[name])
