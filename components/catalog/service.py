"""Catalog rules: what a product and a SKU may be. No GraphQL here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from components.catalog.models import PRODUCT_STATUSES, Category, Product, Sku
from core.errors import DomainError
from core.gql.money import MAX_MINOR
from core.transaction import Transaction

# Limits match the column sizes in models.py: PostgreSQL refuses longer text with a database
# error (a 500 leaking SQL), SQLite silently stores it; checking here gives both a typed error.
MAX_TITLE = 200
MAX_CATEGORY_NAME = 100
MAX_BARCODE = 64
MAX_DESCRIPTION = 20_000
MAX_IMAGES = 20
MAX_IMAGE_URL = 1_000


@dataclass(frozen=True)
class SkuInfo:
    """What a selling component needs to know about a SKU."""

    id: int
    product_id: int
    product_title: str
    title: str
    spec: dict[str, Any]
    price_minor: int
    list_price_minor: int | None
    on_sale: bool


def _title(value: str | None, field: str, *, limit: int = MAX_TITLE, what: str = "title") -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError("CATALOG_INVALID_TITLE", f"A {what} cannot be empty.", field=field)
    if len(text) > limit:
        raise DomainError("CATALOG_INVALID_TITLE", f"A {what} has at most {limit} characters.", field=field)
    return text


def _description(value: str | None, field: str) -> str:
    text = value or ""
    if len(text) > MAX_DESCRIPTION:
        raise DomainError("KERNEL_INVALID_INPUT", f"A description has at most {MAX_DESCRIPTION} characters.", field=field)
    return text


def _images(value: Any, field: str) -> list[str]:
    images = list(value or [])
    if len(images) > MAX_IMAGES:
        raise DomainError("KERNEL_INVALID_INPUT", f"A product has at most {MAX_IMAGES} images.", field=field)
    for image in images:
        if not isinstance(image, str) or not image.strip() or len(image) > MAX_IMAGE_URL:
            raise DomainError("KERNEL_INVALID_INPUT", "An image is a URL of at most 1000 characters.", field=field)
    return [image.strip() for image in images]


def _image(value: Any, field: str) -> str | None:
    """A SKU's own picture: one URL checked like a product image, or None to show the product's."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _images([value], field)[0]


def _attributes(value: Any, field: str) -> dict[str, Any]:
    # The GraphQL JSON scalar accepts any JSON value; attributes are an object by contract.
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DomainError("KERNEL_INVALID_INPUT", 'Attributes are a JSON object, e.g. {"origin": "Hangzhou"}.', field=field)
    return dict(value)


