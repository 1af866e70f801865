"""Operations' view of the service: Prometheus metrics, the worker's probe server, tracing."""
