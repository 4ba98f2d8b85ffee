"""``@loaded(loader, key)``: a field whose value is one key's result from a request loader.

Most relations of a page are that and nothing more — ``Product.skus`` is
``ctx.loader("catalog.skus_by_product").load(product.pk)``. Resolved one object at a time,
a page of 50 products with 3 SKUs each made ~450 such calls, each a coroutine created,
stepped, parked on the batch's future and stepped again (issue 26: about a third of the
signed-in storefront page once its reads ran inline). Declared with this decorator, the
compiled plan (``core.gql.fast_plan``) asks the loader for the whole level's keys at once and
fills the column from one awaitable.

The decorated function declares the field — its parameters, return type and docstring are
what strawberry reads — and its body is never run: the resolver is written here, from the
declaration, so the plan and graphql-core (which calls the resolver per object, as for any
field) cannot disagree::

    @strawberry.field(description="The product's SKUs in display order.")
    @loaded("catalog.skus_by_product", key="pk")
    async def skus(self, info: strawberry.Info) -> list[Sku]:
        \"\"\"Answered by the loader (core.gql.loaded).\"\"\"

``key`` names the attribute of the parent object whose value is the loader's key; when it is
``None`` the field is ``if_none`` (default ``None``) without asking the loader. It works the
same for functions given to ``registrar.extend`` (``root`` instead of ``self``).
"""

from __future__ import annotations

import functools
import inspect
from operator import attrgetter
from typing import Any, Callable, NamedTuple

ATTRIBUTE = "__dougong_loaded__"


class Loaded(NamedTuple):
    """What the plan needs: the loader's name, how to read a parent's key, the value for no key."""

    loader: str
    key_of: Callable[[Any], Any]
    if_none: Any


def loaded(loader: str, key: str, *, if_none: Any = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def declare(declared: Callable[..., Any]) -> Callable[..., Any]:
        parameters = list(inspect.signature(declared).parameters)
        if len(parameters) != 2:
            raise TypeError(f"{declared.__qualname__}: a loaded field takes (self, info) or (root, info), nothing else")
        root_name, info_name = parameters
        key_of = attrgetter(key)

        async def resolve(*args: Any, **kwargs: Any) -> Any:
            root = args[0] if args else kwargs[root_name]
            info = args[1] if len(args) > 1 else kwargs[info_name]
            value = key_of(root)
            if value is None:
                return if_none
            return await info.context.loader(loader).load(value)

        functools.update_wrapper(resolve, declared)  # strawberry reads the declaration through __wrapped__
        setattr(resolve, ATTRIBUTE, Loaded(loader, key_of, if_none))
        return resolve

    return declare


def declared_load(function: Any) -> Loaded | None:
    """The declaration behind a resolver made by :func:`loaded`, else None."""
    return getattr(function, ATTRIBUTE, None)
