"""Storefront pages (店铺装修) assembled from blocks that components contribute.

A component registers block types in its ``dougong_page_blocks`` hook::

    registrar.page_block("group_buy.offers", titles={"zh": "拼团", "en": "Group buys"},
                         settings_schema={...}, graphql_type=GroupBuyOffersBlock, resolve=offers_block)

- the name is ``<component>.<block>``, so a blueprint naming a block of a component it does not
  load is told which component to add; two claims of one name stop the boot naming both;
- ``graphql_type`` is a strawberry type implementing :class:`StorefrontBlock` (``key``,
  ``blockType``, ``title``) plus its resolved data;
- ``resolve(page, settings)`` returns the data fields of that type as a dict (``page`` is a
  :class:`PageRequest`: the GraphQL context, the actor, the caller's location); the kernel
  adds the common fields. A block whose every list field is empty (or that its ``empty``
  callable calls empty) is left out of the page unless its placement says ``show_empty``;
- ``resolve_many(page, [settings, ...])`` (optional) resolves every block of the type on one page
  at once, returning the data in the same order: a page of six product grids then costs one
  statement, not six. Without it the kernel calls ``resolve`` once per block.

Pages come from the blueprint (:mod:`core.pages`); ``storefrontPage(slug)`` renders one in a
single request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping

import strawberry

from core.errors import BootError

if TYPE_CHECKING:  # pragma: no cover
    from core.gql.context import Context

_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]{0,48}$")


@strawberry.interface(
    description="One block of a storefront page. Render the types you know; show a placeholder "
    "(or nothing) for the others: blocks come from the components a brand loads."
)
class StorefrontBlock:
    key: str = strawberry.field(description="The block's key on its page (stable across reorders when the page names it).")
    block_type: str = strawberry.field(description="The block type, e.g. `catalog.banner`.")
    title: str | None = strawberry.field(description="The heading the operator gave the block, if any.")


@dataclass(frozen=True)
class PageBlockType:
    name: str
    component: str
    titles: Mapping[str, str]
    settings_schema: Mapping[str, Any]
    graphql_type: type
    resolve: Callable[..., Awaitable[dict[str, Any]]]
    empty: Callable[[Mapping[str, Any]], bool] | None = None  # default: is_empty
    resolve_many: Callable[..., Awaitable[list[dict[str, Any]]]] | None = None

    def is_empty(self, data: Mapping[str, Any]) -> bool:
        return (self.empty or is_empty)(data)

    async def resolve_all(self, page: PageRequest, settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The data of every block of this type on one page, in order."""
        if self.resolve_many is not None:
            found = await self.resolve_many(page, settings)
            if len(found) != len(settings):
                raise RuntimeError(f"page block {self.name!r}: resolve_many answered {len(found)} blocks for {len(settings)}")
            return found
        # One AsyncSession is not for concurrent use: one block after another.
        return [await self.resolve(page, one) for one in settings]


@dataclass
class PageRequest:
    """What a block's resolver may read: the request's context (actor, session, loaders) and
    where the caller is, when the page was asked for with a location."""

    ctx: Context
    now: datetime
    latitude: float | None = None
    longitude: float | None = None

    @property
    def kernel(self) -> Any:
        return self.ctx.kernel

    @property
    def actor(self) -> Any:
        return self.ctx.actor

    async def session(self) -> Any:
        return await self.ctx.session()


def check_block(component: str, name: str, titles: Mapping[str, str], settings_schema: Any, graphql_type: type) -> None:
    """The boot-time checks of one registration (the collision check is the registry's)."""
    if not _NAME.match(name) or name.split(".", 1)[0] != component:
        raise BootError(f"component {component!r} registers page block {name!r}: block names are '{component}.<name>' in lower case")
    if not isinstance(titles, Mapping) or not titles.get("zh") or not titles.get("en"):
        raise BootError(f"page block {name!r} of {component!r} needs titles in zh and en")
    if not isinstance(settings_schema, Mapping) or settings_schema.get("type") != "object":
        raise BootError(f"page block {name!r} of {component!r}: its settings schema must be a JSON Schema of type object")
    definition = getattr(graphql_type, "__strawberry_definition__", None)
    if definition is None or StorefrontBlock not in getattr(graphql_type, "__mro__", ()):
        raise BootError(f"page block {name!r} of {component!r}: its GraphQL type must be a strawberry type implementing StorefrontBlock")


def is_empty(data: Mapping[str, Any]) -> bool:
    """The default: a block with list fields is empty when every one is empty; a block without
    (a banner, a search bar) never is."""
    lists = [v for v in data.values() if isinstance(v, (list, tuple))]
    return bool(lists) and all(len(v) == 0 for v in lists)
