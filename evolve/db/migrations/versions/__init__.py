"""Alembic revisions of the run database schema."""
