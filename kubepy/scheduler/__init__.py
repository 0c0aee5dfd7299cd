"""kube-scheduler: the upstream scheduling framework (queue, cache, cycle, plugins)."""
