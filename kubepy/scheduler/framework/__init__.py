"""The scheduling framework: plugin interfaces (interface.py), per-node state (nodeinfo.py),
the runtime that runs a profile's plugins at each extension point (runtime.py)."""
