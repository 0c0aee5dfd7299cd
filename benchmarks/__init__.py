"""Reproducible benchmarks of kubepy components; each module runs with ``python -m benchmarks.<name>``."""
