"""Alembic: one branch per component, upgraded unattended, agreeing with the models."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import migrations

DEMO = Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_demo_database_is_built_by_migrations_that_match_the_models(kernel_factory, database):
    # Replayed revision by revision (a fresh database is otherwise created from the models).
    kernel = await kernel_factory(DEMO.read_text(), database=database, start=False)
    await migrations.upgrade(kernel, replay=True)
    heads = await migrations.current_heads(kernel)
    assert len(heads) == len(migrations.migration_folders(kernel)) == 18  # kernel + seventeen components
    for branch in migrations.migration_folders(kernel):
        produced = await migrations.pending_changes(kernel, branch)
        assert produced.upgrade_ops.is_empty(), f"{branch}: models differ from its migrations"
    await migrations.upgrade(kernel)  # running again changes nothing
    assert await migrations.current_heads(kernel) == heads


def _schema(connection) -> dict:  # noqa: ANN001
    """Everything a migration decides about each table, as reflected from the database."""
    from sqlalchemy import inspect

    inspector = inspect(connection)
    found: dict = {}
    for table in sorted(inspector.get_table_names()):
        if table == migrations.VERSION_TABLE:
            continue

        def named(rows):  # noqa: ANN001, ANN202
            # str() of every value: a partial index's WHERE reflects as a TextClause object.
            return sorted(repr(sorted((k, {o: str(w) for o, w in v.items()} if k == "dialect_options" else v) for k, v in row.items())) for row in rows)

        found[table] = {
            # By name: a column added by a later revision comes last, which no query notices.
            "columns": sorted((c["name"], str(c["type"]), c["nullable"], str(c.get("default")), c.get("autoincrement")) for c in inspector.get_columns(table)),
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": named(inspector.get_foreign_keys(table)),
            "indexes": named(inspector.get_indexes(table)),
            "unique": named(inspector.get_unique_constraints(table)),
            "checks": named(inspector.get_check_constraints(table)),
        }
    if connection.dialect.name == "sqlite":
        # Partial indexes' WHERE clauses, as SQLite keeps them (whitespace aside).
        from sqlalchemy import text

        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"))
        found["sqlite indexes"] = [(name, " ".join(sql.split())) for name, sql in rows]
    return found


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_fresh_database_created_from_the_models_equals_the_replayed_revisions(kernel_factory, database, monkeypatch):
    created: list[int] = []
    create_and_stamp = migrations._create_and_stamp
    monkeypatch.setattr(migrations, "_create_and_stamp", lambda *a: (created.append(1), create_and_stamp(*a)))
    replayed = await kernel_factory(DEMO.read_text(), database=database, start=False)
    await migrations.upgrade(replayed, replay=True)
    assert created == []
    fresh = await kernel_factory(DEMO.read_text(), database=database, start=False)
    await migrations.upgrade(fresh)
    assert created == [1]  # the fast path was taken, once
    assert await migrations.current_heads(fresh) == await migrations.current_heads(replayed)
    schemas = []
    for kernel in (replayed, fresh):
        async with kernel.db.read_engine.connect() as conn:
            schemas.append(await conn.run_sync(_schema))
    assert len(schemas[0]) > 80
    for table in schemas[0]:
        assert schemas[1].get(table) == schemas[0][table], table
    assert set(schemas[1]) == set(schemas[0])
    await migrations.upgrade(fresh)  # a database at heads is not fresh: nothing runs again
    assert created == [1]


async def test_a_component_writes_its_own_first_revision(kernel_factory, make_component, tmp_path):
    stamp = make_component("stamp", depends={"orders": ""}, files={"models.py": """
        from sqlalchemy import ForeignKey, String
        from sqlalchemy.orm import Mapped, mapped_column
        from sqlalchemy import MetaData
        from sqlalchemy.orm import DeclarativeBase
        from core.db import metadata

        class Base(DeclarativeBase):
            metadata = metadata

        class Stamp(Base):
            __tablename__ = "stamp_card"
            id: Mapped[int] = mapped_column(primary_key=True)
            order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"))
            note: Mapped[str] = mapped_column(String(40))
    """}, hooks="""
        from core.hookspecs import hookimpl
        from . import models

        @hookimpl
        def dougong_tables(registrar):
            registrar.table(models.Stamp)
    """)
    text = DEMO.read_text().replace("\ncomponents:\n", "\ncomponents:\n  stamp: {}\n", 1)
    kernel = await kernel_factory(text, installed=[stamp], start=False, database=f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite'}")
    written = await migrations.make_revision(kernel, "stamp", "stamp cards")
    assert written is not None and written.parent.name == "migrations"
    assert "branch_labels = ['stamp']" in written.read_text() or "branch_labels = ('stamp',)" in written.read_text()
    assert await migrations.make_revision(kernel, "stamp", "again") is None  # nothing new to write

    fresh = await kernel_factory(text, installed=[stamp], database=f"sqlite+aiosqlite:///{tmp_path / 'two.sqlite'}")
    assert "stamp" in migrations.migration_folders(fresh)
    assert (await migrations.pending_changes(fresh, "stamp")).upgrade_ops.is_empty()
