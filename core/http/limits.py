"""Request limits a proxy would set, set by the server too (see the README's production section).

Every limit is an environment setting, read once per process, so that an operator can tune
them per deployment without touching a blueprint (they protect the process, not a brand).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


def _positive(name: str, default: float, kind: type = int) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = kind(raw)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number, got {raw!r}")
    return value


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1024 * 1024  # DOUGONG_MAX_BODY_BYTES: larger bodies get 413
    max_json_depth: int = 32  # DOUGONG_MAX_JSON_DEPTH: nesting of a request's JSON
    max_json_values: int = 10_000  # DOUGONG_MAX_JSON_VALUES: values in a request's JSON
    max_ws_message_bytes: int = 64 * 1024  # DOUGONG_MAX_WS_MESSAGE_BYTES: larger frames close with 1009
    header_timeout: float = 10.0  # DOUGONG_HEADER_TIMEOUT: seconds to send a request's headers
    max_connections: int = 2000  # DOUGONG_MAX_CONNECTIONS: per worker, then 503

    @classmethod
    def from_environment(cls) -> Limits:
        d = cls()
        return cls(
            max_body_bytes=_positive("DOUGONG_MAX_BODY_BYTES", d.max_body_bytes),
            max_json_depth=_positive("DOUGONG_MAX_JSON_DEPTH", d.max_json_depth),
            max_json_values=_positive("DOUGONG_MAX_JSON_VALUES", d.max_json_values),
            max_ws_message_bytes=_positive("DOUGONG_MAX_WS_MESSAGE_BYTES", d.max_ws_message_bytes),
            header_timeout=_positive("DOUGONG_HEADER_TIMEOUT", d.header_timeout, float),
            max_connections=_positive("DOUGONG_MAX_CONNECTIONS", d.max_connections),
        )
