"""Every contribution that can break the boot names the component that made it: a bad resolver
annotation, a type that is not one, a field extension strawberry refuses. Never strawberry's or
graphql-core's bare message alone. (A hook whose own code raises is named by the dry-run boot
from its traceback: tests/core/test_validate_dry_run.py.)"""

from __future__ import annotations

import pytest

from core.errors import BootError

BLUEPRINT = """\
dougong: 1
brand: {slug: broken, name: Broken, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
  broken: {}
"""

CASES = {
    "a resolver returning a type GraphQL cannot express": ("""
        import strawberry
        from core.hookspecs import hookimpl

        @strawberry.type
        class Query:
            @strawberry.field
            def broken_things(self) -> set:
                return set()

        @hookimpl
        def dougong_schema(registrar):
            registrar.query(Query)
    """, "set"),
    "a resolver naming a type that does not exist": ("""
        import strawberry
        from core.hookspecs import hookimpl

        @strawberry.type
        class Query:
            @strawberry.field
            def broken_thing(self) -> "NoSuchType":
                return None

        @hookimpl
        def dougong_schema(registrar):
            registrar.query(Query)
    """, "broken_thing"),
    "a query class that is not a strawberry type": ("""
        from core.hookspecs import hookimpl

        class Query:
            def broken_thing(self) -> str:
                return ""

        @hookimpl
        def dougong_schema(registrar):
            registrar.query(Query)
    """, "not a @strawberry.type"),
    "a public type that is not a strawberry type": ("""
        from core.hookspecs import hookimpl

        class Thing:
            pass

        @hookimpl
        def dougong_schema(registrar):
            registrar.type(Thing)
    """, "not a strawberry type"),
    "a field extension whose argument has no type": ("""
        from core.hookspecs import hookimpl

        def note(root, style):
            return "hi"

        @hookimpl
        def dougong_schema(registrar):
            registrar.extend("Product", "brokenNote", note)
    """, "brokenNote"),
    "a field extension returning a type GraphQL cannot express": ("""
        from core.hookspecs import hookimpl

        def note(root) -> set:
            return set()

        @hookimpl
        def dougong_schema(registrar):
            registrar.extend("Product", "brokenNote", note)
    """, "set"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_boot_error_names_the_component(case: str, make_component, kernel_factory) -> None:
    hooks, detail = CASES[case]
    broken = make_component("broken", hooks=hooks, depends={"catalog": ""})
    with pytest.raises(BootError) as refused:
        await kernel_factory(BLUEPRINT, installed={"broken": broken}, start=False)
    message = str(refused.value)
    assert message.startswith("component 'broken'"), message
    assert detail in message, message
    assert "'catalog'" not in message  # the good component loaded before it is not blamed


async def test_dougong_validate_points_at_the_component_s_line(make_component, tmp_path, monkeypatch) -> None:
    """The dry-run boot of `dougong validate` attributes the error to the component's line."""
    from core.dry_run import check
    from registry.discovery import discover

    broken = make_component("broken", hooks=CASES["a resolver returning a type GraphQL cannot express"][0],
                            depends={"catalog": ""})
    path = tmp_path / "brand.yaml"
    path.write_text(BLUEPRINT)
    problems, _ = check(path, installed={**discover()[0], "broken": broken})
    assert [p.line for p in problems] == [5], [str(p) for p in problems]
    assert "component 'broken'" in str(problems[0])
