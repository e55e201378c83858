"""What holds a custom DNS server's address: an Azure Firewall (with its policy's DNS proxy), or a NIC and its VM.

Which subscription to look in comes from the VNets already read: the VNet whose address space holds the address,
or, before a peered VNet is read, the peering's `remoteAddressSpace` (so the lookup starts a round earlier). In
that subscription the firewalls and the NICs are listed once each, whichever address asked first; the VM is a GET
through the compute REST path (the compute SDK is not a dependency).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aksdiag.armview import firewall_ips as _firewall_ips
from aksdiag.armview import nic_ips as _nic_ips
from aksdiag.armview import parse_id, subscription_holding  # noqa: F401  (subscription_holding: moved to the pure layer)
from aksdiag.sources.azure.subscriptions import rest_get, subscription_of

if TYPE_CHECKING:
    from aksdiag.sources.azure.reads import Reads
    from aksdiag.sources.azure.subscriptions import Clients

COMPUTE_API = "2024-07-01"
_NS = "Microsoft.Network"


class Servers:
    """The firewalls and NIC hosts behind DNS server addresses; each subscription's lists are read once."""

    def __init__(self, reads: Reads, clients: Clients, spawn: Callable[[Any], asyncio.Task[Any]]) -> None:
        """`spawn` makes a task the caller cancels and awaits if the command stops."""
        self.reads, self.clients, self.spawn = reads, clients, spawn
        self._lists: dict[tuple[str, str], asyncio.Task[list[dict[str, Any]] | None]] = {}
        self.firewalls: dict[str, dict[str, Any]] = {}
        self.hosts: dict[str, dict[str, Any]] = {}

    def _listed(self, kind: str, sub: str) -> asyncio.Task[list[dict[str, Any]] | None]:
        key = (kind, sub.lower())
        if key not in self._lists:
            net = self.clients.get("net", sub)
            scope = f"/subscriptions/{sub}/providers/{_NS}/{kind}"
            pager = net.azure_firewalls.list_all() if kind == "azureFirewalls" else net.network_interfaces.list_all()
            self._lists[key] = self.spawn(self.reads.list_all(scope, pager, f"{_NS}/{kind}/read"))
        return self._lists[key]

    async def look_up(self, ips: Iterable[str], sub_of: Callable[[str], Awaitable[str | None]]) -> None:
        """For each address (in the subscription `sub_of` says): the firewall that holds it, with its policy;
        else the NIC that holds it, with its VM. The proxy's own servers are looked up the same way."""
        await asyncio.gather(*(self._one(ip, sub_of, behind_firewall=False) for ip in dict.fromkeys(ips)))

    async def _one(self, ip: str, sub_of: Callable[[str], Awaitable[str | None]], behind_firewall: bool) -> None:
        sub = await sub_of(ip)
        if not sub:
            return  # off Azure (on premises) or in a VNet aksdiag did not read: its kind stays unknown
        firewalls, nics = await asyncio.gather(
            self._listed("azureFirewalls", sub) if not behind_firewall else _none(),
            self._listed("networkInterfaces", sub),
        )
        firewall = next((f for f in firewalls or [] if ip in _firewall_ips(f)), None)
        if firewall is not None:
            await self._firewall(firewall, sub_of)
            return
        nic = next((n for n in nics or [] if ip in _nic_ips(n)), None)
        if nic is not None and ip not in self.hosts:
            self.hosts[ip] = {"nic": nic, "vm": None}
            self.hosts[ip]["vm"] = await self._vm(nic)

    async def _firewall(self, firewall: dict[str, Any], sub_of: Callable[[str], Awaitable[str | None]]) -> None:
        fid = str(firewall.get("id") or "").lower()
        if fid in self.firewalls:
            return
        entry: dict[str, Any] = {"firewall": firewall, "policy": None}
        self.firewalls[fid] = entry
        policy_id = str(((firewall.get("properties") or {}).get("firewallPolicy") or {}).get("id") or "")
        if not policy_id:
            return  # classic rules: the DNS proxy is in the firewall's additionalProperties
        p = parse_id(policy_id)
        net = self.clients.get("net", subscription_of(policy_id, subscription_of(fid, "")))
        entry["policy"] = await self.reads.get(
            policy_id, net.firewall_policies.get(p.get("resourcegroups", ""), p.get("firewallpolicies", "")),
            f"{_NS}/firewallPolicies/read",
        )  # fmt: skip
        servers = ((entry["policy"] or {}).get("properties") or {}).get("dnsSettings", {}).get("servers") or []
        await asyncio.gather(*(self._one(str(s), sub_of, behind_firewall=True) for s in servers))

    async def _vm(self, nic: dict[str, Any]) -> dict[str, Any] | None:
        vm_id = str(((nic.get("properties") or {}).get("virtualMachine") or {}).get("id") or "")
        if not vm_id:
            return None
        net = self.clients.get("net", subscription_of(vm_id, subscription_of(str(nic.get("id") or ""), "")))
        url = f"{vm_id}?api-version={COMPUTE_API}"
        return await self.reads.get(vm_id, rest_get(net, url), "Microsoft.Compute/virtualMachines/read")


async def _none() -> None:
    return None
