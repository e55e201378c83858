"""Validation of what users type: FQDNs, IP addresses and server endpoints. Errors are UsageError (exit 2)."""

from __future__ import annotations

import ipaddress
import re

from aksdiag.errors import UsageError
from aksdiag.facts import Endpoint

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)\Z")  # \Z, not $: $ also matches before a final newline


def parse_fqdn(text: str) -> str:
    """A DNS name in ASCII (IDN labels turned into punycode), lower case, without the trailing dot."""
    raw = text.strip()
    if not raw:
        raise UsageError("the name is empty", "give a fully qualified name such as api.privatelink.eastus.azmk8s.io")
    if is_ip(raw) or (raw.endswith(".") and is_ip(raw[:-1])):
        raise UsageError(
            f"{raw!r} is an IP address, not a name",
            "aksdiag dns takes a DNS name; pass the address with --expect, or ask `aksdiag whois` about it",
        )
    name = raw[:-1] if raw.endswith(".") else raw
    if not name or ".." in name or name.startswith("."):
        raise UsageError(f"{raw!r} is not a valid DNS name (empty label)")
    labels = []
    for label in name.split("."):
        labels.append(_ascii_label(label, raw))
    fqdn = ".".join(labels)
    if len(fqdn) > 253:
        raise UsageError(f"{raw!r} is {len(fqdn)} characters long; a DNS name is at most 253")
    return fqdn


def _ascii_label(label: str, raw: str) -> str:
    if not label.isascii():
        try:
            label = label.encode("idna").decode("ascii")
        except UnicodeError as e:
            raise UsageError(f"{raw!r}: label {label!r} cannot be written in IDNA ({e})") from None
    lowered = label.lower()
    if len(lowered.encode()) > 63:
        raise UsageError(f"{raw!r}: label {label[:20]!r}… is {len(lowered)} bytes long; a label is at most 63")
    if not _LABEL.match(lowered):
        raise UsageError(
            f"{raw!r}: label {label!r} is not a valid DNS label",
            "letters, digits and hyphens only, not starting or ending with a hyphen",
        )
    return lowered


def parse_ip(text: str, what: str = "address") -> str:
    """A normalised IPv4 or IPv6 address."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise UsageError(f"{text!r} is not an IP {what}", "write it like 10.0.0.4 or fd00::4") from None


def parse_endpoint(text: str, default_port: int = 53) -> Endpoint:
    """`IP`, `IP:PORT`, `IP#PORT` or `[IPv6]:PORT` as an Endpoint. Names are refused: we test addresses."""
    raw = text.strip()
    host, port_text = raw, None
    if raw.startswith("["):
        close = raw.find("]")
        if close < 0:
            raise UsageError(f"{raw!r}: missing ']' after the IPv6 address")
        host, rest = raw[1:close], raw[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"{raw!r}: expected ':PORT' after ']'")
            port_text = rest[1:]
    elif "#" in raw:
        host, port_text = raw.split("#", 1)
    elif raw.count(":") == 1:
        host, port_text = raw.split(":", 1)
    if not is_ip(host):
        raise UsageError(
            f"{raw!r} is not a DNS server address",
            "give an IP address, optionally with a port: 10.1.0.4, 10.1.0.4:53, [fd00::4]:53",
        )
    port = default_port
    if port_text is not None:
        if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
            raise UsageError(f"{raw!r}: port {port_text!r} is not a number from 1 to 65535")
        port = int(port_text)
    return Endpoint(str(ipaddress.ip_address(host)), port)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
