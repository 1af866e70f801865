"""Benchmarks of Entente, run by hand or with ``make bench-webhooks`` (see ``bench/README.md``)."""
