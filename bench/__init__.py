"""Benchmarks of the API, the call engine, live fan-out and webhook delivery (see bench/README.md)."""
