"""``kubepy server``: the one-command cluster, supervising every component as a child process."""
