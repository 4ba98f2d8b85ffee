"""A member's address book, and the snapshot an order keeps of the address it ships to.

Chinese addresses: recipient, a mainland mobile number, province / city / district, the
street detail, an optional location. An order copies the address at checkout, so editing or
removing it later never changes where a placed order goes.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

from sqlalchemy import func, select, update

from components.orders.models import Address
from core.errors import DomainError
from core.transaction import Transaction

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
MAX_ADDRESSES = 20
LIMITS = {"recipient": 50, "province": 30, "city": 30, "district": 30, "detail": 200}
FIELDS = ("recipient", "phone", "province", "city", "district", "detail", "latitude", "longitude")


def clean_address(values: Mapping[str, Any], field: str = "input") -> dict[str, Any]:
    """Checked address fields, or the first problem as a typed error naming the field."""
    out: dict[str, Any] = {}
    for name, limit in LIMITS.items():
        text = values.get(name)
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            raise DomainError("ORDERS_INVALID_ADDRESS", f"The {name} is required.", field=f"{field}.{name}")
        if len(text) > limit or any(ord(ch) < 32 for ch in text):
            raise DomainError(
                "ORDERS_INVALID_ADDRESS", f"The {name} has at most {limit} characters and no control characters.", field=f"{field}.{name}"
            )
        out[name] = text
    phone = values.get("phone")
    phone = phone.strip() if isinstance(phone, str) else ""
    if not MOBILE.fullmatch(phone):
        raise DomainError("ORDERS_INVALID_ADDRESS", "The phone is a mainland mobile number of 11 digits (13x–19x).", field=f"{field}.phone")
    out["phone"] = phone
    latitude, longitude = values.get("latitude"), values.get("longitude")
    if (latitude is None) != (longitude is None):
        raise DomainError("ORDERS_INVALID_ADDRESS", "Give both latitude and longitude, or neither.", field=f"{field}.latitude")
    if latitude is not None:
        if not (math.isfinite(latitude) and -90 <= latitude <= 90 and math.isfinite(longitude) and -180 <= longitude <= 180):
            raise DomainError("ORDERS_INVALID_ADDRESS", "The location is out of range.", field=f"{field}.latitude")
    out["latitude"], out["longitude"] = latitude, longitude
    return out


def snapshot(address: Address) -> dict[str, Any]:
    """What an order keeps of an address."""
    return {name: getattr(address, name) for name in FIELDS}


class Addresses:
    async def of_member(self, session: Any, member_id: int) -> list[Address]:
        return list(
            (await session.scalars(select(Address).where(Address.member_id == member_id).order_by(Address.is_default.desc(), Address.id))).all()
        )

    async def own(self, session: Any, member_id: int, address_id: int, field: str = "input.addressId") -> Address:
        address = await session.get(Address, address_id)
        if address is None or address.member_id != member_id:
            raise DomainError("KERNEL_NOT_FOUND", "No such address.", field=field)
        return address

    async def add(self, tx: Transaction, member_id: int, values: Mapping[str, Any], *, is_default: bool) -> Address:
        fields = clean_address(values)
        count = int(await tx.session.scalar(select(func.count()).select_from(Address).where(Address.member_id == member_id)) or 0)
        if count >= MAX_ADDRESSES:
            raise DomainError("ORDERS_INVALID_ADDRESS", f"An address book holds at most {MAX_ADDRESSES} addresses.", field="input")
        address = Address(member_id=member_id, is_default=False, created_at=tx.now(), **fields)
        tx.session.add(address)
        await tx.session.flush()
        if is_default or count == 0:  # the first address is the default one
            await self.make_default(tx, address)
        return address

    async def update(self, tx: Transaction, member_id: int, address_id: int, changes: Mapping[str, Any], *, is_default: bool | None) -> Address:
        address = await self.own(tx.session, member_id, address_id)
        merged = {name: getattr(address, name) for name in FIELDS}
        merged.update({k: v for k, v in changes.items() if v is not None})
        for name, value in clean_address(merged).items():
            setattr(address, name, value)
        await tx.session.flush()
        if is_default:
            await self.make_default(tx, address)
        return address

    async def remove(self, tx: Transaction, member_id: int, address_id: int) -> None:
        address = await self.own(tx.session, member_id, address_id)
        was_default = address.is_default
        await tx.session.delete(address)
        await tx.session.flush()
        if was_default:
            rest = await self.of_member(tx.session, member_id)
            if rest:
                await self.make_default(tx, rest[0])

    async def make_default(self, tx: Transaction, address: Address) -> None:
        await tx.session.execute(update(Address).where(Address.member_id == address.member_id).values(is_default=False))
        await tx.session.execute(update(Address).where(Address.id == address.id).values(is_default=True))
        await tx.session.refresh(address)
