"""CLI commands that belong to the core itself (database)."""
