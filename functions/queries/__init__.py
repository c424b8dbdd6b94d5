"""The queries: reporting reads over the read models (JSON and CSV), never the event store."""
