"""Validation of networking.k8s.io/v1 kinds (``pkg/apis/networking/validation``).

NetworkPolicy: ports (protocol, port number or name, endPort ranges), peers (exactly one
kind, an ipBlock alone, CIDR excepts inside the CIDR) and policy types. Ingress: a
default backend or rules; hosts are DNS names (a leading ``*.`` allowed), never IPs;
every path has a pathType, absolute paths for Exact and Prefix, and a backend that is a
service (name + port name or number) or a resource, not both. IngressClass: a
domain-prefixed controller that never changes and well-formed parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, forbidden, invalid, not_supported, required, too_long
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_int,
    as_list,
    as_str,
    validate_immutable,
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)

PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")
PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
INVALID_PATH_SUFFIXES = ("/..", "/.")
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
INGRESS_CLASS_CONTROLLER_MAX = 250
PARAMETER_SCOPES = ("Cluster", "Namespace")


def _meta(obj: Mapping[str, Any], namespaced: bool) -> list[FieldError]:
    return validate_object_meta(obj.get("metadata"), namespaced=namespaced, name_fn=names.name_is_dns_subdomain,
                                core_group=False)


def _meta_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# -- NetworkPolicy ------------------------------------------------------------------------------
def validate_network_policy_port(port: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    value = port.get("port")
    end = port.get("endPort")
    if value is None:
        if end is not None:
            errs.append(invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified"))
    elif _is_int(value):
        errs.extend(invalid(f"{path}.port", value, m) for m in names.is_valid_port_num(value))
        if end is not None:
            if as_int(end) < value:
                errs.append(invalid(f"{path}.endPort", value, "must be greater than or equal to `port`"))
            errs.extend(invalid(f"{path}.endPort", end, m) for m in names.is_valid_port_num(as_int(end)))
    else:
        if end is not None:
            errs.append(invalid(f"{path}.endPort", end, "may not be specified when `port` is non-numeric"))
        errs.extend(invalid(f"{path}.port", value, m) for m in names.is_valid_port_name(as_str(value)))
    return errs


def validate_ip_block(block: Mapping[str, Any], path: str) -> list[FieldError]:
    import ipaddress

    cidr = as_str(block.get("cidr"))
    if not cidr:
        return [required(f"{path}.cidr")]
    errs = [invalid(f"{path}.cidr", cidr, m) for m in names.is_valid_cidr(cidr)]
    if errs:
        return errs
    net = ipaddress.ip_network(cidr, strict=False)
    for i, raw in enumerate(as_list(block.get("except"))):
        text = as_str(raw)
        epath = f"{path}.except[{i}]"
        bad = names.is_valid_cidr(text)
        if bad:
            errs.extend(invalid(epath, text, m) for m in bad)
            continue
        exc = ipaddress.ip_network(text, strict=False)
        if exc.version != net.version or not exc.subnet_of(net) or exc.prefixlen <= net.prefixlen:  # type: ignore[arg-type]
            errs.append(invalid(epath, text, "must be a strict subset of `cidr`"))
    return errs


def validate_network_policy_peer(peer: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    if peer.get("podSelector") is not None:
        count += 1
        errs.extend(validate_label_selector(peer["podSelector"], f"{path}.podSelector"))
    if peer.get("namespaceSelector") is not None:
        count += 1
        errs.extend(validate_label_selector(peer["namespaceSelector"], f"{path}.namespaceSelector"))
    if peer.get("ipBlock") is not None:
        count += 1
        errs.extend(validate_ip_block(as_dict(peer["ipBlock"]), f"{path}.ipBlock"))
    if count == 0:
        errs.append(required(path, "must specify a peer"))
    elif count > 1 and peer.get("ipBlock") is not None:
        errs.append(forbidden(path, "may not specify both ipBlock and another peer"))
    return errs


def _network_policy_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_label_selector(spec.get("podSelector"), "spec.podSelector")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, raw in enumerate(as_list(spec.get(direction))):
            rule = as_dict(raw)
            base = f"spec.{direction}[{i}]"
            for j, port in enumerate(as_list(rule.get("ports"))):
                errs.extend(validate_network_policy_port(as_dict(port), f"{base}.ports[{j}]"))
            for j, peer in enumerate(as_list(rule.get(peers))):
                errs.extend(validate_network_policy_peer(as_dict(peer), f"{base}.{peers}[{j}]"))
    types = as_list(spec.get("policyTypes"))
    for i, t in enumerate(types):
        if t not in POLICY_TYPES:
            errs.append(not_supported(f"spec.policyTypes[{i}]", t, POLICY_TYPES))
    if len(types) > len(POLICY_TYPES):
        errs.append(invalid("spec.policyTypes", types, "may not specify more than two policyTypes"))
    return errs


def validate_network_policy(np: Mapping[str, Any]) -> list[FieldError]:
    return _meta(np, True) + _network_policy_spec(as_dict(np.get("spec")))


def validate_network_policy_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return _meta_update(new, old) + _network_policy_spec(as_dict(new.get("spec")))


# -- Ingress -------------------------------------------------------------------------------------
def _validate_host(host: str, path: str) -> list[FieldError]:
    if names.parse_ip(host) is not None:
        return [invalid(path, host, "must be a DNS name, not an IP address")]
    if host.startswith("*."):
        return [invalid(path, host, m) for m in names.is_dns1123_subdomain(host[2:])]
    if "*" in host:
        return [invalid(path, host, "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid "
                                    "DNS subdomain, which must consist of lower case alphanumeric characters, "
                                    "'-' or '.' and end with an alphanumeric character (e.g. '*.example.com', "
                                    "regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                                    "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    return [invalid(path, host, m) for m in names.is_dns1123_subdomain(host)]


def _typed_local_ref(ref: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not as_str(ref.get("name")):
        errs.append(required(f"{path}.name"))
    if not as_str(ref.get("kind")):
        errs.append(required(f"{path}.kind"))
    group = ref.get("apiGroup")
    if isinstance(group, str) and group:
        errs.extend(invalid(f"{path}.apiGroup", group, m) for m in names.is_dns1123_subdomain(group))
    return errs


def validate_ingress_backend(backend: Mapping[str, Any], path: str) -> list[FieldError]:
    resource = backend.get("resource")
    service = backend.get("service")
    if resource is not None and service is not None:
        return [invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        return _typed_local_ref(as_dict(resource), f"{path}.resource")
    if service is None:
        return [invalid(path, "", "resource or service backend is required")]
    svc = as_dict(service)
    errs: list[FieldError] = []
    name = as_str(svc.get("name"))
    if not name:
        errs.append(required(f"{path}.service.name"))
    else:
        errs.extend(invalid(f"{path}.service.name", name, m) for m in names.name_is_dns1035_label(name))
    port = as_dict(svc.get("port"))
    port_name = as_str(port.get("name"))
    port_number = as_int(port.get("number"))
    if port_name and port_number:
        errs.append(invalid(path, "", "cannot set both port name & port number"))
    elif port_name:
        errs.extend(invalid(f"{path}.service.port.name", port_name, m) for m in names.is_valid_port_name(port_name))
    elif port_number:
        errs.extend(invalid(f"{path}.service.port.number", port_number, m)
                    for m in names.is_valid_port_num(port_number))
    else:
        errs.append(required(path, "port name or number is required"))
    return errs


def validate_http_ingress_path(p: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    path_type = p.get("pathType")
    value = as_str(p.get("path"))
    if path_type is None:
        return [required(f"{path}.pathType", "pathType must be specified")]
    if path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errs.append(invalid(f"{path}.path", value, "must be an absolute path"))
        if value:
            for seq in INVALID_PATH_SEQUENCES:
                if seq in value:
                    errs.append(invalid(f"{path}.path", value, f"must not contain '{seq}'"))
            for suffix in INVALID_PATH_SUFFIXES:
                if value.endswith(suffix):
                    errs.append(invalid(f"{path}.path", value, f"cannot end with '{suffix}'"))
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errs.append(invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        errs.append(not_supported(f"{path}.pathType", path_type, PATH_TYPES))
    errs.extend(validate_ingress_backend(as_dict(p.get("backend")), f"{path}.backend"))
    return errs


def _ingress_spec(ing: Mapping[str, Any]) -> list[FieldError]:
    spec = as_dict(ing.get("spec"))
    errs: list[FieldError] = []
    rules = as_list(spec.get("rules"))
    default = spec.get("defaultBackend")
    if not rules and default is None:
        errs.append(invalid("spec", rules, "either `defaultBackend` or `rules` must be specified"))
    if default is not None:
        errs.extend(validate_ingress_backend(as_dict(default), "spec.defaultBackend"))
    for i, raw in enumerate(rules):
        rule = as_dict(raw)
        base = f"spec.rules[{i}]"
        host = as_str(rule.get("host"))
        if host:
            errs.extend(_validate_host(host, f"{base}.host"))
        http = rule.get("http")
        if http is not None:
            paths = as_list(as_dict(http).get("paths"))
            if not paths:
                errs.append(required(f"{base}.http.paths"))
            for j, p in enumerate(paths):
                errs.extend(validate_http_ingress_path(as_dict(p), f"{base}.http.paths[{j}]"))
    for i, raw in enumerate(as_list(spec.get("tls"))):
        tls = as_dict(raw)
        for j, host in enumerate(as_list(tls.get("hosts"))):
            h = as_str(host)
            if h.startswith("*."):
                h = h[2:]
            errs.extend(invalid(f"spec.tls[{i}].hosts[{j}]", host, m) for m in names.is_dns1123_subdomain(h))
        secret = as_str(tls.get("secretName"))
        if secret:
            errs.extend(invalid(f"spec.tls[{i}].secretName", secret, m) for m in names.is_dns1123_subdomain(secret))
    class_name = spec.get("ingressClassName")
    if isinstance(class_name, str):
        errs.extend(invalid("spec.ingressClassName", class_name, m) for m in names.is_dns1123_subdomain(class_name))
        annotations = as_dict(as_dict(ing.get("metadata")).get("annotations"))
        if INGRESS_CLASS_ANNOTATION in annotations:
            errs.append(invalid(f"annotations.{INGRESS_CLASS_ANNOTATION}", annotations[INGRESS_CLASS_ANNOTATION],
                                "can not be set when the class field is also set"))
    return errs


def validate_ingress(ing: Mapping[str, Any]) -> list[FieldError]:
    return _meta(ing, True) + _ingress_spec(ing)


def validate_ingress_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return _meta_update(new, old) + _ingress_spec(new)


def validate_ingress_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _meta_update(new, old)
    lb = as_dict(as_dict(new.get("status")).get("loadBalancer"))
    for i, raw in enumerate(as_list(lb.get("ingress"))):
        entry = as_dict(raw)
        ip = as_str(entry.get("ip"))
        if ip:
            errs.extend(invalid(f"status.loadBalancer.ingress[{i}].ip", ip, m) for m in names.is_valid_ip(ip))
        host = as_str(entry.get("hostname"))
        if host:
            errs.extend(invalid(f"status.loadBalancer.ingress[{i}].hostname", host, m)
                        for m in names.is_dns1123_subdomain(host))
            if names.parse_ip(host) is not None:
                errs.append(invalid(f"status.loadBalancer.ingress[{i}].hostname", host, "must be a DNS name, not an IP address"))
    return errs


# -- IngressClass --------------------------------------------------------------------------------
def _ingress_class_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    controller = as_str(spec.get("controller"))
    if len(controller) > INGRESS_CLASS_CONTROLLER_MAX:
        errs.append(too_long("spec.controller", controller, INGRESS_CLASS_CONTROLLER_MAX))
    if not controller:
        errs.append(required("spec.controller"))
    else:
        domain, sep, rest = controller.partition("/")
        if not sep or not rest:
            errs.append(invalid("spec.controller", controller, "must be a domain-prefixed path (such as \"acme.io/foo\")"))
        else:
            errs.extend(invalid("spec.controller", domain, m) for m in names.is_dns1123_subdomain(domain))
    params = spec.get("parameters")
    if isinstance(params, dict):
        path = "spec.parameters"
        if not as_str(params.get("kind")):
            errs.append(required(f"{path}.kind"))
        if not as_str(params.get("name")):
            errs.append(required(f"{path}.name"))
        scope = params.get("scope")
        namespace = params.get("namespace")
        if scope is None:
            errs.append(required(f"{path}.scope", ""))
        elif scope not in PARAMETER_SCOPES:
            errs.append(not_supported(f"{path}.scope", scope, PARAMETER_SCOPES))
        elif scope == "Namespace" and not namespace:
            errs.append(required(f"{path}.namespace", "`parameters.scope` is set to 'Namespace'"))
        elif scope == "Cluster" and namespace:
            errs.append(forbidden(f"{path}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return errs


def validate_ingress_class(ic: Mapping[str, Any]) -> list[FieldError]:
    return _meta(ic, False) + _ingress_class_spec(as_dict(ic.get("spec")))


def validate_ingress_class_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _meta_update(new, old) + _ingress_class_spec(as_dict(new.get("spec")))
    errs.extend(validate_immutable(as_dict(new.get("spec")).get("controller"),
                                   as_dict(old.get("spec")).get("controller"), "spec.controller"))
    return errs
