"""Alembic environment: migrations run programmatically on the connection `open_database` passes
(`config.attributes["connection"]`); there is no alembic.ini and no offline mode."""

from __future__ import annotations

from alembic import context

from evolve.db.models import Base

VERSION_TABLE = "evolve_alembic_version"  # do not collide with other apps sharing a PostgreSQL db

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("evolve migrations run through evolve.db.open_database(url)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
