"""The projector: event-store stream records into every read model."""
