"""``dougong staff add``: the first admin of a fresh brand, without writing Python.

A new brand's database has no staff, and every staff mutation needs an admin: this command is
the bootstrap. It migrates the database, creates the staff member (the same rules as the
``inviteStaff`` mutation) and prints a one-time sign-in code (valid 24 hours) to redeem with
``signIn(input: {provider: "staff_code", credential: …})`` — or, with ``--token``, a bearer
token directly, for scripts. Whoever can run it can read the database anyway.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

staff_app = typer.Typer(help="A brand's staff, from the command line (the first admin of a fresh brand).", no_args_is_help=True)


@staff_app.command("add")
def add(
    file: Path = typer.Argument(..., help="The brand's blueprint."),
    name: str = typer.Option(..., help="The staff member's name."),
    phone: Optional[str] = typer.Option(None, help="Their phone number (unique among staff)."),
    role: list[str] = typer.Option(["admin"], help="Role (repeatable): admin, store_clerk, live_host, guide or one a component declares."),
    store: list[int] = typer.Option([], help="Pickup store id (repeatable); store clerks need one."),
    token: bool = typer.Option(False, "--token", help="Print a bearer token instead of a one-time sign-in code."),
) -> None:
    """Add a staff member (by default an admin) and print how they sign in."""
    from core.cli_runtime import _kernel
    from core.errors import DomainError

    kernel = _kernel(file)
    if not kernel.has_component("members"):
        typer.echo(f"{file}: the blueprint loads no members component, so it has no staff", err=True)
        raise typer.Exit(1)

    async def run() -> tuple[int, str]:
        try:
            await kernel.prepare()
            async with kernel.transaction() as tx:
                staff_id, code = await kernel.service("members.staff_admin").invite(tx, name=name, roles=role, store_ids=store, phone=phone)
            if token:
                from core.auth import Actor
                from core.authority import current_actor

                code = kernel.issue_token(await current_actor(kernel, Actor("staff", staff_id)))
            return staff_id, code
        finally:
            await kernel.db.dispose()

    try:
        staff_id, secret = asyncio.run(run())
    except DomainError as exc:
        typer.echo(f"{file}: {exc.message} ({exc.code})", err=True)
        raise typer.Exit(1) from None
    from core.gql.relay import to_global_id

    if token:
        typer.echo(secret)
        return
    typer.echo(f"staff {staff_id} ({to_global_id('Staff', staff_id)}) added with roles {', '.join(sorted(set(role)))}.")
    typer.echo("One-time sign-in code (valid 24 hours, shown once):")
    typer.echo(secret)
    typer.echo('Sign in with: mutation { signIn(input: {provider: "staff_code", credential: "<code>"}) { token } }')
