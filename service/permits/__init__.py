"""Export permits: registration, status history, expiry."""
