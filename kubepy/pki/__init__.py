"""Cluster PKI: CA and certificates (certs), first-start bootstrap (bootstrap), kubeconfig
files (kubeconfig), TLS contexts (tls) and service-account JWTs (serviceaccount).

Submodules are imported explicitly by their users; this package imports nothing so that
importing one part does not pay for the others.
"""
