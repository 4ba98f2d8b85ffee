"""Mutation payloads: the result plus ``userErrors { code field message detailList }``.

Business refusals are data, not exceptions, for the frontend: every mutation returns a payload
whose ``userErrors`` lists what went wrong, with a code from the one ``ErrorCode`` enum. The
top-level ``errors`` array is left for the unexpected.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable, cast

import strawberry
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.scalars import JSON

from core.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    from core.gql.context import Context
    from core.transaction import Transaction

log = logging.getLogger("dougong.mutations")


DETAILS_DEPRECATION = "Use detailList; removed in the next release."


@strawberry.type(description="One piece of machine-readable context on a user error, e.g. key `maxMinor`, value `1200`.")
class UserErrorDetail:
    key: str = strawberry.field(description="The detail's name, in camelCase (`currentPrice`, `status`, `missing`).")
    value: str = strawberry.field(
        description="The value as text: a string as is, a number in decimal, a boolean as `true`/`false`, a list or object as compact JSON."
    )


@strawberry.type(description="Why a mutation did not do what was asked: one business refusal, typed by its code.")
class UserError:
    # Typed as the kernel's gathered ErrorCode enum when the schema is built (see schema.py).
    code: str = strawberry.field(description="What went wrong, prefixed by the component that refused (`GROUP_BUY_FULL`).")
    message: str = strawberry.field(description="A sentence for a person; may change between releases, branch on `code` instead.")
    field: str | None = strawberry.field(
        default=None, description="The input field at fault in GraphQL spelling (`input.quantity`); null when no one field is."
    )
    details: JSON | None = strawberry.field(
        default=None, description="The context as one JSON object; null when there is none.", deprecation_reason=DETAILS_DEPRECATION
    )

    @strawberry.field(description="Machine-readable context (the new current price, the amount left…); empty when there is none.")
    def detail_list(self) -> list[UserErrorDetail]:
        return detail_list(self.details)


def detail_list(details: Any) -> list[UserErrorDetail]:
    """A details dict as typed key/value pairs, in the order the refusal gave them."""
    if not isinstance(details, dict):
        return []
    return [UserErrorDetail(key=str(key), value=detail_text(value)) for key, value in details.items()]


def detail_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


@strawberry.type
class Payload:
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the mutation was refused; empty when it succeeded. When not empty, nothing was written."
    )


def user_error(error: DomainError) -> UserError:
    return UserError(code=error.code, message=error.message, field=error.field, details=cast(JSON, error.details or None))


async def run_mutation(
    ctx: Context,
    work: Callable[[Transaction], Awaitable[dict[str, Any]]],
    *,
    idempotency: tuple[str, str | None, Any] | None = None,
    precheck: Callable[[], None] | None = None,
) -> tuple[dict[str, Any] | None, list[UserError]]:
    """Run ``work`` in one write transaction and turn refusals into user errors.

    ``idempotency`` is ``(scope, key, request)``: with a key, a replay returns the first
    result (a JSON-able dict) and does nothing else. ``work`` returns such a dict; the
    resolver turns it back into GraphQL objects, so a replay and a first call answer alike.
    ``precheck`` may refuse (raise a DomainError) once the write slot is ours, before BEGIN
    (see ``Kernel.transaction``); never pass one with an idempotency key: a replay must answer.
    """
    kernel = ctx.kernel
    # The request's read session (opened to read the caller's rights) goes back before the
    # write begins: a mutation never holds two pooled connections, so a crowd larger than the
    # pool queues for one instead of each holding one while waiting for another.
    await ctx.reset_session()
    try:
        async with kernel.transaction(hand_over=ctx.adopt_session, precheck=precheck) as tx:
            if idempotency is not None:
                scope, key, request = idempotency
                previous = await tx.replay(scope, ctx.actor.key, key, request)
                if previous is not None:
                    result = previous
                else:
                    result = await work(tx)
                    await tx.remember(scope, ctx.actor.key, key, result)
            else:
                result = await work(tx)
    except DomainError as error:
        kernel.check_error_code(error.code)
        return None, [user_error(error)]
    except PoolTimeout:
        # A flash crowd larger than the connection pool: the transaction never got a
        # connection, so nothing was written. Say so, typed and retryable, not as a crash.
        log.warning("no database connection free within the pool timeout; answered KERNEL_BUSY")
        return None, [
            UserError(
                code="KERNEL_BUSY",
                message="The shop is very busy right now; nothing changed, please try again.",
                details=cast(JSON, {"retryAfterSeconds": 1}),
            )
        ]
    finally:
        # Reads before the write saw an old snapshot; the payload reads what was committed.
        await ctx.after_write()
    return result, []
