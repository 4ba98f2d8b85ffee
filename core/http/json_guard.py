"""Reading a client's JSON without letting it hurt the process.

``json.loads`` recurses once per nesting level: 10,000 levels of ``[`` raised RecursionError
deep in the request (a plain-text 500 and a traceback). Bytes that are not UTF-8 raised
UnicodeDecodeError the same way. Here both, and documents that are merely too deep or too
big, become :class:`BadRequest`, which the HTTP and websocket layers answer in GraphQL's
shape (HTTP 400, or a websocket close code) without logging a traceback.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from core.http.limits import Limits


class BadRequest(Exception):
    """The request itself is malformed; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, code: str = "KERNEL_BAD_REQUEST", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"data": None, "errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def decode(data: str | bytes, limits: Limits) -> Any:
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The request body is not valid UTF-8.") from None
    try:
        value = json.loads(data)
    except RecursionError:
        raise BadRequest(f"The request's JSON is nested more than {limits.max_json_depth} levels deep.") from None
    except ValueError:  # JSONDecodeError, and lone surrogates in odd places
        raise BadRequest("The request body is not valid JSON.") from None
    check_shape(value, limits)
    return value


def check_shape(value: Any, limits: Limits) -> None:
    """Depth and number of values, iteratively (a recursive walk would be the next RecursionError)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    count = 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > limits.max_json_values:
            raise BadRequest(f"The request's JSON has more than {limits.max_json_values} values.")
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limits.max_json_depth and children:
            raise BadRequest(f"The request's JSON is nested more than {limits.max_json_depth} levels deep.")
        stack.extend((child, depth + 1) for child in children)


# C0 controls except tab, newline and carriage return; DEL; and lone UTF-16 surrogates,
# which JSON can spell ("\ud800") but no database or encoder will take.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def forbidden_character(text: str) -> str | None:
    """The first character a text input may not contain, or None."""
    found = _FORBIDDEN.search(text)
    return found.group() if found else None


def check_text(value: Any, where: str = "variables") -> None:
    """Refuse NUL and other control characters anywhere in a request's variables: a NUL in a
    search matched every row on SQLite and failed inside PostgreSQL's driver."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            bad = forbidden_character(item)
            if bad is not None:
                raise BadRequest(f"Text in {where} may not contain the control character U+{ord(bad):04X}.", code="KERNEL_INVALID_INPUT")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
