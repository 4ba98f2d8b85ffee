"""What components contribute, and who contributed it.

Each collect hook receives a :class:`Registrar` bound to one component. The registrar writes
into one :class:`Contributions` per kernel, remembering the component behind every entry, so a
clash can name both parties ("table 'x' is claimed by both a and b") at boot, never at
request time.
"""

from __future__ import annotations

import builtins
import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping

from core.errors import KERNEL_ERROR_CODES, BootError
from core.pricing import STAGES

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

_CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")


@dataclass(frozen=True)
class Claimed:
    component: str
    value: Any


@dataclass(frozen=True)
class Permission:
    name: str
    component: str
    description: str
    roles: tuple[str, ...]


BUILTIN_ROLES = {
    "admin": "Runs the brand: holds every permission.",
    "store_clerk": "Works at some stores: verifies pickups and sees those stores' orders.",
    "live_host": "Hosts live rooms: creates and runs their own rooms and auctions.",
    "guide": "Shopping guide (导购): shares the brand's links with a share code of their own and is credited with the orders they bring.",
}
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


@dataclass(frozen=True)
class StaffRole:
    name: str
    component: str
    description: str
    needs_stores: bool = False  # a staff member with this role must be assigned stores


@dataclass(frozen=True)
class EventHandler:
    event: str
    component: str
    handler: Callable[..., Awaitable[None]]
    in_transaction: bool
    observer: bool = False  # reads the declared payload only, after commit (registrar.observe)

    @property
    def qualname(self) -> str:
        return f"{self.component}:{getattr(self.handler, '__qualname__', repr(self.handler))}"


@dataclass(frozen=True)
class Job:
    name: str
    component: str
    handler: Callable[..., Awaitable[None]]
    every_seconds: float | None = None  # recurring jobs only


@dataclass(frozen=True)
class PriceAdjuster:
    stage: str
    component: str
    adjuster: Callable[..., Any]


@dataclass(frozen=True)
class Extension:
    component: str
    type_name: str
    field_name: str
    resolver: Callable[..., Any]
    description: str | None = None
    deprecation_reason: str | None = None


@dataclass(frozen=True)
class Example:
    """A named GraphQL document a component ships for people trying it (the sandbox)."""

    title: str
    component: str
    document: str
    variables: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class EventDeclaration:
    """An event its owner promises to emit: the name, what it means, what its payload holds."""

    name: str
    component: str
    description: str
    payload: Mapping[str, str]  # payload key -> a short description (type and meaning)


@dataclass(frozen=True)
class InputExtension:
    """A field one component adds to another's GraphQL input type (the checkout input)."""

    component: str
    type_name: str
    field_name: str
    python_type: Any
    description: str | None = None


@dataclass(frozen=True)
class Webhook:
    """An HTTP endpoint for an outside service's callbacks: ``POST /webhooks/<component>/<name>``."""

    component: str
    name: str
    handler: Callable[..., Awaitable[Any]]

    @property
    def path(self) -> str:
        return f"/webhooks/{self.component}/{self.name}"


@dataclass(frozen=True)
class CheckoutParticipant:
    """An object taking part in every checkout; see :mod:`core.checkout` for its methods."""

    component: str
    participant: Any


