"""The component contract: every hook a component may implement.

A component's ``hooks`` module (named by its manifest) implements some of these with
``@hookimpl``. Each hook states its **result semantics**:

collect
    Every component that implements the hook answers, in dependency order (a component's
    dependencies answer before it does). The hook receives a :class:`core.contributions.Registrar`
    bound to that component, so every contribution is attributed to whoever made it, and two
    components claiming the same name stop the boot with a message naming both.
first result
    Components are asked in reverse dependency order (the most specific component first);
    the first non-``None`` answer wins.
after boot
    Called once per kernel after storage and schema are built; may be ``async``.

Pipelines (the price of an order line) and events (``order.paid``) are not separate pluggy
hooks: components register them through the collect hooks below (``registrar.price_adjuster``,
``registrar.on``), because a pipeline needs a declared order and an event needs a name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from core.contributions import Registrar
    from core.kernel import Kernel
    from core.transaction import Transaction

PROJECT = "dougong"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def dougong_tables(registrar: Registrar) -> None:
    """Claim the database tables this component owns. *collect*

    Call ``registrar.table(Model_or_Table)`` for each. Table names must be prefixed with the
    component's name (``group_buy_offer``); the kernel creates and migrates only the tables of
    the components a blueprint loads. Two components claiming one table name stop the boot.

    Example::

        @hookimpl
        def dougong_tables(registrar):
            registrar.table(models.Offer)
            registrar.table(models.Group)
    """


@hookspec
def dougong_services(registrar: Registrar) -> None:
    """Offer a service object other components may call. *collect*

    ``registrar.service("inventory", InventoryService(registrar.settings))``; dependents reach
    it as ``kernel.service("inventory")``. Rules live in services, never in resolvers, so a
    group-buy and a points redemption reserve stock through the very same code.

    Example::

        @hookimpl
        def dougong_services(registrar):
            registrar.service("orders", OrderService(registrar.kernel, registrar.settings))
    """


@hookspec
def dougong_schema(registrar: Registrar) -> None:
    """Contribute to the one GraphQL schema. *collect*

    - ``registrar.query(QueryClass)``, ``registrar.mutation(...)``, ``registrar.subscription(...)``:
      strawberry types whose fields become root fields; two components with the same root
      field stop the boot.
    - ``registrar.type(TypeClass)``: a public type (needed for ``node(id)`` and for others to
      extend it); claims its GraphQL name.
    - ``registrar.node(TypeClass, loader)``: make a ``Node`` type resolvable through
      ``node(id)``; ``loader(ctx, keys) -> list[obj | None]`` must return ``None`` for what the
      caller may not see.
    - ``registrar.extend("Product", "groupBuyOffers", resolver)``: add a field to another
      component's type — allowed only if this component depends on the type's owner.
    - ``registrar.early_refusal("buyFlashSaleItem", refuse)``: a crowd's refusals of one of
      this component's mutations answered before GraphQL runs; ``await refuse(ctx, arguments)``
      returns the payload of a refusal that is the same for every such caller, or None to run
      the mutation (``core.gql.early_refusals``).

    Example::

        @hookimpl
        def dougong_schema(registrar):
            registrar.query(graphql.Query)
            registrar.mutation(graphql.Mutation)
            registrar.extend("Product", "groupBuyOffers", graphql.offers_of_product)
    """


@hookspec
def dougong_permissions(registrar: Registrar) -> None:
    """Declare the permissions this component checks, and which staff roles hold them. *collect*

    ``registrar.permission("orders.refund", "Refund a paid order", roles=("admin",))``. The
    ``admin`` role holds every permission. Resolvers check with ``ctx.require(name)``.

    Example::

        @hookimpl
        def dougong_permissions(registrar):
            registrar.permission("orders.refund", "Refund a paid order", roles=("admin",))
    """


@hookspec
def dougong_error_codes(registrar: Registrar) -> None:
    """Declare the ``userErrors`` codes this component may return. *collect*

    ``registrar.error_code("GROUP_BUY_FULL", "The group has no seat left")``. Codes must start
    with the component's name in SCREAMING_SNAKE; all are gathered into one ``ErrorCode`` enum.
    Raising a :class:`core.errors.DomainError` with an undeclared code is a bug the kernel
    reports loudly.

    Example::

        @hookimpl
        def dougong_error_codes(registrar):
            registrar.error_code("GROUP_BUY_FULL", "The group has no seat left")
    """


@hookspec
def dougong_events(registrar: Registrar) -> None:
    """Declare the domain events this component emits. *collect*

    ``registrar.event("order.paid", "An order's payment succeeded", payload={"orderId": "int", …})``:
    a name, a one-line description and the payload's keys, each with its type and meaning.
    Emitting an undeclared event is a bug the kernel reports; handling one stops the boot
    naming the handler's component and the closest declared name (``order.payed``). Two
    components declaring one event stop the boot naming both. ``dougong components`` lists the
    events each component emits and handles.

    Example::

        @hookimpl
        def dougong_events(registrar):
            registrar.event("raffle.drawn", "A raffle picked its winners",
                            payload={"raffleId": "int", "winnerMemberIds": "list[int]"})
    """


@hookspec
def dougong_event_handlers(registrar: Registrar) -> None:
    """Subscribe to domain events. *collect*

    Only declared events (``dougong_events``) of this component or of components it depends on
    can be handled. ``registrar.on("order.paid", handler)`` runs ``await handler(kernel, event)`` **after
    commit** (at least once: handlers must be idempotent; a failed delivery is retried by the
    worker). ``registrar.on("order.paid", handler, in_transaction=True)`` runs
    ``await handler(tx, event)`` inside the emitting transaction — use it only when the
    reaction must commit or fail together with the cause (taking a group-buy seat on payment).
    An in-transaction handler of ``order.created`` or ``order.paid`` may assume the order, its
    lines, its stock holds and every checkout participant's rows (``placed``) exist: a
    zero-total order is paid inside its checkout only after all of them were written.

    ``registrar.observe("group_buy.succeeded", handler)`` watches a declared event of *any*
    loaded component without depending on it: after commit only, reading nothing but the
    declared payload (the notifications component tells members about other components'
    events this way). An observed event that no loaded component declares still stops the boot.

    Example::

        @hookimpl
        def dougong_event_handlers(registrar):
            registrar.on("order.refunded", service.reverse_points)
    """


@hookspec
def dougong_checkout(registrar: Registrar) -> None:
    """Join the one checkout. *collect*

    - ``registrar.extend_input("CheckoutInput", "pickup", PickupChoiceInput)`` /
      ``registrar.extend_input("CheckoutLineInput", "groupBuy", GroupBuyLineInput)``: an optional
      field on the checkout input or on its lines (only on inputs of components this one depends
      on; one field, one owner).
    - ``registrar.checkout_participant(obj)``: ``prepare(tx, draft)`` before pricing,
      ``delivery_options(tx, draft)`` for the preview, ``placed(tx, draft, order_id)`` once the
      order and its lines exist. See :mod:`core.checkout` for what each may do.

    Example::

        @hookimpl
        def dougong_checkout(registrar):
            registrar.extend_input("CheckoutLineInput", "raffleTicket", graphql.RaffleTicketInput)
            registrar.checkout_participant(registrar.kernel.service("raffle").checkout)
    """


@hookspec
def dougong_jobs(registrar: Registrar) -> None:
    """Declare durable timer jobs. *collect*

    ``registrar.job("orders.payment_timeout", handler)``; a service schedules one with
    ``tx.schedule("orders.payment_timeout", key=str(order_id), due_at=...)``. Timers are rows:
    they survive restarts and run exactly once, inside a transaction that also marks them
    done. ``await handler(tx, timer)`` receives the :class:`core.timers.Timer` row.
    ``registrar.every("live_room.sweep_overdue", 60, handler)`` declares a recurring job (its
    period in seconds comes before the handler).

    Example::

        @hookimpl
        def dougong_jobs(registrar):
            service = registrar.kernel.service("orders")
            registrar.job("orders.payment_timeout", service.on_payment_timeout)
            registrar.every("orders.sweep_abandoned_carts", 3600, service.sweep_abandoned_carts)
    """


@hookspec
def dougong_price_adjusters(registrar: Registrar) -> None:
    """Take part in the order price pipeline. *collect*, run as a *pipeline*.

    ``registrar.price_adjuster(stage, adjuster)`` where ``stage`` is one of
    ``core.pricing.STAGES`` (activity → discount → threshold → coupon → points → delivery).
    The orders component runs adjusters stage by stage, each receiving the draft order as the
    previous adjuster left it; every adjustment is recorded on the line with the component that
    made it.

    Example::

        @hookimpl
        def dougong_price_adjusters(registrar):
            registrar.price_adjuster("discount", registrar.kernel.service("members").tier_discount)
    """


@hookspec
def dougong_dataloaders(registrar: Registrar) -> None:
    """Offer per-request DataLoaders. *collect*

    ``registrar.dataloader("catalog.skus_by_product", batch_load)`` where
    ``async batch_load(ctx, keys) -> list``; resolvers use ``ctx.loader("catalog.skus_by_product")``.
    Loaders are created lazily once per request, so a page of 50 products costs one query per
    relation, not 50.

    Example::

        @hookimpl
        def dougong_dataloaders(registrar):
            registrar.dataloader("catalog.skus_by_product", graphql.load_skus_by_product)
    """


@hookspec
def dougong_examples(registrar: Registrar) -> None:
    """Ship example GraphQL operations for people trying the component. *collect*

    ``registrar.example(title, document, variables=None)``: a named document the studio's
    sandbox opens in GraphiQL. The kernel validates every example against the schema it
    builds, so an example that no longer fits (a renamed field) stops the boot — and
    ``dougong validate`` — naming the component, instead of rotting in a README.

    Example::

        @hookimpl
        def dougong_examples(registrar):
            registrar.example("Live rooms", "query LiveRooms { liveRooms(first: 5) { edges { node { id title } } } }")
    """


@hookspec
def dougong_webhooks(registrar: Registrar) -> None:
    """Receive HTTP callbacks from outside services (a payment provider's notifications). *collect*

    ``registrar.webhook("notify", handler)`` serves ``POST /webhooks/<component>/notify`` (and
    ``/brands/<slug>/webhooks/<component>/notify`` when one process serves several brands).
    ``await handler(kernel, request)`` receives a :class:`core.webhooks.WebhookRequest`
    (``headers`` in lower case, the raw ``body`` bytes — signatures are over the exact bytes —
    and ``query``) and returns a :class:`core.webhooks.WebhookResponse`. The handler owns its
    transactions and must be idempotent: outside services resend until they get a 2xx. An
    exception becomes a 500 with no detail (the sender retries), logged with the component.

    Example::

        @hookimpl
        def dougong_webhooks(registrar):
            registrar.webhook("notify", notifications.handle)
    """


@hookspec(firstresult=True)
def dougong_identity_provider(kernel: Kernel, provider: str) -> Any:
    """Return the identity provider named ``provider`` (e.g. ``"wechat"``), or ``None``. *first result*

    The object has ``async def authenticate(tx, credential: str) -> core.auth.Actor``. The
    members component calls this when a frontend signs in with a third-party credential; a
    WeChat login component implements it. dougong ships only the development sign-in.

    Example::

        @hookimpl
        def dougong_identity_provider(kernel, provider):
            return WeChatLogin(kernel) if provider == "wechat" else None
    """


@hookspec(firstresult=True)
def dougong_authority(kernel: Kernel) -> Any:
    """Return the people directory that says who a token's subject is *now*, or ``None``. *first result*

    Asked once at boot. The object has
    ``async def current(session, claimed: core.auth.Actor) -> core.auth.Actor``: the member or
    staff member named by a verified token, with roles, stores and active status as the
    database has them at this request; it raises :class:`core.auth.TokenError` (reason
    ``TOKEN_UNKNOWN_SUBJECT``, ``STAFF_INACTIVE``) when there is nobody to act as. The kernel
    calls it once per HTTP request and once per websocket connection (again whenever
    :func:`core.authority.changed` names the connection's person). The members component
    answers; see :mod:`core.authority` for a blueprint without one.

    Example::

        @hookimpl
        def dougong_authority(kernel):
            return StaffDirectory(kernel)
    """


@hookspec(firstresult=True)
def dougong_payment_provider(kernel: Kernel, provider: str) -> Any:
    """Return the payment provider named ``provider`` (``"wechat_pay"``), or ``None``. *first result*

    The orders component ships the ``sandbox`` provider; real ones (``wechat_pay``, later Alipay,
    Stripe) are separate components implementing this hook. The object has
    ``async start(tx, charge) -> dict`` (what the client needs to pay) and
    ``async refund(tx, charge, amount_minor) -> str``, optionally ``async query(charge)`` for
    reconciliation; it reports back through ``kernel.service("orders").gateway``. A charge is an
    order's payment or a payment intent (a deposit): see ``components.orders.PaymentProvider``.

    Example::

        @hookimpl
        def dougong_payment_provider(kernel, provider):
            return WeChatPay(kernel) if provider == "wechat_pay" else None
    """


@hookspec
async def dougong_seed_demo(kernel: Kernel, tx: Transaction) -> None:
    """Insert demo data for a sandbox. *collect*, *after boot*, in dependency order.

    Called by ``dougong serve`` when the blueprint sets ``demo_data: true`` and the database
    is empty, and by the test harness on request. May look up what dependencies seeded
    (catalog seeds products before inventory stocks them).

    Example::

        @hookimpl
        async def dougong_seed_demo(kernel, tx):
            await kernel.service("raffle").create_raffle(tx, title="Spring raffle", winners=3)
    """


@hookspec
async def dougong_startup(kernel: Kernel) -> None:
    """The kernel is built and about to serve. *after boot*, may be async.

    Start background work that is not a timer (a Redis listener). Stop it in
    ``dougong_shutdown``.

    Example::

        @hookimpl
        async def dougong_startup(kernel):
            await kernel.service("live_room").start_listeners()
    """


@hookspec
async def dougong_shutdown(kernel: Kernel) -> None:
    """The kernel is stopping. *after boot*, may be async; called in reverse dependency order.

    Stop what ``dougong_startup`` started and release outside resources. The database is
    still open when this runs, so a component may flush state.

    Example::

        @hookimpl
        async def dougong_shutdown(kernel):
            await kernel.service("live_room").close_listeners()
    """


@hookspec
def dougong_page_blocks(registrar: Registrar) -> None:
    """Offer block types for storefront pages (店铺装修). *collect*

    ``registrar.page_block(name, titles=..., settings_schema=..., graphql_type=..., resolve=...)``:
    the name is ``<component>.<block>``; ``titles`` has ``zh`` and ``en``; ``settings_schema`` is
    the JSON Schema the blueprint's block settings are validated against at boot (file:line
    messages, defaults filled in); ``graphql_type`` a strawberry type implementing
    ``StorefrontBlock``; ``await resolve(page, settings) -> dict`` its data fields, read in the
    page's request (see :mod:`core.storefront`); optionally ``resolve_many(page, [settings])``
    for all blocks of the type on one page at once (a fixed number of statements however many
    blocks). Two components claiming one name stop the boot.

    Example::

        @hookimpl
        def dougong_page_blocks(registrar):
            registrar.page_block("raffle.running", titles={"zh": "抽奖", "en": "Raffles"},
                                 settings_schema={"type": "object", "properties": {}},
                                 graphql_type=RaffleBlock, resolve=running_raffles)
    """


# Hooks that every component is asked through a Registrar bound to it.
COLLECT_HOOKS = (
    "dougong_tables",
    "dougong_services",
    "dougong_schema",
    "dougong_permissions",
    "dougong_error_codes",
    "dougong_events",
    "dougong_event_handlers",
    "dougong_checkout",
    "dougong_jobs",
    "dougong_price_adjusters",
    "dougong_dataloaders",
    "dougong_examples",
    "dougong_webhooks",
    "dougong_page_blocks",
)
