"""A certificate's names against the host a client connected as, matched as TLS clients do (RFC 6125 §6.4).

The rules are OpenSSL's as Python's ssl applies them (partial wildcards refused), which Go's crypto/x509 (kubectl)
shares: a DNS name is compared without case (a final dot counts, as in OpenSSL; aksdiag's names have none, its
parser drops it); a wildcard counts only as the whole left-most
label (`*.example.com`), matches exactly one label of letters, digits and hyphens, and needs two labels after it
(`*.com` covers nothing); a name with a `*` anywhere else, or with `?` or `[…]`, is a plain string (no shell
patterns). An IP address is matched only against the IP address SANs, compared as addresses; the subject's
common name is never used (Go ignores it, and so does aksdiag's own authenticated request).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\Z")
_WILDCARD_MATCH = re.compile(r"[a-z0-9-]+\Z")


def covers(dns_names: Iterable[str], ip_addresses: Iterable[str], host: str) -> bool:
    """The certificate with these SANs is valid for `host` (a name, or an IPv4/IPv6 address)."""
    address = _address(host)
    if address is not None:
        return any(_address(ip) == address for ip in ip_addresses)
    reference = _normalise(_a_labels(host))
    if reference is None:
        return False
    return any(name_matches(pattern, reference) for pattern in dns_names)


def _a_labels(host: str) -> str:
    """An internationalised name as it goes on the wire (and in a certificate): its IDNA A-labels, as Python's
    ssl sends and checks it; a name that cannot be encoded is left as it is (and matches nothing)."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def name_matches(pattern: str, host: str) -> bool:
    """One DNS SAN against one host name (compared lower-cased)."""
    presented, reference = _normalise(pattern), _normalise(host)
    if presented is None or reference is None:
        return False
    if not _valid_wildcard(presented):
        return presented == reference  # no wildcard, or one no client honours: the literal string
    first, _, rest = reference.partition(".")
    return rest == presented[2:] and bool(_WILDCARD_MATCH.match(first))


def _valid_wildcard(pattern: str) -> bool:
    """`*.` then at least two labels, with no other `*`: the only wildcard OpenSSL and Go accept."""
    if not pattern.startswith("*."):
        return False
    labels = pattern[2:].split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def _normalise(name: str) -> str | None:
    """Lower-case ASCII; None for what no DNS name can be (empty, not ASCII, an empty label)."""
    if not name.rstrip(".") or not name.isascii() or ".." in name or name.startswith("."):
        return None
    return name.lower()


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
