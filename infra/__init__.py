"""Adapters: event store, personal-data vault, clocks, the CLI and the local stack."""