@dataclass
class Contributions:
    """Everything the loaded components contributed, keyed by the public name they claim."""

    tables: dict[str, Claimed] = field(default_factory=dict)
    services: dict[str, Claimed] = field(default_factory=dict)
    queries: list[Claimed] = field(default_factory=list)
    mutations: list[Claimed] = field(default_factory=list)
    subscriptions: list[Claimed] = field(default_factory=list)
    types: dict[str, Claimed] = field(default_factory=dict)
    nodes: dict[str, Claimed] = field(default_factory=dict)  # type name -> (cls, loader)
    extensions: list[Extension] = field(default_factory=list)
    permissions: dict[str, Permission] = field(default_factory=dict)
    error_codes: dict[str, Claimed] = field(default_factory=lambda: {code: Claimed("kernel", text) for code, text in KERNEL_ERROR_CODES.items()})
    handlers: dict[str, list[EventHandler]] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    price_adjusters: list[PriceAdjuster] = field(default_factory=list)
    dataloaders: dict[str, Claimed] = field(default_factory=dict)
    early_refusals: dict[str, Claimed] = field(default_factory=dict)  # mutation root field -> refuse
    examples: dict[str, Example] = field(default_factory=dict)  # title -> example
    events: dict[str, EventDeclaration] = field(default_factory=dict)
    input_extensions: list[InputExtension] = field(default_factory=list)
    checkout_participants: list[CheckoutParticipant] = field(default_factory=list)
    # Staff roles: the kernel's own (admin, store_clerk, live_host, guide) and those components declare.
    staff_roles: dict[str, StaffRole] = field(
        default_factory=lambda: {name: StaffRole(name, "kernel", text, name == "store_clerk") for name, text in BUILTIN_ROLES.items()}
    )
    stores: dict[str, Claimed] = field(default_factory=dict)  # at most one entry: "stores"
    webhooks: dict[str, Webhook] = field(default_factory=dict)  # path -> webhook
    page_blocks: dict[str, Any] = field(default_factory=dict)  # block type name -> core.storefront.PageBlockType

    def claim(self, kind: str, registry: dict[str, Any], key: str, component: str, value: Any) -> None:
        previous = registry.get(key)
        if previous is not None:
            owner = previous.component
            if owner == component:
                raise BootError(f"{kind} {key!r} is registered twice by component {component!r}")
            raise BootError(f"{kind} {key!r} is claimed by both {owner!r} and {component!r}")
        registry[key] = value

    def adjusters_in_order(self) -> list[PriceAdjuster]:
        """The price pipeline: by declared stage, then by component load order (stable)."""
        return sorted(self.price_adjusters, key=lambda a: STAGES.index(a.stage))

    def check_event_handlers(self, kernel: Kernel) -> None:
        """Every subscription names a declared event of a component the subscriber depends on.

        A misspelt name (``order.payed``) would otherwise boot and never fire."""
        for name, handlers in self.handlers.items():
            declared = self.events.get(name)
            for handler in handlers:
                if declared is None:
                    close = difflib.get_close_matches(name, list(self.events), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else "; no loaded component declares it"
                    raise BootError(f"component {handler.component!r} handles event {name!r}, which no component declares{hint}")
                owner = declared.component
                if handler.observer:
                    continue  # the declared payload is the whole contract; nothing of the owner is touched
                if owner != handler.component and owner not in kernel.dependencies_of(handler.component):
                    raise BootError(
                        f"component {handler.component!r} handles event {name!r} of component {owner!r} without "
                        f"depending on it; add {owner!r} to its manifest's depends"
                    )

    def events_of(self, component: str) -> tuple[list[str], list[str]]:
        """(events the component emits, events it handles), for ``dougong components``."""
        emits = sorted(name for name, decl in self.events.items() if decl.component == component)
        handles = sorted({h.event for hs in self.handlers.values() for h in hs if h.component == component})
        return emits, handles


class Registrar:
    """The typed, per-component handle that collect hooks receive.

    ``registrar.settings`` are the component's validated settings (defaults filled in);
    ``registrar.kernel`` the kernel being built (its storage and schema do not exist yet).
    """

    def __init__(
        self,
        component: str,
        settings: Mapping[str, Any],
        kernel: Kernel,
        contributions: Contributions,
    ) -> None:
        self.component = component
        self.settings = settings
        self.kernel = kernel
        self._c = contributions

    # -- storage ---------------------------------------------------------------------------
    def table(self, model_or_table: Any) -> None:
        """Claim a table (a declarative model or a ``Table``); its name must start with ``<component>_``."""
        table = getattr(model_or_table, "__table__", model_or_table)
        name = table.name
        if not (name == self.component or name.startswith(self.component + "_")):
            raise BootError(
                f"component {self.component!r} claims table {name!r}: table names must start with '{self.component}_' so components never collide"
            )
        self._c.claim("table", self._c.tables, name, self.component, Claimed(self.component, table))

    # -- services --------------------------------------------------------------------------
    def service(self, name: str, obj: Any) -> None:
        """Offer ``obj`` to other components as ``kernel.service(name)``."""
        self._c.claim("service", self._c.services, name, self.component, Claimed(self.component, obj))

    # -- GraphQL ---------------------------------------------------------------------------
    def query(self, cls: type) -> None:
        """Add the fields of a ``@strawberry.type`` class to ``Query``; each root field has one owner."""
        self._c.queries.append(Claimed(self.component, self._root_type("query", cls)))

    def mutation(self, cls: type) -> None:
        """Add the fields of a ``@strawberry.type`` class to ``Mutation``; each returns a payload with ``userErrors``."""
        self._c.mutations.append(Claimed(self.component, self._root_type("mutation", cls)))

    def subscription(self, cls: type) -> None:
        """Add the fields of a ``@strawberry.type`` class to ``Subscription``."""
        self._c.subscriptions.append(Claimed(self.component, self._root_type("subscription", cls)))

    def _root_type(self, kind: str, cls: Any) -> type:
        definition = getattr(cls, "__strawberry_definition__", None)
        if definition is None or definition.is_input or getattr(definition, "is_interface", False):
            raise BootError(f"component {self.component!r} registers {cls!r} as a {kind} type, but it is not a @strawberry.type class")
        return cls

    def type(self, cls: type) -> None:
        """Make a strawberry type public under its GraphQL name (others may extend it or point at it)."""
        name = _graphql_name(cls, self.component)
        existing = self._c.types.get(name)
        if existing is not None and existing.value is cls and existing.component == self.component:
            return
        self._c.claim("GraphQL type", self._c.types, name, self.component, Claimed(self.component, cls))

    def node(self, cls: Any, loader: Callable[..., Awaitable[list[Any]]]) -> None:
        """Make ``cls`` resolvable through ``node(id)``; also claims it as a public type."""
        self.type(cls)
        name = _graphql_name(cls, self.component)
        self._c.claim("Node type", self._c.nodes, name, self.component, Claimed(self.component, (cls, loader)))

    def extend(
        self, type_name: str, field_name: str, resolver: Callable[..., Any], description: str | None = None, *, deprecation_reason: str | None = None
    ) -> None:
        """Add the field ``field_name`` resolved by ``resolver`` to the type ``type_name`` of this
        component or of one it depends on; ``deprecation_reason`` keeps an old name for a release."""
        self._c.extensions.append(Extension(self.component, type_name, field_name, resolver, description, deprecation_reason))

    def extend_input(self, type_name: str, field_name: str, python_type: Any, description: str | None = None) -> None:
        """Add an optional field to another component's input type, e.g. the pickup choice on
        ``CheckoutInput``. The owner reads it with ``input.extension("pickup")``; allowed only
        if this component depends on the input's owner, and one field has one owner."""
        self._c.input_extensions.append(InputExtension(self.component, type_name, field_name, python_type, description))

    def checkout_participant(self, participant: Any) -> None:
        """Take part in every checkout (``prepare``, ``placed``, ``delivery_options``; see core.checkout)."""
        self._c.checkout_participants.append(CheckoutParticipant(self.component, participant))

    # -- permissions and errors ------------------------------------------------------------
    def permission(self, name: str, description: str, roles: tuple[str, ...] | list[str] = ("admin",)) -> None:
        """Declare a permission ``<component>.<verb>`` and the staff roles that hold it; resolvers check it with ``ctx.require(name)``."""
        if not name.startswith(self.component + "."):
            raise BootError(f"component {self.component!r} declares permission {name!r}: permission names must start with '{self.component}.'")
        perm = Permission(name, self.component, description, tuple(roles))
        self._c.claim("permission", self._c.permissions, name, self.component, perm)

    def staff_role(self, name: str, description: str, *, needs_stores: bool = False) -> None:
        """Declare a staff role admins may give (``raffle_manager``); permissions name it in ``roles``."""
        if not _ROLE.match(name) or not name.startswith(self.component + "_"):
            raise BootError(
                f"component {self.component!r} declares staff role {name!r}: role names are lowercase snake_case and start with '{self.component}_'"
            )
        self._c.claim("staff role", self._c.staff_roles, name, self.component, StaffRole(name, self.component, description, needs_stores))

    def stores(self, existing: Callable[..., Awaitable[set[int]]]) -> None:
        """Be the brand's list of stores that staff are assigned to: ``await existing(session,
        ids) -> set of the ids that exist``. One component may claim it (store_pickup does)."""
        self._c.claim("store list", self._c.stores, "stores", self.component, Claimed(self.component, existing))

    def error_code(self, code: str, description: str) -> None:
        """Declare a ``userErrors`` code, SCREAMING_SNAKE and prefixed with the component's name."""
        prefix = self.component.upper() + "_"
        if not _CODE.match(code) or not code.startswith(prefix):
            raise BootError(f"component {self.component!r} declares error code {code!r}: codes are SCREAMING_SNAKE and start with {prefix!r}")
        self._c.claim("error code", self._c.error_codes, code, self.component, Claimed(self.component, description))

    # -- events, jobs, pricing, loaders ------------------------------------------------------
    def event(self, name: str, description: str, payload: Mapping[str, str] | None = None) -> None:
        """Declare an event this component emits (``order.paid``): a one-line description and its
        payload keys, each with a short description. Only declared events can be handled or emitted."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*", name):
            raise BootError(f"component {self.component!r} declares event {name!r}: names are 'subject.verb' in lower case")
        decl = EventDeclaration(name, self.component, description, dict(payload or {}))
        self._c.claim("event", self._c.events, name, self.component, decl)

    def on(self, event: str, handler: Callable[..., Awaitable[None]], *, in_transaction: bool = False) -> None:
        """Handle a declared event: ``await handler(kernel, event)`` after commit, or
        ``await handler(tx, event)`` inside the emitting transaction with ``in_transaction=True``."""
        self._c.handlers.setdefault(event, []).append(EventHandler(event, self.component, handler, in_transaction))

    def observe(self, event: str, handler: Callable[..., Awaitable[None]]) -> None:
        """Watch a declared event of any loaded component, dependency or not: ``await
        handler(kernel, event)`` after commit, at least once. For components that only read
        the event's declared payload and never act on its owner (notifications, audit, BI):
        they cannot hold up or fail the write that emitted it."""
        self._c.handlers.setdefault(event, []).append(EventHandler(event, self.component, handler, False, observer=True))

    def job(self, name: str, handler: Callable[..., Awaitable[None]]) -> None:
        """Declare a durable timer job ``<component>.<name>``; services schedule it with ``tx.schedule(name, key=..., due_at=...)``."""
        self._check_prefixed("job", name)
        self._c.claim("job", self._c.jobs, name, self.component, Job(name, self.component, handler))

    def every(self, name: str, seconds: float, handler: Callable[..., Awaitable[None]]) -> None:
        """Declare a recurring job run every ``seconds`` by the worker (once across workers)."""
        self._check_prefixed("job", name)
        if seconds <= 0:
            raise BootError(f"recurring job {name!r} of {self.component!r} needs a positive period")
        self._c.claim("job", self._c.jobs, name, self.component, Job(name, self.component, handler, seconds))

    def price_adjuster(self, stage: str, adjuster: Callable[..., Any]) -> None:
        """Take part in the price pipeline at ``stage`` (one of ``core.pricing.STAGES``)."""
        if stage not in STAGES:
            raise BootError(f"component {self.component!r} registers a price adjuster at unknown stage {stage!r}; stages are {', '.join(STAGES)}")
        self._c.price_adjusters.append(PriceAdjuster(stage, self.component, adjuster))

    def dataloader(self, name: str, batch_load: Callable[..., Awaitable[list[Any]]]) -> None:
        """Offer a per-request DataLoader ``<component>.<name>``; resolvers use ``ctx.loader(name)``."""
        self._check_prefixed("dataloader", name)
        self._c.claim("dataloader", self._c.dataloaders, name, self.component, Claimed(self.component, batch_load))

    def early_refusal(self, mutation_field: str, refuse: Callable[..., Awaitable[Any]], *, queue: Callable[..., Any] | None = None) -> None:
        """Let a crowd's refusals of the mutation ``mutation_field`` (a root field of this
        component) be answered before GraphQL runs (``core.gql.early_refusals``).

        ``await refuse(ctx, arguments)`` gets the request's context (the caller already read
        from the database) and the field's arguments as GraphQL coerced them (input objects as
        dicts); it returns the payload the resolver would return — a refusal that is the same
        for every such caller, decided without writing — or None to let the mutation run as
        usual. The payload is completed with the document's own selection.

        ``queue(ctx, arguments)``, if given, returns an async context manager (or None) that the
        request holds from before ``refuse`` is asked until its answer is sent, the mutation's
        included: a component whose refusal is learnt from the first refused writer (a sold-out
        memo) lets its crowd through one at a time, so those behind the sell-out are refused
        early instead of all running to the writer first."""
        self._c.claim("early refusal", self._c.early_refusals, mutation_field, self.component, Claimed(self.component, (refuse, queue)))

    # -- webhooks ----------------------------------------------------------------------------
    def webhook(self, name: str, handler: Callable[..., Awaitable[Any]]) -> None:
        """Serve ``POST /webhooks/<component>/<name>`` with ``await handler(kernel, request)``."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", name or ""):
            raise BootError(f"component {self.component!r} names webhook {name!r}: use lower-case letters, digits, - and _")
        hook = Webhook(self.component, name, handler)
        self._c.claim("webhook", self._c.webhooks, hook.path, self.component, hook)

    # -- storefront pages --------------------------------------------------------------------
    def page_block(
        self,
        name: str,
        *,
        titles: Mapping[str, str],
        settings_schema: Mapping[str, Any],
        graphql_type: builtins.type,  # the builtin: ``type`` in this class is the registrar method
        resolve: Callable[..., Awaitable[dict[str, Any]]],
        empty: Callable[[Mapping[str, Any]], bool] | None = None,
        resolve_many: Callable[..., Awaitable[list[dict[str, Any]]]] | None = None,
    ) -> None:
        """A block type operators can put on storefront pages (``catalog.banner``); see
        :mod:`core.storefront`. Its GraphQL type is claimed like any public type; ``empty(data)``
        says when the block has nothing to show (default: all its list fields are empty);
        ``resolve_many(page, [settings])`` resolves all blocks of the type on a page at once."""
        from core.storefront import PageBlockType, check_block

        check_block(self.component, name, titles, settings_schema, graphql_type)
        self.type(graphql_type)
        block = PageBlockType(name, self.component, dict(titles), settings_schema, graphql_type, resolve, empty, resolve_many)
        self._c.claim("page block", self._c.page_blocks, name, self.component, block)

    # -- examples ----------------------------------------------------------------------------
    def example(self, title: str, document: str, variables: Mapping[str, Any] | None = None) -> None:
        """Checked against the schema once it is built (core.gql.examples)."""
        if not isinstance(title, str) or not title.strip() or not isinstance(document, str):
            raise BootError(f"component {self.component!r} ships an example without a title or a document")
        self._c.claim("example", self._c.examples, title, self.component, Example(title, self.component, document, variables))

    def _check_prefixed(self, kind: str, name: str) -> None:
        if not name.startswith(self.component + "."):
            raise BootError(f"component {self.component!r} names {kind} {name!r}: it must start with '{self.component}.'")


def _graphql_name(cls: type, component: str) -> str:
    definition = getattr(cls, "__strawberry_definition__", None)
    if definition is None:
        raise BootError(f"component {component!r} registers {cls!r}, which is not a strawberry type")
    return definition.name
