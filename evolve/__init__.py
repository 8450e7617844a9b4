"""Evolve: the search on top (database, selection, prompts, mutations, mutator backends, loop, CLI)."""
