"""``storefrontPage(slug)``: one query renders a page of component blocks.

The blocks a caller may see are resolved type by type on the request's session (one
``AsyncSession`` is not for concurrent use): all blocks of one type in one call of their
component's resolver, so a type that batches (``resolve_many``) costs the same statements for
one block as for ten. The kernel only decides which blocks show: scheduled ones between their
times, members-only ones for members, empty ones only when the page asks for it. Part of the schema only when a loaded component offers blocks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from core.gql.context import Context
from core.pages import Placement
from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(description="A storefront page from the blueprint: its blocks in order, with their data.")
class StorefrontPage:
    slug: str = strawberry.field(description="The page's slug, as the blueprint names it (`home`).")
    title: str = strawberry.field(description="The page's title, as the blueprint gives it.")
    blocks: list[StorefrontBlock] = strawberry.field(
        description="The blocks this caller may see now, in page order (scheduled, members-only and empty blocks left out)."
    )


@strawberry.type(description="A block type operators can place on pages (for editors such as the studio).")
class StorefrontBlockType:
    name: str = strawberry.field(description="`<component>.<block>`, as written in the blueprint.")
    component: str = strawberry.field(description="The component that offers the block.")
    title_zh: str = strawberry.field(description="The block's name for editors, in Chinese.")
    title_en: str = strawberry.field(description="The block's name for editors, in English.")
    settings_schema: JSON = strawberry.field(description="The JSON Schema of the block's settings.")
    graphql_type: str = strawberry.field(description="The GraphQL type its data comes as.")


async def render(ctx: Context, slug: str, latitude: float | None, longitude: float | None) -> StorefrontPage | None:
    kernel = ctx.kernel
    page = kernel.pages.get(slug)
    if page is None:
        return None
    request = PageRequest(ctx, kernel.clock.now(), latitude, longitude)
    visible = [p for p in page.blocks if _visible(p, request.now, ctx.actor.is_member)]
    by_type: dict[str, list[Any]] = {}
    for placement in visible:
        by_type.setdefault(placement.block_type, []).append(placement)
    data: dict[int, dict[str, Any]] = {}
    for name, placements in by_type.items():
        kind = kernel.contributions.page_blocks[name]
        found = await kind.resolve_all(request, [p.settings for p in placements])
        data.update({id(p): d for p, d in zip(placements, found, strict=True)})
    shown: list[Any] = []
    for placement in visible:
        kind = kernel.contributions.page_blocks[placement.block_type]
        fields = data[id(placement)]
        if kind.is_empty(fields) and not placement.show_empty:
            continue
        shown.append(kind.graphql_type(key=placement.key, block_type=placement.block_type, title=placement.title, **fields))
    return StorefrontPage(slug=page.slug, title=page.title, blocks=shown)


def _visible(placement: Placement, now: datetime, member: bool) -> bool:
    """Inside its schedule, and for members only when it says so."""
    if placement.starts_at is not None and now < placement.starts_at:
        return False
    if placement.ends_at is not None and now >= placement.ends_at:
        return False
    return member or not placement.members_only


@strawberry.type
class StorefrontQuery:
    @strawberry.field(
        description="A storefront page by slug (null if the blueprint has none by that name). Pass the "
        "caller's location for blocks that use it (nearest stores)."
    )
    async def storefront_page(
        self,
        info: strawberry.Info,
        slug: Annotated[str, strawberry.argument(description="The page's slug in the blueprint (`home`).")],
        latitude: Annotated[
            float | None, strawberry.argument(description="The caller's latitude in degrees (WGS 84), for distance-aware blocks.")
        ] = None,
        longitude: Annotated[
            float | None, strawberry.argument(description="The caller's longitude in degrees (WGS 84), for distance-aware blocks.")
        ] = None,
    ) -> StorefrontPage | None:
        return await render(info.context, slug, latitude, longitude)

    @strawberry.field(description="The block types the loaded components offer, with their settings schemas.")
    def storefront_block_types(self, info: strawberry.Info) -> list[StorefrontBlockType]:
        blocks = info.context.kernel.contributions.page_blocks
        return [
            StorefrontBlockType(
                name=b.name,
                component=b.component,
                title_zh=b.titles["zh"],
                title_en=b.titles["en"],
                settings_schema=cast(JSON, dict(b.settings_schema)),  # JSON is a NewType of object, for strawberry
                graphql_type=b.graphql_type.__strawberry_definition__.name,
            )
            for b in sorted(blocks.values(), key=lambda b: b.name)
        ]
