"""The workflow tests' fixtures (real catalog, calendar, a pool on the test database)."""

from tests.workflow.conftest import calendar_snapshot, catalog, pool

__all__ = ["calendar_snapshot", "catalog", "pool"]
