"""The run database: schema (models), engines + migrations (engine), data access (repo)."""
