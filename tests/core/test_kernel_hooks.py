"""One test (at least) per hook in core/hookspecs.py, with components built from inline files.

The meta-test at the bottom checks that every hook is documented and named in this file.
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import timedelta
from pathlib import Path

import pytest

from core import hookspecs
from core.errors import BootError
from core.testing import member, staff

BRAND = """\
dougong: 1
brand: {slug: hooks, name: Hooks, currency: CNY, timezone: Asia/Shanghai}
components:
"""


def blueprint(*names: str, settings: str = "") -> str:
    body = "".join(f"  {n}: {{}}\n" for n in names)
    return BRAND + body + settings


WIDGET_MODELS = """
    from sqlalchemy import Column, Integer, MetaData, String, Table
    metadata = MetaData()
    widget_item = Table("widget_item", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
"""

WIDGET_GRAPHQL = """
    import strawberry
    from sqlalchemy import insert, select
    from core.gql import Node, Payload, run_mutation, to_global_id
    from core.errors import DomainError
    from . import models

    @strawberry.type
    class Widget(Node):
        name: str

    async def load_widgets(ctx, keys):
        session = await ctx.session()
        rows = {r.id: r for r in (await session.execute(select(models.widget_item).where(models.widget_item.c.id.in_(keys)))).all()}
        return [Widget(pk=k, name=rows[k].name) if k in rows else None for k in keys]

    @strawberry.input
    class MakeWidgetInput:
        name: str
        idempotency_key: str | None = None

    @strawberry.type
    class MakeWidgetPayload(Payload):
        widget: Widget | None = None

    @strawberry.type
    class Query:
        @strawberry.field
        async def widgets(self, info: strawberry.Info) -> list[Widget]:
            session = await info.context.session()
            rows = (await session.execute(select(models.widget_item).order_by(models.widget_item.c.id))).all()
            return [Widget(pk=r.id, name=r.name) for r in rows]

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        async def make_widget(self, info: strawberry.Info, input: MakeWidgetInput) -> MakeWidgetPayload:
            ctx = info.context
            async def work(tx):
                ctx.require("widget.make")
                if not input.name.strip():
                    raise DomainError("WIDGET_NAME_EMPTY", "A widget needs a name.", field="input.name")
                result = await tx.session.execute(insert(models.widget_item).values(name=input.name))
                widget_id = result.inserted_primary_key[0]
                await tx.emit("widget.made", {"id": widget_id, "name": input.name})
                return {"id": widget_id}
            result, errors = await run_mutation(ctx, work, idempotency=("widget.make", input.idempotency_key, {"name": input.name}))
            if errors:
                return MakeWidgetPayload(user_errors=errors)
            return MakeWidgetPayload(widget=(await load_widgets(ctx, [result["id"]]))[0])
"""

WIDGET_HOOKS = """
    from core.hookspecs import hookimpl
    from . import graphql, models

    CALLS = []

    @hookimpl
    def dougong_tables(registrar):
        registrar.table(models.widget_item)

    @hookimpl
    def dougong_services(registrar):
        registrar.service("widget", {"greeting": registrar.settings.get("greeting", "hi")})

    @hookimpl
    def dougong_schema(registrar):
        registrar.query(graphql.Query)
        registrar.mutation(graphql.Mutation)
        registrar.node(graphql.Widget, graphql.load_widgets)

    @hookimpl
    def dougong_permissions(registrar):
        registrar.permission("widget.make", "Make widgets", roles=("store_clerk",))

    @hookimpl
    def dougong_error_codes(registrar):
        registrar.error_code("WIDGET_NAME_EMPTY", "A widget needs a name")

    @hookimpl
    def dougong_events(registrar):
        registrar.event("widget.made", "A widget was made", payload={"id": "int", "name": "str"})

    @hookimpl
    async def dougong_seed_demo(kernel, tx):
        from sqlalchemy import insert
        CALLS.append("seed:widget")
        await tx.session.execute(insert(models.widget_item).values(name="demo widget"))

    @hookimpl
    async def dougong_startup(kernel):
        CALLS.append("startup")

    @hookimpl
    async def dougong_shutdown(kernel):
        CALLS.append("shutdown")
"""


@pytest.fixture
def widget(make_component):
    return make_component(
        "widget",
        hooks=WIDGET_HOOKS,
        files={"models.py": WIDGET_MODELS, "graphql.py": WIDGET_GRAPHQL},
        settings_schema={"type": "object", "additionalProperties": False,
                         "properties": {"greeting": {"type": "string", "default": "你好"}}},
    )


def hooks_module(kernel, name):
    return kernel.components[name].hooks


# -- dougong_tables ---------------------------------------------------------------------------

async def test_dougong_tables_creates_claimed_tables(kernel_factory, widget, graphql):
    kernel = await kernel_factory(blueprint("widget"), installed=[widget])
    assert "widget_item" in kernel.contributions.tables
    assert kernel.contributions.tables["widget_item"].component == "widget"
    data = await graphql(kernel).data("{ widgets { id name } }")
    assert data == {"widgets": []}


async def test_dougong_tables_clash_names_both_components(kernel_factory, make_component):
    source = """
        from sqlalchemy import Column, Integer, MetaData, Table
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_tables(registrar):
            registrar.table(Table("shared_thing", MetaData(), Column("id", Integer, primary_key=True)))
    """
    # Both names pass the prefix rule for "shared_thing": the clash itself must stop the boot.
    a = make_component("shared", hooks=source)
    b = make_component("shared_thing", hooks=source)
    with pytest.raises(BootError, match="table 'shared_thing' is claimed by both 'shared' and 'shared_thing'"):
        await kernel_factory(blueprint("shared", "shared_thing"), installed=[a, b])


async def test_dougong_tables_requires_component_prefix(kernel_factory, make_component):
    bad = make_component("gizmo", hooks="""
        from sqlalchemy import Column, Integer, MetaData, Table
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_tables(registrar):
            registrar.table(Table("orders_order", MetaData(), Column("id", Integer, primary_key=True)))
    """)
    with pytest.raises(BootError, match="must start with 'gizmo_'"):
        await kernel_factory(blueprint("gizmo"), installed=[bad])


# -- dougong_services -------------------------------------------------------------------------

async def test_dougong_services_gets_validated_settings(kernel_factory, widget):
    kernel = await kernel_factory(blueprint("widget"), installed=[widget])
    assert kernel.service("widget") == {"greeting": "你好"}  # the schema default was filled in
    configured = await kernel_factory(BRAND + "  widget: {greeting: hello}\n", installed=[widget])
    assert configured.service("widget") == {"greeting": "hello"}
    with pytest.raises(LookupError, match="no loaded component offers the service 'nope'"):
        kernel.service("nope")


async def test_dougong_services_clash(kernel_factory, make_component):
    source = """
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_services(registrar):
            registrar.service("pricing", object())
    """
    a, b = make_component("alpha", hooks=source), make_component("beta", hooks=source)
    with pytest.raises(BootError, match="service 'pricing' is claimed by both 'alpha' and 'beta'"):
        await kernel_factory(blueprint("alpha", "beta"), installed=[a, b])


# -- dougong_schema ---------------------------------------------------------------------------

async def test_dougong_schema_root_fields_node_and_payload(kernel_factory, widget, graphql):
    kernel = await kernel_factory(blueprint("widget"), installed=[widget])
    clerk = graphql(kernel, staff(7, "store_clerk", stores=(1,)))
    payload = await clerk.mutate('mutation { makeWidget(input: {name: "茶杯"}) { widget { id name } userErrors { code field message } } }')
    assert payload["userErrors"] == []
    widget_id = payload["widget"]["id"]
    node = await graphql(kernel).data("query($id: ID!) { node(id: $id) { id ... on Widget { name } } }", id=widget_id)
    assert node["node"] == {"id": widget_id, "name": "茶杯"}
    missing = await graphql(kernel).data('{ node(id: "bm90aGluZzox") { id } }')
    assert missing["node"] is None


async def test_dougong_schema_root_field_clash(kernel_factory, make_component):
    source = """
        import strawberry
        from core.hookspecs import hookimpl
        @strawberry.type
        class Query:
            @strawberry.field
            def hello(self) -> str:
                return "x"
        @hookimpl
        def dougong_schema(registrar):
            registrar.query(Query)
    """
    a, b = make_component("first", hooks=source), make_component("second", hooks=source)
    with pytest.raises(BootError, match="root field Query.hello is claimed by both 'first' and 'second'"):
        await kernel_factory(blueprint("first", "second"), installed=[a, b])


async def test_dougong_schema_root_field_clash_by_graphql_name(kernel_factory, make_component):
    source = """
        import strawberry
        from core.hookspecs import hookimpl
        @strawberry.type
        class Query:
            @strawberry.field(name="promotions")
            def {python}(self) -> str:
                return "x"
        @hookimpl
        def dougong_schema(registrar):
            registrar.query(Query)
    """
    a = make_component("left", hooks=source.replace("{python}", "left_promotions"))
    b = make_component("right", hooks=source.replace("{python}", "right_promotions"))
    with pytest.raises(BootError, match="root field Query.promotions is claimed by both 'left' and 'right'"):
        await kernel_factory(blueprint("left", "right"), installed=[a, b])


async def test_dougong_schema_type_name_clash(kernel_factory, make_component):
    source = """
        import strawberry
        from core.hookspecs import hookimpl
        @strawberry.type(name="Coupon")
        class Coupon:
            code: str
        @strawberry.type
        class Query:
            @strawberry.field
            def {field}(self) -> Coupon:
                return Coupon(code="x")
        @hookimpl
        def dougong_schema(registrar):
            registrar.query(Query)
    """
    a = make_component("one", hooks=source.replace("{field}", "coupon_one"))
    b = make_component("two", hooks=source.replace("{field}", "coupon_two"))
    with pytest.raises(BootError, match="GraphQL type 'Coupon' is defined by both 'one' and 'two'"):
        await kernel_factory(blueprint("one", "two"), installed=[a, b])


EXTENDER = """
    import strawberry
    from core.hookspecs import hookimpl

    def shout(root) -> str:
        return root.name.upper()

    @hookimpl
    def dougong_schema(registrar):
        registrar.extend("Widget", "shouted", shout)
"""


async def test_dougong_schema_extend_needs_dependency(kernel_factory, make_component, widget, graphql):
    rogue = make_component("rogue", hooks=EXTENDER)
    with pytest.raises(BootError, match="'rogue' extends 'Widget' of component 'widget' without depending on it"):
        await kernel_factory(blueprint("widget", "rogue"), installed=[widget, rogue])

    friend = make_component("friend", hooks=EXTENDER, depends={"widget": ">=1.0"})
    kernel = await kernel_factory(blueprint("friend"), installed=[widget, friend])  # widget pulled in
    await graphql(kernel, staff(1)).mutate('mutation { makeWidget(input: {name: "cup"}) { userErrors { code } } }')
    assert (await graphql(kernel).data("{ widgets { name shouted } }"))["widgets"] == [{"name": "cup", "shouted": "CUP"}]
    assert "shouted: String!" in kernel.schema.as_str()


# -- dougong_permissions ----------------------------------------------------------------------

async def test_dougong_permissions_checked_per_role(kernel_factory, widget, graphql):
    kernel = await kernel_factory(blueprint("widget"), installed=[widget])
    doc = 'mutation { makeWidget(input: {name: "x"}) { widget { id } userErrors { code message } } }'
    assert (await graphql(kernel).mutate(doc))["userErrors"][0]["code"] == "KERNEL_UNAUTHENTICATED"
    assert (await graphql(kernel, member(1)).mutate(doc))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert (await graphql(kernel, staff(2, "live_host")).mutate(doc))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert (await graphql(kernel, staff(3, "admin")).mutate(doc))["userErrors"] == []  # admin holds all
    assert (await graphql(kernel, staff(4, "store_clerk")).mutate(doc))["userErrors"] == []
    assert len((await graphql(kernel).data("{ widgets { id } }"))["widgets"]) == 2


async def test_dougong_permissions_must_be_prefixed(kernel_factory, make_component):
    bad = make_component("lax", hooks="""
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_permissions(registrar):
            registrar.permission("orders.refund", "steal another's name")
    """)
    with pytest.raises(BootError, match="must start with 'lax.'"):
        await kernel_factory(blueprint("lax"), installed=[bad])


# -- dougong_error_codes ----------------------------------------------------------------------

async def test_dougong_error_codes_gathered_into_one_enum(kernel_factory, widget, graphql):
    kernel = await kernel_factory(blueprint("widget"), installed=[widget])
    sdl = kernel.schema.as_str()
    assert "WIDGET_NAME_EMPTY" in sdl and "KERNEL_FORBIDDEN" in sdl
    assert "code: ErrorCode!" in sdl
    payload = await graphql(kernel, staff(1)).mutate('mutation { makeWidget(input: {name: "  "}) { widget { id } userErrors { code field message } } }')
    assert payload == {"widget": None, "userErrors": [{"code": "WIDGET_NAME_EMPTY", "field": "input.name", "message": "A widget needs a name."}]}
    assert (await graphql(kernel).data("{ widgets { id } }"))["widgets"] == []  # nothing written


async def test_dougong_error_codes_naming_enforced(kernel_factory, make_component):
    bad = make_component("sloppy", hooks="""
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_error_codes(registrar):
            registrar.error_code("OUT_OF_STOCK", "no prefix")
    """)
    with pytest.raises(BootError, match="start with 'SLOPPY_'"):
        await kernel_factory(blueprint("sloppy"), installed=[bad])


# -- dougong_event_handlers -------------------------------------------------------------------

LISTENER = """
    from core.hookspecs import hookimpl
    SEEN = []
    FAIL = {"times": 0}

    async def after(kernel, event):
        if FAIL["times"] > 0:
            FAIL["times"] -= 1
            raise RuntimeError("transient")
        SEEN.append(("after", event.payload["name"]))

    async def inside(tx, event):
        SEEN.append(("inside", event.payload["name"]))
        if event.payload["name"] == "veto":
            from core.errors import DomainError
            raise DomainError("WIDGET_NAME_EMPTY", "vetoed inside the transaction")

    @hookimpl
    def dougong_event_handlers(registrar):
        registrar.on("widget.made", after)
        registrar.on("widget.made", inside, in_transaction=True)
"""


async def test_dougong_event_handlers_after_commit_and_in_transaction(kernel_factory, make_component, widget, graphql, clock):
    listener = make_component("listener", hooks=LISTENER, depends={"widget": ""})
    kernel = await kernel_factory(blueprint("widget", "listener"), installed=[widget, listener])
    seen = hooks_module(kernel, "listener").SEEN
    admin = graphql(kernel, staff(1))
    await admin.mutate('mutation { makeWidget(input: {name: "ok"}) { userErrors { code } } }')
    assert seen == [("inside", "ok"), ("after", "ok")]

    # An in-transaction handler that refuses rolls the cause back; nothing is delivered after.
    payload = await admin.mutate('mutation { makeWidget(input: {name: "veto"}) { userErrors { code } } }')
    assert payload["userErrors"] == [{"code": "WIDGET_NAME_EMPTY"}]
    assert seen[-1] == ("inside", "veto")
    assert [w["name"] for w in (await admin.data("{ widgets { name } }"))["widgets"]] == ["ok"]

    # A failing after-commit handler is retried by the worker's sweep, not lost.
    hooks_module(kernel, "listener").FAIL["times"] = 1
    await admin.mutate('mutation { makeWidget(input: {name: "retry"}) { userErrors { code } } }')
    assert ("after", "retry") not in seen
    clock.advance(minutes=1)
    await kernel.run_due()
    assert seen.count(("after", "retry")) == 1
    await kernel.run_due()
    assert seen.count(("after", "retry")) == 1  # delivered once, then marked


async def test_an_observer_watches_any_declared_event_without_depending_on_its_owner(kernel_factory, make_component, widget,
                                                                                     graphql):
    watcher = """
        from core.hookspecs import hookimpl
        SEEN = []

        async def saw(kernel, event):
            SEEN.append(event.payload["name"])

        @hookimpl
        def dougong_event_handlers(registrar):
            registrar.observe("widget.made", saw)
    """
    observer = make_component("watcher", hooks=watcher)  # no dependency on widget
    kernel = await kernel_factory(blueprint("widget", "watcher"), installed=[widget, observer])
    await graphql(kernel, staff(1)).mutate('mutation { makeWidget(input: {name: "seen"}) { userErrors { code } } }')
    assert hooks_module(kernel, "watcher").SEEN == ["seen"]
    # Observing still needs the event to be declared by a loaded component.
    typo = make_component("typo_watcher", hooks=watcher.replace('"widget.made"', '"widget.mad"'))
    with pytest.raises(BootError, match="handles event 'widget.mad', which no component declares; did you mean 'widget.made'"):
        await kernel_factory(blueprint("widget", "typo_watcher"), installed=[widget, typo])
    # While handling the same event with registrar.on still needs the dependency.
    plain = make_component("plain_watcher", hooks=watcher.replace("registrar.observe(", "registrar.on("))
    with pytest.raises(BootError, match="without depending on it"):
        await kernel_factory(blueprint("widget", "plain_watcher"), installed=[widget, plain])


async def test_dougong_event_handlers_absent_means_delivered_with_the_commit(kernel_factory, widget, graphql, clock):
    from sqlalchemy import select

    from core.models import EventRow

    kernel = await kernel_factory(blueprint("widget"), installed=[widget])  # nobody listens to widget.made
    await graphql(kernel, staff(1)).mutate('mutation { makeWidget(input: {name: "solo"}) { userErrors { code } } }')
    async with kernel.db.read() as session:
        row = (await session.scalars(select(EventRow).where(EventRow.name == "widget.made"))).one()
    assert row.delivered_at is not None
    clock.advance(minutes=1)
    assert await kernel.events.redeliver() == 0


# -- dougong_jobs -----------------------------------------------------------------------------

TIMED = """
    from datetime import timedelta
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, func
    from core.hookspecs import hookimpl

    metadata = MetaData()
    fired = Table("timed_fired", metadata, Column("id", Integer, primary_key=True), Column("key", String(20)))
    RECURRING = []

    async def ring(tx, timer):
        await tx.session.execute(insert(fired).values(key=timer.key))

    async def tick(tx, timer):
        RECURRING.append(tx.now())

    @hookimpl
    def dougong_tables(registrar):
        registrar.table(fired)

    @hookimpl
    def dougong_jobs(registrar):
        registrar.job("timed.ring", ring)
        registrar.every("timed.tick", 60, tick)

    async def count(kernel):
        async with kernel.db.read() as session:
            return (await session.execute(select(fired.c.key))).scalars().all()
"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_dougong_jobs_fire_once_across_restart_and_workers(kernel_factory, make_component, clock, tmp_path, database, request):
    timed = make_component("timed", hooks=TIMED)
    if database == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database()
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'timers.sqlite'}"
    first = await kernel_factory(blueprint("timed"), installed=[timed], database=url)
    async with first.transaction() as tx:
        await tx.schedule("timed.ring", "a", clock.now() + timedelta(minutes=5))
    assert await first.run_due() == 0  # not due yet
    await first.stop()

    # "Restart": two fresh kernels on the same database, both running the worker at once.
    second = await kernel_factory(blueprint("timed"), installed=[timed], database=url)
    third = await kernel_factory(blueprint("timed"), installed=[timed], database=url)
    clock.advance(minutes=6)
    results = await asyncio.gather(second.timers.run_due(), third.timers.run_due())
    module = hooks_module(second, "timed")
    assert await module.count(second) == ["a"]  # exactly once
    assert sum(results) >= 1
    assert await second.pending_timers() == 1  # only the recurring tick is left

    # Recurring job: runs each period and stays pending.
    clock.advance(seconds=61)
    await second.timers.run_due()
    assert len(module.RECURRING) >= 1


