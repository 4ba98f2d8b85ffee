"""``storefrontPage(slug)``: one query renders a page of component blocks.

Blocks are resolved one after another on the request's session (one ``AsyncSession`` is not
for concurrent use), each by its component's resolver; the kernel only decides which blocks
show: scheduled ones between their times, members-only ones for members, empty ones only when
the page asks for it. Part of the schema only when a loaded component offers blocks.
"""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from core.gql.context import Context
from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(description="A storefront page from the blueprint: its blocks in order, with their data.")
class StorefrontPage:
    slug: str
    title: str
    blocks: list[StorefrontBlock]


@strawberry.type(description="A block type operators can place on pages (for editors such as the studio).")
class StorefrontBlockType:
    name: str = strawberry.field(description="`<component>.<block>`, as written in the blueprint.")
    component: str
    title_zh: str
    title_en: str
    settings_schema: JSON = strawberry.field(description="The JSON Schema of the block's settings.")
    graphql_type: str = strawberry.field(description="The GraphQL type its data comes as.")


async def render(ctx: Context, slug: str, latitude: float | None, longitude: float | None) -> StorefrontPage | None:
    kernel = ctx.kernel
    page = kernel.pages.get(slug)
    if page is None:
        return None
    request = PageRequest(ctx, kernel.clock.now(), latitude, longitude)
    shown: list[Any] = []
    for placement in page.blocks:
        if placement.starts_at is not None and request.now < placement.starts_at:
            continue
        if placement.ends_at is not None and request.now >= placement.ends_at:
            continue
        if placement.members_only and not ctx.actor.is_member:
            continue
        kind = kernel.contributions.page_blocks[placement.block_type]
        data = await kind.resolve(request, placement.settings)
        if kind.is_empty(data) and not placement.show_empty:
            continue
        shown.append(kind.graphql_type(key=placement.key, block_type=placement.block_type, title=placement.title, **data))
    return StorefrontPage(slug=page.slug, title=page.title, blocks=shown)


@strawberry.type
class StorefrontQuery:
    @strawberry.field(
        description="A storefront page by slug (null if the blueprint has none by that name). Pass the "
        "caller's location for blocks that use it (nearest stores)."
    )
    async def storefront_page(
        self, info: strawberry.Info, slug: str, latitude: float | None = None, longitude: float | None = None
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
