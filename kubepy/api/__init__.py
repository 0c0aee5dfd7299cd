"""The Kubernetes API as data: resource registry, schemas, validation, selectors, printing."""