async def test_dougong_jobs_names_prefixed(kernel_factory, make_component):
    bad = make_component("late", hooks="""
        from core.hookspecs import hookimpl
        async def go(tx, timer):
            pass
        @hookimpl
        def dougong_jobs(registrar):
            registrar.job("payment_timeout", go)
    """)
    with pytest.raises(BootError, match="must start with 'late.'"):
        await kernel_factory(blueprint("late"), installed=[bad])


# -- dougong_price_adjusters ------------------------------------------------------------------

async def test_dougong_price_adjusters_ordered_by_stage(kernel_factory, make_component):
    source = """
        from core.hookspecs import hookimpl
        def adjust(tx, draft):
            return draft
        @hookimpl
        def dougong_price_adjusters(registrar):
            registrar.price_adjuster("{stage}", adjust)
    """
    coupon = make_component("coupons", hooks=source.replace("{stage}", "coupon"))
    activity = make_component("flash", hooks=source.replace("{stage}", "activity"))
    kernel = await kernel_factory(blueprint("coupons", "flash"), installed=[coupon, activity])
    assert [(a.stage, a.component) for a in kernel.contributions.adjusters_in_order()] == [("activity", "flash"), ("coupon", "coupons")]

    wrong = make_component("weird", hooks=source.replace("{stage}", "tax"))
    with pytest.raises(BootError, match="unknown stage 'tax'"):
        await kernel_factory(blueprint("weird"), installed=[wrong])


