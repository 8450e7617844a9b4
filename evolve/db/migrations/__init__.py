"""Alembic migration environment (run programmatically by evolve.db.engine.migrate)."""
