"""What a loaded blueprint is (:class:`Blueprint` and its parts) and what is wrong with one
(:class:`Problem`, :class:`BlueprintError`). Re-exported by :mod:`core.blueprint`, which loads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from registry.resolve import Resolution

# Every character str.splitlines breaks on, written as an escape instead.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: int | None
    message: str
    component: str | None = None
    setting: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: "
        if self.setting:
            text += f"{self.setting}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        # One problem, one line (editors and grep jump to file:line): a key or value may carry
        # a line break of its own, CR, NEL or U+2028 among them.
        return text.translate(_LINE_BREAKS)


class BlueprintError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Brand:
    slug: str
    name: str
    currency: str
    timezone: str


DEFAULT_STATEMENT_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class Storage:
    database: str
    redis: str | None = None
    # Long enough for any report a brand runs, short enough that a query stuck behind a lock
    # answers KERNEL_DATABASE_UNAVAILABLE instead of holding a connection for minutes.
    statement_timeout: timedelta = DEFAULT_STATEMENT_TIMEOUT


@dataclass(frozen=True)
class Cors:
    origins: tuple[str, ...] = ()
    credentials: bool = False
    max_age: int = 600


@dataclass(frozen=True)
class AuthSettings:
    secret: str | None = None
    dev_sign_in: bool = False
    token_ttl: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class ComponentEntry:
    name: str
    version: str | None
    settings: dict[str, Any]


@dataclass(frozen=True)
class Blueprint:
    path: str
    format: int
    brand: Brand
    storage: Storage
    auth: AuthSettings
    production: bool
    demo_data: bool
    components: dict[str, ComponentEntry]
    resolution: Resolution = field(repr=False)
    cors: Cors = Cors()
    pages: Any = field(default=None, repr=False)  # core.pages.PagesSource, checked at boot
