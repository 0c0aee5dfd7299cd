"""Scheduler plugins: one module per plugin (upstream names), listed in registry.py."""