# -- dougong_dataloaders ----------------------------------------------------------------------

async def test_dougong_dataloaders_batch_per_request(kernel_factory, make_component, graphql):
    loaders = make_component("batcher", hooks="""
        import strawberry
        from core.hookspecs import hookimpl
        BATCHES = []

        async def squares(ctx, keys):
            BATCHES.append(list(keys))
            return [k * k for k in keys]

        @strawberry.type
        class Query:
            @strawberry.field
            async def squares(self, info: strawberry.Info, upto: int) -> list[int]:
                import asyncio
                loader = info.context.loader("batcher.squares")
                return list(await asyncio.gather(*(loader.load(i) for i in range(upto))))

        @hookimpl
        def dougong_dataloaders(registrar):
            registrar.dataloader("batcher.squares", squares)

        @hookimpl
        def dougong_schema(registrar):
            registrar.query(Query)
    """)
    kernel = await kernel_factory(blueprint("batcher"), installed=[loaders])
    assert (await graphql(kernel).data("{ squares(upto: 5) }"))["squares"] == [0, 1, 4, 9, 16]
    assert hooks_module(kernel, "batcher").BATCHES == [[0, 1, 2, 3, 4]]  # one batch, not five


# -- dougong_identity_provider / dougong_payment_provider -------------------------------------

