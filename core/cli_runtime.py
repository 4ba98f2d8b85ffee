"""CLI commands that boot a kernel: serve, schema, token, migrate (and studio).

Kept apart from the validation commands so that ``dougong validate`` never imports the
kernel's runtime (strawberry, SQLAlchemy engines) just to check a YAML file.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Optional

import typer

from core.auth import STAFF_ROLES, Actor, TokenError
from core.blueprint import BlueprintError


def _kernel(path: Path):  # noqa: ANN202
    from core.kernel import Kernel

    try:
        return Kernel.from_file(path)
    except BlueprintError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None


def serve(
    files: list[Path] = typer.Argument(..., help="One blueprint (served at /graphql) or several (at /brands/<slug>/graphql)."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (use PostgreSQL and REDIS_URL beyond 1)."),
    seed_demo: Optional[bool] = typer.Option(
        None, "--seed-demo/--no-seed-demo", help="Seed demo data into an empty database (default: the blueprint's demo_data)."
    ),
) -> None:
    """Serve the blueprints' GraphQL API, /healthz and /metrics."""
    from core.app import refuse_shared_databases
    from core.errors import BootError
    from core.serve import serve as run

    kernels = [_kernel(path) for path in files]  # report blueprint problems before uvicorn starts
    try:
        refuse_shared_databases(kernels)
    except BootError as exc:
        typer.echo(f"refusing to start: {exc}", err=True)
        raise typer.Exit(1) from None
    run([str(p) for p in files], host=host, port=port, workers=workers, seed_demo=seed_demo)


def schema(
    file: Path = typer.Argument(..., help="The blueprint."),
    against: Optional[Path] = typer.Option(
        None, "--against", help="An earlier SDL (.graphql): print what changed instead, exit 1 if anything breaks."
    ),
    output: str = typer.Option(
        "text", "--format", help="With --against: 'text' (grouped: breaking, dangerous, deprecated, added) or 'json' (one object of those lists)."
    ),
) -> None:
    """Print the GraphQL SDL the blueprint produces, or its changes against an earlier SDL."""
    from core.schema_diff import SDLError, compare

    if output not in ("text", "json"):
        typer.echo(f"--format is 'text' or 'json', not {output!r}", err=True)
        raise typer.Exit(2)
    old_text = None
    if against is not None:
        try:
            old_text = against.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            typer.echo(f"{against}: cannot read it: {exc}", err=True)
            raise typer.Exit(2) from None
    kernel = _kernel(file)
    sdl = kernel.schema.as_str() + "\n"
    if old_text is None:
        sys.stdout.write(sdl)
        return
    try:
        report = compare(old_text, sdl)
    except SDLError as exc:
        typer.echo(f"{against}: {exc}", err=True)
        raise typer.Exit(2) from None
    if output == "json":
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        for line in report.lines():
            typer.echo(line)
    raise typer.Exit(1 if report.breaking else 0)


def token(
    file: Path = typer.Argument(..., help="The blueprint whose brand the token is for."),
    member: Optional[int] = typer.Option(None, help="Member id."),
    staff: Optional[int] = typer.Option(None, help="Staff id."),
    role: list[str] = typer.Option(
        [], help=f"Staff role (repeatable): {', '.join(STAFF_ROLES)}. Only for a blueprint without members; otherwise roles come from the database."
    ),
    store: list[int] = typer.Option([], help="Store id a store clerk works at (repeatable); likewise."),
    hours: float = typer.Option(24.0, help="Validity in hours."),
) -> None:
    """Print a bearer token for an existing member or staff member, for operators and scripts.

    The person must exist in the brand's database (and staff be active); their roles and
    stores are the database's, and every request re-reads them anyway."""
    if (member is None) == (staff is None):
        typer.echo("give exactly one of --member or --staff", err=True)
        raise typer.Exit(2)
    unknown = [r for r in role if r not in STAFF_ROLES]
    if unknown:
        typer.echo(f"unknown role(s): {', '.join(unknown)}; roles are {', '.join(STAFF_ROLES)}", err=True)
        raise typer.Exit(2)
    kernel = _kernel(file)
    claimed = Actor("member", member) if member is not None else Actor("staff", staff, frozenset(role or ["admin"]), frozenset(store))

    async def run() -> str:
        from core.authority import current_actor

        try:
            await kernel.prepare()
            return kernel.issue_token(await current_actor(kernel, claimed), timedelta(hours=hours))
        finally:
            await kernel.db.dispose()

    try:
        typer.echo(asyncio.run(run()))
    except TokenError as exc:
        typer.echo(f"{file}: {exc} ({exc.reason}); add staff with `dougong staff add`", err=True)
        raise typer.Exit(1) from None


def migrate(
    file: Path = typer.Argument(..., help="The blueprint whose database to migrate."),
    revision: Optional[str] = typer.Option(None, help="Write the next revision of this component (or 'kernel') instead of upgrading."),
    message: str = typer.Option("update", "-m", "--message", help="Message of the new revision."),
) -> None:
    """Upgrade the blueprint's database to the heads of its components' migration branches."""
    from core import migrations

    kernel = _kernel(file)

    async def run() -> None:
        try:
            if revision:
                path = await migrations.make_revision(kernel, revision, message)
                typer.echo(f"wrote {path}" if path else f"{revision}: models and database agree; nothing to write")
            else:
                await migrations.upgrade(kernel)
                typer.echo(f"{file}: at heads {', '.join(sorted(await migrations.current_heads(kernel)))}")
        finally:
            await kernel.db.dispose()

    asyncio.run(run())


def studio(
    folder: Path = typer.Argument(Path("blueprints"), help="The folder of blueprints to compose in."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (loopback by default; anything else needs a token)."),
    port: int = typer.Option(8100, help="Port to listen on."),
    token: Optional[str] = typer.Option(None, envvar="DOUGONG_STUDIO_TOKEN", help="Require this token (made up when --host is not loopback)."),
) -> None:
    """Compose blueprints in the browser: catalog, templates, settings forms, checks, diff, SDL, sandbox."""
    from core.studio.serve import run

    if not folder.is_dir():
        typer.echo(f"{folder}: not a folder; create it or name the folder of your blueprints", err=True)
        raise typer.Exit(2)
    run(folder, host, port, token)


def register(app: typer.Typer) -> None:
    from core.cli_staff import staff_app

    for command in (serve, schema, token, migrate, studio):
        app.command()(command)
    app.add_typer(staff_app, name="staff")
