"""Validation of certificates.k8s.io/v1 CertificateSigningRequest (``pkg/apis/certificates/validation``).

Any name is allowed (upstream does not care what requests are called). The spec carries
a PEM ``CERTIFICATE REQUEST``, a qualified signer name, key usages from the fixed list
and an optional expiration of at least ten minutes. Conditions: known types need status
True, a type appears once, Approved and Denied exclude each other, and an approval
condition once set cannot be removed (approval writes) or touched (status writes). The
spec itself never changes: the strategy keeps the stored one on every update.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, duplicate, forbidden, invalid, not_supported, required
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_list,
    as_str,
    validate_object_meta,
    validate_object_meta_update,
)

KEY_USAGES = (
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
    "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc",
)
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
APPROVAL_TYPES = (APPROVED, DENIED)
MIN_EXPIRATION_SECONDS = 600
_PEM_CSR = b"-----BEGIN CERTIFICATE REQUEST-----"
_PEM_CERT = b"-----BEGIN CERTIFICATE-----"


def _decode_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _check_request(raw: Any) -> str:
    """Why ``spec.request`` is not one PEM certificate request ("" when it is)."""
    data = _decode_bytes(raw)
    if data is None or _PEM_CSR not in data:
        return "PEM block type must be CERTIFICATE REQUEST"
    from cryptography import x509

    try:
        csr = x509.load_pem_x509_csr(data)
    except ValueError as e:
        return str(e) or "invalid certificate request"
    if not csr.is_signature_valid:
        return "x509: invalid signature"
    return ""


def validate_signer_name(name: str, path: str) -> list[FieldError]:
    if not name:
        return [required(path)]
    domain, sep, rest = name.partition("/")
    if not sep or not rest:
        return [invalid(path, name, "must be a fully qualified domain and path of the form "
                                    "'example.com/signer-name'")]
    errs = [invalid(path, name, "validating domain component: " + m) for m in names.is_dns1123_subdomain(domain)]
    if "/" in rest:
        errs.append(invalid(path, name, "must be a fully qualified domain and path of the form "
                                        "'example.com/signer-name'"))
    return errs


def _spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    request = spec.get("request")
    if not request:
        errs.append(required("spec.request"))
    else:
        why = _check_request(request)
        if why:
            errs.append(invalid("spec.request", "<request bytes>", why))
    usages = as_list(spec.get("usages"))
    if not usages:
        errs.append(required("spec.usages"))
    seen: set[str] = set()
    for i, usage in enumerate(usages):
        if usage not in KEY_USAGES:
            errs.append(not_supported(f"spec.usages[{i}]", usage, KEY_USAGES))
        elif usage in seen:
            errs.append(duplicate(f"spec.usages[{i}]", usage))
        seen.add(as_str(usage))
    errs.extend(validate_signer_name(as_str(spec.get("signerName")), "spec.signerName"))
    expiration = spec.get("expirationSeconds")
    if isinstance(expiration, int) and expiration < MIN_EXPIRATION_SECONDS:
        errs.append(invalid("spec.expirationSeconds", expiration,
                            "may not specify a duration less than 600 seconds (10 minutes)"))
    return errs


def _conditions(status: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, raw in enumerate(as_list(status.get("conditions"))):
        cond = as_dict(raw)
        path = f"status.conditions[{i}]"
        ctype = as_str(cond.get("type"))
        if not ctype:
            errs.append(required(f"{path}.type"))
        state = as_str(cond.get("status"))
        if ctype in (APPROVED, DENIED, FAILED):
            if state != "True":
                errs.append(not_supported(f"{path}.status", state, ["True"]))
        elif state not in ("True", "False", "Unknown"):
            errs.append(not_supported(f"{path}.status", state, ["False", "True", "Unknown"]))
        if ctype in seen and ctype in (APPROVED, DENIED, FAILED):
            errs.append(duplicate(f"{path}.type", ctype))
        seen.add(ctype)
    if APPROVED in seen and DENIED in seen:
        errs.append(invalid("status.conditions", list(as_list(status.get("conditions"))),
                            "Approved and Denied conditions are mutually exclusive"))
    cert = status.get("certificate")
    if cert:
        data = _decode_bytes(cert)
        if data is None or _PEM_CERT not in data:
            errs.append(invalid("status.certificate", "<certificate data>",
                                "must contain at least one CERTIFICATE PEM block"))
    return errs


def _approval_types(obj: Mapping[str, Any]) -> set[str]:
    return {as_str(as_dict(c).get("type")) for c in as_list(as_dict(obj.get("status")).get("conditions"))} & set(
        APPROVAL_TYPES)


def validate_csr(csr: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(csr.get("metadata"), namespaced=False, name_fn=names.validate_path_segment_name,
                                core_group=False)
    return errs + _spec(as_dict(csr.get("spec"))) + _conditions(as_dict(csr.get("status")))


def validate_csr_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """Main-resource updates (the strategy already restored spec and status)."""
    return validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)


def validate_csr_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    errs.extend(_conditions(as_dict(new.get("status"))))
    return errs


def validate_csr_approval_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    errs.extend(_conditions(as_dict(new.get("status"))))
    for t in sorted(_approval_types(old) - _approval_types(new)):
        errs.append(forbidden("status.conditions", f"updates may not remove a condition of type {t!r}".replace(
            "'", '"')))
    return errs