async def test_first_result_providers(kernel_factory, make_component):
    source = """
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_identity_provider(kernel, provider):
            return "{who}-id" if provider == "{who}" else None
        @hookimpl
        def dougong_payment_provider(kernel, provider):
            return "{who}-pay" if provider == "{who}" else None
    """
    wechat = make_component("wechat", hooks=source.replace("{who}", "wechat"))
    alipay = make_component("alipay", hooks=source.replace("{who}", "alipay"))
    kernel = await kernel_factory(blueprint("wechat", "alipay"), installed=[wechat, alipay])
    assert kernel.pm.hook.dougong_identity_provider(kernel=kernel, provider="wechat") == "wechat-id"
    assert kernel.pm.hook.dougong_payment_provider(kernel=kernel, provider="alipay") == "alipay-pay"
    assert kernel.pm.hook.dougong_payment_provider(kernel=kernel, provider="stripe") is None


# -- dougong_webhooks ---------------------------------------------------------------------------

async def test_dougong_webhooks_serve_outside_callbacks_with_the_exact_bytes(kernel_factory, make_component):
    import httpx

    from core.app import create_app

    source = """
        import json
        from core.hookspecs import hookimpl
        from core.webhooks import WebhookResponse

        RECEIVED = []

        async def notify(kernel, request):
            if request.headers.get("x-sign") != "ok":
                raise RuntimeError("a handler that breaks answers 500, with nothing of ours in it")
            RECEIVED.append((kernel.blueprint.brand.slug, request.body, request.query))
            return WebhookResponse(200, json.dumps({"code": "SUCCESS"}).encode())

        @hookimpl
        def dougong_webhooks(registrar):
            registrar.webhook("notify", notify)
    """
    payer = make_component("payer", hooks=source)
    kernel = await kernel_factory(blueprint("payer"), installed=[payer])
    assert kernel.contributions.webhooks["/webhooks/payer/notify"].component == "payer"
    app = create_app([kernel], run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        body = b'{"id":  "a b"}'  # odd spacing: a signature covers these very bytes
        ok = await http.post("/webhooks/payer/notify?x=1", content=body, headers={"x-sign": "ok"})
        branded = await http.post(f"/brands/{kernel.blueprint.brand.slug}/webhooks/payer/notify", content=b"{}",
                                  headers={"x-sign": "ok"})
        broken = await http.post("/webhooks/payer/notify", content=b"{}")
        missing = await http.post("/webhooks/payer/other", content=b"{}")
    assert (ok.status_code, ok.json(), branded.status_code) == (200, {"code": "SUCCESS"}, 200)
    received = __import__(f"{payer.module}.hooks", fromlist=["RECEIVED"]).RECEIVED
    assert received[0][1:] == (body, {"x": "1"})
    assert (broken.status_code, "RuntimeError" in broken.text, missing.status_code) == (500, False, 404)

    twin = make_component("payer2", hooks=source.replace('registrar.webhook("notify"', 'registrar.webhook("no/tify"'))
    with pytest.raises(BootError, match="names webhook 'no/tify'"):
        await kernel_factory(blueprint("payer2"), installed=[twin])


# -- dougong_authority --------------------------------------------------------------------------

async def test_dougong_authority_decides_who_a_token_s_subject_is_now(kernel_factory, make_component, graphql):
    # A directory of its own (no members component): staff 7 is an admin whatever the token
    # says; anyone else is nobody. The kernel asks it on every request.
    directory = make_component("people", hooks="""
        from core.auth import Actor, TokenError
        from core.hookspecs import hookimpl

        class Directory:
            asked = 0

            async def current(self, session, claimed):
                Directory.asked += 1
                if claimed.kind == "staff" and claimed.id == 7:
                    return Actor("staff", 7, frozenset({"admin"}))
                raise TokenError("nobody here", "TOKEN_UNKNOWN_SUBJECT")

        @hookimpl
        def dougong_authority(kernel):
            return Directory()

        @hookimpl
        def dougong_permissions(registrar):
            registrar.staff_role("people_greeter", "Greets people at the door")
    """)
    kernel = await kernel_factory(blueprint("people"), installed=[directory])
    assert kernel.contributions.staff_roles["people_greeter"].component == "people"
    body = await graphql(kernel, staff(7, "people_greeter")).execute("{ __typename }")
    assert body == {"data": {"__typename": "Query"}}
    assert type(kernel.authority).asked == 1
    refused = await graphql(kernel, staff(8, "admin")).execute("{ __typename }")
    assert refused["status"] == 401 and refused["errors"][0]["extensions"]["reason"] == "TOKEN_UNKNOWN_SUBJECT"


async def test_a_staff_role_must_carry_its_component_s_name(kernel_factory, make_component):
    bad = make_component("greeter", hooks="""
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_permissions(registrar):
            registrar.staff_role("admin_deluxe", "sounds official")
    """)
    with pytest.raises(BootError, match="start with 'greeter_'"):
        await kernel_factory(blueprint("greeter"), installed=[bad])


# -- dougong_seed_demo / dougong_startup / dougong_shutdown -----------------------------------

async def test_dougong_seed_demo_startup_shutdown(kernel_factory, widget, graphql):
    kernel = await kernel_factory(blueprint("widget"), installed=[widget], seed_demo=True)
    calls = hooks_module(kernel, "widget").CALLS
    assert calls[:2] == ["startup", "seed:widget"]
    assert (await graphql(kernel).data("{ widgets { name } }"))["widgets"] == [{"name": "demo widget"}]
    assert await kernel.seed_demo() is False  # once per database
    await kernel.stop()
    assert calls[-1] == "shutdown"


async def test_async_collect_hook_is_refused(kernel_factory, make_component):
    bad = make_component("eager", hooks="""
        from core.hookspecs import hookimpl
        @hookimpl
        async def dougong_tables(registrar):
            pass
    """)
    with pytest.raises(BootError, match="must not be async"):
        await kernel_factory(blueprint("eager"), installed=[bad])


async def test_unknown_hook_is_refused_at_boot(kernel_factory, make_component):
    bad = make_component("typo", hooks="""
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_tabels(registrar):
            pass
    """)
    with pytest.raises(BootError, match="typo"):
        await kernel_factory(blueprint("typo"), installed=[bad])


# -- dougong_examples -------------------------------------------------------------------------

EXAMPLE_HOOKS = """
    import strawberry
    from core.hookspecs import hookimpl

    @strawberry.type
    class Query:
        @strawberry.field
        def ping(self) -> str:
            return "pong"

    @hookimpl
    def dougong_schema(registrar):
        registrar.query(Query)

    @hookimpl
    def dougong_examples(registrar):
        registrar.example("Ping", "query Ping { ping }")
"""


async def test_examples_are_collected_validated_and_clash_by_title(kernel_factory, make_component, graphql):
    pinger = make_component("pinger", hooks=EXAMPLE_HOOKS)
    kernel = await kernel_factory(blueprint("pinger"), installed=[pinger])
    example = kernel.contributions.examples["Ping"]
    assert example.component == "pinger"
    assert (await graphql(kernel).data(example.document)) == {"ping": "pong"}

    echo = make_component("echo", hooks="""
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_examples(registrar):
            registrar.example("Ping", "query { brand { slug } }")
    """)
    with pytest.raises(BootError, match="example 'Ping' is claimed by both 'pinger' and 'echo'"):
        await kernel_factory(blueprint("pinger", "echo"), installed=[pinger, echo])


# -- dougong_events ---------------------------------------------------------------------------

async def test_dougong_events_misspelt_or_undeclared_events_stop_the_boot(kernel_factory, make_component, widget):
    typo = make_component("typo_listener", depends={"widget": ""}, hooks="""
        from core.hookspecs import hookimpl

        async def handler(kernel, event):
            pass

        @hookimpl
        def dougong_event_handlers(registrar):
            registrar.on("widget.mad", handler)
    """)
    with pytest.raises(BootError, match=r"'typo_listener' handles event 'widget.mad'.*did you mean 'widget.made'"):
        await kernel_factory(blueprint("widget", "typo_listener"), installed=[widget, typo])

    stranger = make_component("stranger", hooks="""
        from core.hookspecs import hookimpl

        async def handler(kernel, event):
            pass

        @hookimpl
        def dougong_event_handlers(registrar):
            registrar.on("widget.made", handler)
    """)
    with pytest.raises(BootError, match="'stranger' handles event 'widget.made' of component 'widget' without depending on it"):
        await kernel_factory(blueprint("widget", "stranger"), installed=[widget, stranger])

    twin = make_component("twin", depends={"widget": ""}, hooks="""
        from core.hookspecs import hookimpl

        @hookimpl
        def dougong_events(registrar):
            registrar.event("widget.made", "claimed again")
    """)
    with pytest.raises(BootError, match="event 'widget.made' is claimed by both 'widget' and 'twin'"):
        await kernel_factory(blueprint("widget", "twin"), installed=[widget, twin])


async def test_dougong_events_listed_per_component(kernel_factory, make_component, widget):
    listener = make_component("listener", hooks=LISTENER, depends={"widget": ""})
    kernel = await kernel_factory(blueprint("widget", "listener"), installed=[widget, listener])
    assert kernel.contributions.events_of("widget") == (["widget.made"], [])
    assert kernel.contributions.events_of("listener") == ([], ["widget.made"])
    assert kernel.contributions.events["widget.made"].payload == {"id": "int", "name": "str"}


# -- dougong_checkout ---------------------------------------------------------------------------

GIFT_WRAP = """
    import strawberry
    from core.errors import DomainError
    from core.hookspecs import hookimpl

    PLACED = []

    @strawberry.input
    class GiftWrapInput:
        message: str

    class Wrapper:
        def prepare(self, tx, draft):
            wrap = draft.input("giftWrap")
            if wrap is not None and not wrap["message"].strip():
                raise DomainError("KERNEL_INVALID_INPUT", "A gift message cannot be blank.", field="input.giftWrap.message")
            if wrap is not None:
                draft.attributes["giftMessage"] = wrap["message"]

        async def placed(self, tx, draft, order_id):
            PLACED.append((order_id, draft.attributes.get("giftMessage")))

    def wrapping_fee(tx, draft):
        if draft.attributes.get("giftMessage"):
            draft.adjust(500, "礼品包装 gift wrap")

    @hookimpl
    def dougong_checkout(registrar):
        registrar.extend_input("CheckoutInput", "giftWrap", GiftWrapInput)
        registrar.checkout_participant(Wrapper())

    @hookimpl
    def dougong_price_adjusters(registrar):
        registrar.price_adjuster("delivery", wrapping_fee)
"""


async def test_dougong_checkout_input_fields_participants_and_prices(kernel_factory, make_component, graphql):
    from core.testing import member

    gift = make_component("gift", depends={"orders": ""}, hooks=GIFT_WRAP)
    kernel = await kernel_factory("""
        dougong: 1
        brand: {slug: t, name: T, currency: CNY, timezone: Asia/Shanghai}
        components:
          orders: {}
          gift: {}
    """, installed=[gift], seed_demo=True)
    assert "giftWrap: GiftWrapInput" in kernel.schema.as_str()
    buyer = graphql(kernel, member(1))
    sku = (await buyer.data("{ products(first: 1) { edges { node { skus { id price { amountMinor } } } } } }"))[
        "products"]["edges"][0]["node"]["skus"][0]
    checkout = {"lines": [{"skuId": sku["id"], "quantity": 2}], "giftWrap": {"message": "生日快乐"}}
    placed = hooks_module(kernel, "gift").PLACED
    placed.clear()  # the demo data's orders went through checkout too
    preview = await buyer.data(
        "query($c: CheckoutInput!) { previewCheckout(input: $c) { preview { total { amountMinor } "
        "orderAdjustments { component stage label } } userErrors { code } } }", c=checkout)
    expected = sku["price"]["amountMinor"] * 2 + 500
    assert preview["previewCheckout"]["preview"] == {
        "total": {"amountMinor": expected},
        "orderAdjustments": [{"component": "gift", "stage": "delivery", "label": "礼品包装 gift wrap"}]}
    assert placed == []  # the preview wrote nothing and called no placed()
    body = await buyer.mutate(
        "mutation($c: CheckoutInput!, $t: Long) { placeOrder(input: {checkout: $c, expectedTotal: $t}) "
        "{ order { id total { amountMinor } } userErrors { code field } } }", c=checkout, t=expected)
    assert body["order"]["total"]["amountMinor"] == expected
    assert len(placed) == 1 and placed[0][1] == "生日快乐"
    blank = await buyer.mutate(
        "mutation($c: CheckoutInput!) { placeOrder(input: {checkout: $c}) { order { id } userErrors { code field } } }",
        c={**checkout, "giftWrap": {"message": " "}})
    assert blank["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": "input.giftWrap.message"}]
    changed = await buyer.mutate(
        "mutation($c: CheckoutInput!, $t: Long) { placeOrder(input: {checkout: $c, expectedTotal: $t}) "
        "{ order { id } userErrors { code details } } }", c=checkout, t=expected - 1)
    assert changed["order"] is None and changed["userErrors"][0]["code"] == "ORDERS_PRICE_CHANGED"
    assert changed["userErrors"][0]["details"]["totalMinor"] == expected and len(placed) == 1


