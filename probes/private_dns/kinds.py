"""What a custom DNS server is, from ARM: a Private Resolver's inbound endpoint, an Azure Firewall's DNS proxy, or
a VM running Windows DNS or a Linux DNS server (BIND, unbound); unknown off Azure or where ARM holds no NIC for
the address. Pure: the fix for a server fits its kind (DNS001's command)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aksdiag.armview import name_of
from aksdiag.azfacts import AzureFacts


class Kind(str, Enum):
    WINDOWS = "windows-dns"
    LINUX = "linux-dns"
    RESOLVER = "resolver-inbound"
    FIREWALL = "firewall"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ServerKind:
    """A DNS server's kind and what ARM names it by (the VM, resolver or firewall; "" when unknown)."""

    kind: Kind
    name: str = ""
    resource_id: str = ""
    detail: str = ""
    """The VM's image or OS, the resolver's VNet, the firewall's policy: what the kind was told from."""


def server_kind(arm: AzureFacts | None, ip: str) -> ServerKind:
    """The kind of the DNS server at `ip` (no Azure context: unknown)."""
    if arm is None:
        return ServerKind(Kind.UNKNOWN)
    resolver = arm.resolver_at(ip)
    if resolver is not None:
        return ServerKind(Kind.RESOLVER, resolver.name, resolver.id, name_of(resolver.vnet_id))
    firewall = arm.firewall_at(ip)
    if firewall is not None:
        return ServerKind(Kind.FIREWALL, firewall.name, firewall.id, name_of(firewall.policy_id))
    host = arm.server_hosts.get(ip)
    if host is None:
        return ServerKind(Kind.UNKNOWN)
    os_type = host.os_type.lower() or ("windows" if "windows" in host.image.lower() else "")
    name = name_of(host.vm_id) if host.vm_id else host.nic.name if host.nic else ""
    detail = host.image or host.os_type
    if os_type == "windows":
        return ServerKind(Kind.WINDOWS, name, host.vm_id, detail)
    if os_type == "linux":
        return ServerKind(Kind.LINUX, name, host.vm_id, detail)
    return ServerKind(Kind.UNKNOWN, name, host.vm_id, detail)
