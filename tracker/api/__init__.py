"""Shared pieces of the REST API: router, pagination, permissions, history/as-of, change feed."""