async def test_dougong_checkout_fields_need_the_dependency_and_one_owner(kernel_factory, make_component):
    rogue = make_component("rogue_gift", depends={"catalog": ""}, hooks=GIFT_WRAP)
    with pytest.raises(BootError, match="'rogue_gift' extends input 'CheckoutInput' of component 'orders' without depending on it"):
        await kernel_factory(blueprint("orders", "rogue_gift"), installed=[rogue])
    first = make_component("gift_a", depends={"orders": ""}, hooks=GIFT_WRAP)
    second = make_component("gift_b", depends={"orders": ""}, hooks=GIFT_WRAP)
    with pytest.raises(BootError, match="input field CheckoutInput.giftWrap is claimed by both 'gift_a' and 'gift_b'"):
        await kernel_factory(blueprint("orders", "gift_a", "gift_b"), installed=[first, second])


# -- dougong_page_blocks -------------------------------------------------------------------------

RAFFLE_BLOCKS = """
    import strawberry
    from core.hookspecs import hookimpl
    from core.storefront import StorefrontBlock

    @strawberry.type
    class RaffleBlock(StorefrontBlock):
        prizes: list[str]

    async def running(page, settings):
        return {"prizes": ["tea set"] * settings["count"]}

    @hookimpl
    def dougong_page_blocks(registrar):
        registrar.page_block(NAME, titles={"zh": "抽奖", "en": "Raffle"}, graphql_type=RaffleBlock, resolve=running,
                             settings_schema={"type": "object", "properties": {"count": {"type": "integer", "minimum": 0,
                                                                                           "maximum": 3, "default": 1}}})
"""
RAFFLE_PAGE = """
pages:
  - slug: home
    blocks:
      - {type: raffle.running, settings: {count: 2}}
      - {type: raffle.running, key: none, settings: {count: 0}}
"""


