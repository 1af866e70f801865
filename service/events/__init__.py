"""The transactional outbox and the events feed."""
