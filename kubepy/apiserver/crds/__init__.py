"""CustomResourceDefinitions in the API server: the CRD controller, serving, strategies.

``controller.CRDController`` names, establishes, serves and finalizes CRDs;
``serving.Serving`` registers custom resources live; ``strategy`` holds the registry
strategies of CRDs and custom resources; ``scale`` the scale subresource of custom
resources. The schema machinery itself (pruning, defaulting, validation, CEL) is pure
and lives in ``kubepy.api.crd``.
"""