async def test_page_blocks_of_a_third_party_render_and_clash_at_boot(kernel_factory, make_component, graphql):
    raffle = make_component("raffle", hooks=RAFFLE_BLOCKS.replace("NAME", '"raffle.running"'))
    kernel = await kernel_factory(blueprint("raffle") + RAFFLE_PAGE, installed=[raffle])
    page = (await graphql(kernel).data('{ storefrontPage(slug: "home") { blocks { key ... on RaffleBlock { prizes } } } }'))
    assert page["storefrontPage"]["blocks"] == [{"key": "0", "prizes": ["tea set", "tea set"]}]  # the empty one is left out
    # Another component's block name, and one name twice: the boot stops naming them.
    thief = make_component("thief", hooks=RAFFLE_BLOCKS.replace("NAME", '"raffle.running"'))
    with pytest.raises(BootError, match="component 'thief' registers page block 'raffle.running': block names are 'thief.<name>'"):
        await kernel_factory(blueprint("thief"), installed=[thief])
    twice = make_component("twice", hooks=RAFFLE_BLOCKS.replace("NAME", '"twice.a"') + """
    @hookimpl
    def dougong_examples(registrar):
        registrar.page_block("twice.a", titles={"zh": "a", "en": "a"}, graphql_type=RaffleBlock, resolve=running,
                             settings_schema={"type": "object"})
""")
    with pytest.raises(BootError, match="page block 'twice.a' is registered twice by component 'twice'"):
        await kernel_factory(blueprint("twice"), installed=[twice])
    # Two components whose block types share a GraphQL name clash like any two types.
    left = make_component("left", hooks=RAFFLE_BLOCKS.replace("NAME", '"left.raffle"'))
    right = make_component("right", hooks=RAFFLE_BLOCKS.replace("NAME", '"right.raffle"'))
    with pytest.raises(BootError, match="GraphQL type 'RaffleBlock' is claimed by both 'left' and 'right'"):
        await kernel_factory(blueprint("left", "right"), installed=[left, right])


# -- meta: every hook is documented and tested --------------------------------------------------

def test_every_hook_is_documented_and_tested():
    this_file = Path(__file__).read_text(encoding="utf-8")
    hooks = [name for name, obj in vars(hookspecs).items() if name.startswith("dougong_") and callable(obj)]
    assert len(hooks) >= 14
    for name in hooks:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 80, f"{name} needs a real docstring"
        assert any(word in doc for word in ("*collect*", "*first result*", "*after boot*")), f"{name}: result semantics?"
        assert f"# -- {name}" in this_file or f"{name} /" in this_file or f"/ {name}" in this_file, f"{name} has no test section"
