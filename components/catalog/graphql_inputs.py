"""Catalog's GraphQL input types, and reading their two forms of spec and attributes.

Spec and attributes used to be JSON objects (`spec`, `attributes`); they are now lists of
name/value pairs (`specValues`, `attributeValues`). The JSON forms stay, deprecated, for one
release: an input may give either form, never both.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from components.catalog.graphql import ProductStatus
from core.errors import DomainError, refuse_both
from core.gql import MoneyInput

_OLD = "Use {new}; removed in the next release."
_IMAGE = "URL of the SKU's own picture (at most 1000 characters); null or empty shows the product's first image."


@strawberry.input(description="One named value of a SKU's spec, e.g. name 'colour', value 'red'.")
class SpecValueInput:
    name: str = strawberry.field(description="What the value varies, e.g. 'colour'; unique within one SKU.")
    value: str = strawberry.field(description="This SKU's value of it, e.g. 'red'.")


@strawberry.input(description="One named attribute of a product, e.g. name 'origin', value 'Hangzhou'.")
class ProductAttributeInput:
    name: str = strawberry.field(description="The attribute's name; unique within one product.")
    value: str = strawberry.field(description="Its value as text.")


@strawberry.input(description="One SKU of a product being created or added.")
class SkuInput:
    title: str = strawberry.field(description="The variant's name, at most 200 characters.")
    price: MoneyInput = strawberry.field(description="What one unit costs, in minor units of the brand currency.")
    spec: JSON | None = strawberry.field(default=None, description="The spec as a JSON object.", deprecation_reason=_OLD.format(new="specValues"))
    spec_values: list[SpecValueInput] | None = strawberry.field(default=None, description="What makes this variant differ (colour, size…).")
    list_price: MoneyInput | None = strawberry.field(default=None, description="A reference price shown struck through; omit for none.")
    barcode: str | None = strawberry.field(default=None, description="The SKU's barcode, at most 64 characters.")
    weight_grams: int | None = strawberry.field(default=None, description="Shipping weight of one unit in grams.")
    image: str | None = strawberry.field(default=None, description=_IMAGE)


@strawberry.input(description="A new product with its SKUs (staff with catalog.manage).")
class CreateProductInput:
    title: str = strawberry.field(description="The product's name, at most 200 characters.")
    skus: list[SkuInput] = strawberry.field(description="Its SKUs, at least one, in display order.")
    description: str = strawberry.field(default="", description="Long text for the product page.")
    images: list[str] = strawberry.field(default_factory=list, description="Picture URLs, the cover first; at most 20.")
    category_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the Category to file it under.")
    status: ProductStatus = strawberry.field(default=ProductStatus.ON_SALE, description="Its status; ON_SALE unless given.")
    attributes: JSON | None = strawberry.field(
        default=None, description="The attributes as a JSON object.", deprecation_reason=_OLD.format(new="attributeValues")
    )
    attribute_values: list[ProductAttributeInput] | None = strawberry.field(default=None, description="Facts about the product (origin…).")


@strawberry.input(description="Changes to a product; fields left out stay as they are.")
class UpdateProductInput:
    id: strawberry.ID = strawberry.field(description="Global id of the Product.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="A new long text; null empties it.")
    images: list[str] | None = strawberry.field(default=strawberry.UNSET, description="The new picture list, replacing the old one.")
    category_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Global id of a Category; null files it nowhere.")
    status: ProductStatus | None = strawberry.field(default=strawberry.UNSET, description="A new status.")
    attribute_values: list[ProductAttributeInput] | None = strawberry.field(
        default=strawberry.UNSET, description="The new attribute list, replacing the old one; null empties it."
    )


@strawberry.input(description="A SKU to add to an existing product.")
class CreateSkuInput:
    product_id: strawberry.ID = strawberry.field(description="Global id of the Product.")
    sku: SkuInput = strawberry.field(description="The new SKU.")


@strawberry.input(description="Changes to a SKU; fields left out stay as they are.")
class UpdateSkuInput:
    id: strawberry.ID = strawberry.field(description="Global id of the Sku.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="A new variant name.")
    price: MoneyInput | None = strawberry.field(default=strawberry.UNSET, description="A new unit price (minor units of the brand currency).")
    list_price: MoneyInput | None = strawberry.field(default=strawberry.UNSET, description="A new reference price; null removes it.")
    spec: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="The spec as a JSON object.", deprecation_reason=_OLD.format(new="specValues")
    )
    spec_values: list[SpecValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="The new spec, replacing the old one; null empties it."
    )
    image: str | None = strawberry.field(default=strawberry.UNSET, description=_IMAGE)


@strawberry.input(description="A new category (staff with catalog.manage).")
class CreateCategoryInput:
    name: str = strawberry.field(description="Its display name, at most 100 characters.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the parent Category; null for the top level.")
    position: int = strawberry.field(default=0, description="Sort position among its siblings, smallest first.")


def _given(value: Any) -> bool:
    return value is not None and value is not strawberry.UNSET


def pairs(old: Any, new: Any, *, old_name: str, new_name: str, field: str, code: str) -> Any:
    """One object from either input form: the deprecated JSON object or the list of pairs.

    Returns ``strawberry.UNSET`` when neither was given (an update leaves the value alone), the
    old JSON as given (the service checks it), or a dict built from the pairs. Both forms at once,
    or one name twice, is a typed error naming the field.
    """
    refuse_both(new if _given(new) else None, old if _given(old) else None, new_name=new_name, old_name=old_name, field=f"{field}.{new_name}")
    if new is strawberry.UNSET or (new is None and old is not strawberry.UNSET and old is not None):
        return old
    if new is None:
        return None
    out: dict[str, str] = {}
    for i, pair in enumerate(new):
        name = pair.name.strip()
        if not name or name in out:
            reason = "is empty" if not name else f"{name!r} is given twice"
            raise DomainError(code, f"A name {reason}; names are unique and not empty.", field=f"{field}.{new_name}[{i}].name")
        out[name] = pair.value
    return out
