"""Errors the kernel and components raise on purpose."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule said no. Becomes one entry of a payload's ``userErrors``.

    ``code`` must be declared by the component (``dougong_error_codes``); ``field`` names the
    input field at fault, in the GraphQL spelling (``input.quantity``) when there is one.
    ``details`` carries machine-readable context a client may need (e.g. the new current price
    after a lost bidding race); the user error exposes it as ``detailList`` (key/value strings,
    core.gql.payload.detail_list) and, for one release, as the deprecated ``details: JSON``. Keep
    the keys camelCase and the values plain (strings, numbers, booleans, short lists).
    """

    def __init__(self, code: str, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.details = details


class BootError(Exception):
    """The kernel refused to start: a contract was broken. The message names the components."""


class NotAuthorized(DomainError):
    """The caller may not do this. Raised by ``ctx.require``; code ``KERNEL_FORBIDDEN``."""

    def __init__(self, message: str = "You are not allowed to do this.", *, field: str | None = None) -> None:
        super().__init__("KERNEL_FORBIDDEN", message, field=field)


class NotAuthenticated(DomainError):
    def __init__(self, message: str = "Sign in first.") -> None:
        super().__init__("KERNEL_UNAUTHENTICATED", message)


# The code of the top-level ``errors[]`` entry for anything unexpected (a bug, a crash in a
# resolver): the message says only that it was logged, never the internals.
INTERNAL = "KERNEL_INTERNAL"
# The code of an ``errors[]`` entry for a document refused before it ran: a syntax error, a
# field that does not exist, a query over the depth, alias or token limits, a bad variable.
INVALID_DOCUMENT = "KERNEL_INVALID_DOCUMENT"

# Codes the kernel itself may return; components declare theirs through a hook.
KERNEL_ERROR_CODES = {
    "KERNEL_FORBIDDEN": "The caller lacks the permission or ownership this needs.",
    "KERNEL_UNAUTHENTICATED": "The operation needs a signed-in member or staff.",
    "KERNEL_NOT_FOUND": "No object with that id exists, or the caller may not see it.",
    "KERNEL_INVALID_ID": "The id is not a valid global id of the expected type.",
    "KERNEL_INVALID_INPUT": "An argument is malformed (negative, too large, wrong currency).",
    "KERNEL_IDEMPOTENCY_CONFLICT": "The idempotency key was already used for a different request.",
    "KERNEL_CHECKOUT_CONFLICT": "Two components claim the same checkout line or the order's delivery.",
    "KERNEL_BUSY": "The server had no database connection free in time; nothing changed, retry shortly.",
}


def refuse_both(new: Any, old: Any, *, new_name: str, old_name: str, field: str) -> None:
    """Refuse an input that gives a field and its deprecated alias together (kept for one
    release while clients move to the new name): silently preferring one would hide a client
    bug. One code and one wording in every component; ``field`` is the place to name."""
    if new is not None and old is not None:
        raise DomainError(
            "KERNEL_INVALID_INPUT", f"Give {new_name} or the deprecated {old_name}, not both.", field=field, fields=[new_name, old_name]
        )
