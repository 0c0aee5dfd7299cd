"""Validation of discovery.k8s.io/v1 EndpointSlice (``pkg/apis/discovery/validation``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, duplicate, invalid, not_supported, required, too_many
from kubepy.api.validation import names
from kubepy.api.validation.core import _validate_non_special_ip
from kubepy.api.validation.meta import (
    as_dict,
    as_list,
    as_str,
    validate_dns1123_label,
    validate_immutable,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)

ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
DEPRECATED_ADDRESS_TYPES = ("IP",)
PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
MAX_TOPOLOGY_LABELS = 16
MAX_ADDRESSES = 100
MAX_PORTS = 100
MAX_ENDPOINTS = 1000


def _fqdn_errors(value: str, path: str) -> list[FieldError]:
    if not value:
        return [required(path, "")]
    name = value.removesuffix(".")
    msgs = names.is_dns1123_subdomain(name)
    if msgs:
        return [invalid(path, name, ",".join(msgs))]
    if len(name.split(".")) < 2:
        return [invalid(path, name, "should be a domain with at least two segments separated by dots")]
    for label in name.split("."):
        label_msgs = names.is_dns1123_label(label)
        if label_msgs:
            return [invalid(path, label, ",".join(label_msgs))]
    return []


def _validate_address(address: str, address_type: str, path: str) -> list[FieldError]:
    if address_type == "IP":
        return [invalid(path, address, m) for m in names.is_valid_ip(address)]
    if address_type in ("IPv4", "IPv6"):
        ip = names.parse_ip(address)
        version = 4 if address_type == "IPv4" else 6
        if ip is None or ip.version != version:
            return [invalid(path, address, f"must be a valid IPv{version} address")]
        return _validate_non_special_ip(address, path)
    if address_type == "FQDN":
        return _fqdn_errors(address, path)
    return []


def _validate_slice(es: Mapping[str, Any], valid_types: tuple[str, ...]) -> list[FieldError]:
    errs = validate_object_meta(es.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain)
    address_type = as_str(es.get("addressType"))
    if not address_type:
        errs.append(required("addressType", ""))
    elif address_type not in valid_types:
        errs.append(not_supported("addressType", address_type, sorted(valid_types)))
    endpoints = as_list(es.get("endpoints"))
    if len(endpoints) > MAX_ENDPOINTS:
        errs.append(too_many("endpoints", len(endpoints), MAX_ENDPOINTS))
    else:
        for i, raw in enumerate(endpoints):
            ep = as_dict(raw)
            p = f"endpoints[{i}]"
            addresses = as_list(ep.get("addresses"))
            if not addresses:
                errs.append(required(f"{p}.addresses", "must contain at least 1 address"))
            elif len(addresses) > MAX_ADDRESSES:
                errs.append(too_many(f"{p}.addresses", len(addresses), MAX_ADDRESSES))
            for j, address in enumerate(addresses):
                errs.extend(_validate_address(as_str(address), address_type, f"{p}.addresses[{j}]"))
            topology = as_dict(ep.get("deprecatedTopology"))
            if len(topology) > MAX_TOPOLOGY_LABELS:
                errs.append(too_many(f"{p}.topology", len(topology), MAX_TOPOLOGY_LABELS))
            errs.extend(validate_labels(topology, f"{p}.topology"))
            if ep.get("hostname") is not None:
                errs.extend(validate_dns1123_label(as_str(ep["hostname"]), f"{p}.hostname"))
    ports = as_list(es.get("ports"))
    if len(ports) > MAX_PORTS:
        errs.append(too_many("ports", len(ports), MAX_PORTS))
        return errs
    seen: set[str] = set()
    for i, raw in enumerate(ports):
        port = as_dict(raw)
        p = f"ports[{i}]"
        name = as_str(port.get("name"))
        if name:
            errs.extend(validate_dns1123_label(name, f"{p}.name"))
        if name in seen:
            errs.append(duplicate(f"{p}.name", name))
        seen.add(name)
        proto = port.get("protocol")
        if proto is None:
            errs.append(required(f"{p}.protocol", ""))
        elif proto not in PORT_PROTOCOLS:
            errs.append(not_supported(f"{p}.protocol", proto, PORT_PROTOCOLS))
        if port.get("appProtocol") is not None:
            ap = as_str(port["appProtocol"])
            errs.extend(invalid(f"{p}.appProtocol", ap, m) for m in names.is_qualified_name(ap))
    return errs


def validate_endpoint_slice(es: Mapping[str, Any]) -> list[FieldError]:
    return _validate_slice(es, ADDRESS_TYPES)


def validate_endpoint_slice_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_validate_slice(new, ADDRESS_TYPES + DEPRECATED_ADDRESS_TYPES))
    errs.extend(validate_immutable(as_str(new.get("addressType")), as_str(old.get("addressType")), "addressType"))
    return errs