def _barcode(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_BARCODE:
        raise DomainError("KERNEL_INVALID_INPUT", f"A barcode has at most {MAX_BARCODE} characters.", field=field)
    return value


def _price(value: int | None, field: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_MINOR:
        raise DomainError("CATALOG_INVALID_PRICE", "A price is a whole, non-negative number of minor units.", field=field)
    return value


def _spec(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, (str, int)) for k, v in value.items()):
        raise DomainError("CATALOG_INVALID_SPEC", 'A spec maps names to values, e.g. {"colour": "red"}.', field=field)
    return {k: str(v) for k, v in value.items()}


class CatalogService:
    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.max_skus = int(settings.get("max_skus_per_product", 50))

    async def skus(self, session: AsyncSession, sku_ids: list[int]) -> dict[int, SkuInfo]:
        if not sku_ids:
            return {}
        rows = await session.execute(
            select(Sku, Product.title, Product.status).join(Product, Product.id == Sku.product_id).where(Sku.id.in_(set(sku_ids)))
        )
        return {
            sku.id: SkuInfo(
                sku.id, sku.product_id, title, sku.title, dict(sku.spec or {}), sku.price_minor, sku.list_price_minor, status == "on_sale"
            )
            for sku, title, status in rows.all()
        }

    async def sku_ids(self, session: AsyncSession, *, limit: int | None = None) -> list[int]:
        """Every SKU id, oldest first (demo data of other components picks from these)."""
        stmt = select(Sku.id).order_by(Sku.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await session.scalars(stmt)).all())

    async def product_attributes(self, session: AsyncSession, product_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Product id → its attributes object."""
        if not product_ids:
            return {}
        rows = await session.execute(select(Product.id, Product.attributes).where(Product.id.in_(set(product_ids))))
        return {pid: dict(attributes or {}) for pid, attributes in rows.all()}

    async def product_categories(self, session: AsyncSession, product_ids: list[int]) -> dict[int, frozenset[int]]:
        """Product id → its category and every ancestor of it (a coupon for 绿茶 covers a product
        filed under 绿茶 › 龙井). Products without a category map to an empty set."""
        if not product_ids:
            return {}
        rows = (await session.execute(select(Product.id, Product.category_id).where(Product.id.in_(set(product_ids))))).all()
        parents = dict((await session.execute(select(Category.id, Category.parent_id))).all())
        out: dict[int, frozenset[int]] = {}
        for product_id, category_id in rows:
            path: set[int] = set()
            while category_id is not None and category_id not in path:  # a cycle would be bad data, not a hang
                path.add(category_id)
                category_id = parents.get(category_id)
            out[product_id] = frozenset(path)
        return out

    async def product_skus(self, session: AsyncSession, product_id: int) -> list[SkuInfo]:
        """A product's SKUs in their display order (none for an unknown product)."""
        rows = await session.execute(
            select(Sku, Product.title, Product.status)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.product_id == product_id)
            .order_by(Sku.position, Sku.id)
        )
        return [
            SkuInfo(sku.id, sku.product_id, title, sku.title, dict(sku.spec or {}), sku.price_minor, sku.list_price_minor, status == "on_sale")
            for sku, title, status in rows.all()
        ]

    async def product_ids(
        self, session: AsyncSession, *, title_contains: str | None = None, on_sale_only: bool = False, limit: int = 20
    ) -> list[int]:
        """Product ids, oldest first: all of them, those whose title contains a text (taken
        literally), or only those on sale. For other components' demo data and pickers."""
        stmt = select(Product.id).order_by(Product.id).limit(limit)
        if title_contains:
            escaped = title_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Product.title.like(f"%{escaped}%", escape="\\"))
        if on_sale_only:
            stmt = stmt.where(Product.status == "on_sale")
        return list((await session.scalars(stmt)).all())

    async def create_category(self, tx: Transaction, name: str, parent_id: int | None = None, position: int = 0) -> int:
        name = _title(name, "input.name", limit=MAX_CATEGORY_NAME, what="category name")
        if parent_id is not None and await tx.session.get(Category, parent_id) is None:
            raise DomainError("CATALOG_UNKNOWN_CATEGORY", "The parent category does not exist.", field="input.parentId")
        category = Category(name=name, parent_id=parent_id, position=position)
        tx.session.add(category)
        await tx.session.flush()
        return category.id

    async def create_product(
        self,
        tx: Transaction,
        *,
        title: str,
        skus: list[Mapping[str, Any]],
        category_id: int | None = None,
        description: str = "",
        images: list[str] | tuple[str, ...] = (),
        status: str = "on_sale",
        attributes: Mapping[str, Any] | None = None,
    ) -> int:
        title = _title(title, "input.title")
        description = _description(description, "input.description")
        images = _images(images, "input.images")
        attributes = _attributes(attributes, "input.attributes")
        self._check_status(status)
        if category_id is not None and await tx.session.get(Category, category_id) is None:
            raise DomainError("CATALOG_UNKNOWN_CATEGORY", "That category does not exist.", field="input.categoryId")
        if not skus:
            raise DomainError("CATALOG_NO_SKU", "A product needs at least one SKU.", field="input.skus")
        if len(skus) > self.max_skus:
            raise DomainError("CATALOG_TOO_MANY_SKUS", f"A product has at most {self.max_skus} SKUs.", field="input.skus")
        product = Product(
            title=title,
            description=description,
            images=images,
            category_id=category_id,
            status=status,
            attributes=attributes,
            created_at=tx.now(),
        )
        tx.session.add(product)
        await tx.session.flush()
        for position, sku in enumerate(skus):
            await self._add_sku(tx, product.id, sku, position, f"input.skus[{position}]")
        await tx.emit("catalog.product_changed", {"productId": product.id})
        return product.id

    async def update_product(self, tx: Transaction, product_id: int, changes: Mapping[str, Any]) -> None:
        product = await tx.session.get(Product, product_id)
        if product is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such product.", field="input.id")
        if "title" in changes:
            product.title = _title(changes["title"], "input.title")
        if "status" in changes:
            self._check_status(changes["status"])
            product.status = changes["status"]
        if "description" in changes:
            product.description = _description(changes["description"], "input.description")
        if "images" in changes:
            product.images = _images(changes["images"], "input.images")
        if "attributes" in changes:
            product.attributes = _attributes(changes["attributes"], "input.attributes")
        if "category_id" in changes:
            if changes["category_id"] is not None and await tx.session.get(Category, changes["category_id"]) is None:
                raise DomainError("CATALOG_UNKNOWN_CATEGORY", "That category does not exist.", field="input.categoryId")
            product.category_id = changes["category_id"]
        await tx.emit("catalog.product_changed", {"productId": product.id})

    async def add_sku(self, tx: Transaction, product_id: int, sku: Mapping[str, Any]) -> int:
        if await tx.session.get(Product, product_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such product.", field="input.productId")
        count = len((await tx.session.scalars(select(Sku.id).where(Sku.product_id == product_id))).all())
        if count >= self.max_skus:
            raise DomainError("CATALOG_TOO_MANY_SKUS", f"A product has at most {self.max_skus} SKUs.", field="input.productId")
        sku_id = await self._add_sku(tx, product_id, sku, count, "input")
        await tx.emit("catalog.product_changed", {"productId": product_id})
        return sku_id

    async def update_sku(self, tx: Transaction, sku_id: int, changes: Mapping[str, Any]) -> None:
        sku = await tx.session.get(Sku, sku_id)
        if sku is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.id")
        if "title" in changes:
            sku.title = _title(changes["title"], "input.title")
        if "price_minor" in changes:
            sku.price_minor = _price(changes["price_minor"], "input.price")
        if "list_price_minor" in changes:
            sku.list_price_minor = _price(changes["list_price_minor"], "input.listPrice", optional=True)
        if "spec" in changes:
            sku.spec = _spec(changes["spec"], "input.spec")
        if "image" in changes:
            sku.image = _image(changes["image"], "input.image")
        await tx.emit("catalog.product_changed", {"productId": sku.product_id, "skuId": sku.id})

    async def _add_sku(self, tx: Transaction, product_id: int, data: Mapping[str, Any], position: int, field: str) -> int:
        weight = data.get("weight_grams")
        if weight is not None and (not isinstance(weight, int) or weight < 0):
            raise DomainError("CATALOG_INVALID_SPEC", "A weight is a non-negative number of grams.", field=f"{field}.weightGrams")
        sku = Sku(
            product_id=product_id,
            title=_title(data.get("title", ""), f"{field}.title"),
            spec=_spec(data.get("spec"), f"{field}.spec"),
            price_minor=_price(data.get("price_minor"), f"{field}.price"),
            list_price_minor=_price(data.get("list_price_minor"), f"{field}.listPrice", optional=True),
            barcode=_barcode(data.get("barcode"), f"{field}.barcode"),
            weight_grams=weight,
            image=_image(data.get("image"), f"{field}.image"),
            position=position,
        )
        tx.session.add(sku)
        await tx.session.flush()
        return sku.id

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in PRODUCT_STATUSES:
            raise DomainError("CATALOG_INVALID_STATUS", f"Status must be one of {', '.join(PRODUCT_STATUSES)}.", field="input.status")
