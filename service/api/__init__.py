"""What every endpoint shares: problem details, paging, idempotency, request ids, limits."""
