"""The controller manager and its controllers: one module per controller (manager.py has the table)."""
