"""Money: integer minor units plus an ISO currency, never a float."""

from __future__ import annotations

import strawberry

from core.errors import DomainError
from core.gql.scalars import Long
from core.units import format_money

MAX_MINOR = 10**13  # 100 billion yuan: anything larger is a typo or an attack


@strawberry.type(description="An amount of money in the brand's currency.")
class Money:
    amount_minor: Long = strawberry.field(description="Integer minor units (分 for CNY).")
    currency: str = strawberry.field(description="ISO 4217 code.")

    @strawberry.field(description='Decimal text, e.g. "99.00".')
    def amount(self) -> str:
        return format_money(self.amount_minor, self.currency)


@strawberry.input(description="An amount in integer minor units; the currency must be the brand's.")
class MoneyInput:
    amount_minor: Long = strawberry.field(description="Integer minor units (分 for CNY), 0 or more.")
    currency: str = strawberry.field(description="ISO 4217 code; must be the brand's currency (`Query.brand.currency`).")


def money(amount_minor: int, currency: str) -> Money:
    return Money(amount_minor=amount_minor, currency=currency)


def minor_from_input(value: MoneyInput, currency: str, field: str, *, allow_zero: bool = True) -> int:
    """Check a MoneyInput against the brand currency and sane bounds; return minor units."""
    if value.currency != currency:
        raise DomainError("KERNEL_INVALID_INPUT", f"amounts are in {currency}, not {value.currency}", field=field)
    if value.amount_minor < 0 or (not allow_zero and value.amount_minor == 0):
        raise DomainError("KERNEL_INVALID_INPUT", "the amount must be positive", field=field)
    if value.amount_minor > MAX_MINOR:
        raise DomainError("KERNEL_INVALID_INPUT", "the amount is too large", field=field)
    return int(value.amount_minor)
