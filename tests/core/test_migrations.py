"""Alembic: one branch per component, upgraded unattended, agreeing with the models."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import migrations

DEMO = Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_demo_database_is_built_by_migrations_that_match_the_models(kernel_factory, database):
    kernel = await kernel_factory(DEMO.read_text(), database=database)
    heads = await migrations.current_heads(kernel)
    assert len(heads) == len(migrations.migration_folders(kernel)) == 18  # kernel + seventeen components
    for branch in migrations.migration_folders(kernel):
        produced = await migrations.pending_changes(kernel, branch)
        assert produced.upgrade_ops.is_empty(), f"{branch}: models differ from its migrations"
    await migrations.upgrade(kernel)  # running again changes nothing
    assert await migrations.current_heads(kernel) == heads


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
