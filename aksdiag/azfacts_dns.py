"""Typed facts of the enterprise DNS path: Private Resolvers, forwarding rulesets, firewalls' DNS proxy, the
machines behind custom DNS servers, role definitions and identities. Pure, no I/O.

The landing-zone half of `aksdiag.azfacts` (FIELD.md E1-E5), which builds these in `digest`. Shapes follow the
REST API (2022-07-01 dnsResolver, 2023-x network): a key ARM left out becomes the field's empty value.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aksdiag.armview import once, props, ref_id, same_id
from aksdiag.azfacts_network import Nic

Body = Mapping[str, Any]


# ---------------------------------------------------------------- DNS Private Resolver


@dataclass(frozen=True)
class InboundEndpoint:
    id: str
    name: str
    ips: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()

    @classmethod
    def from_arm(cls, body: Body) -> InboundEndpoint:
        configs = props(body).get("ipConfigurations") or []
        return cls(
            ref_id(body),
            str(body.get("name") or ""),
            tuple(str(c.get("privateIpAddress")) for c in configs if c.get("privateIpAddress")),
            tuple(ref_id(c.get("subnet")) for c in configs if c.get("subnet")),
        )


@dataclass(frozen=True)
class Resolver:
    """A DNS Private Resolver: it answers from its VNet's view (the zones linked to `vnet_id`, the rulesets linked
    to it); `inbound` is None where the inbound endpoints could not be read."""

    id: str
    name: str
    vnet_id: str = ""
    state: str = ""
    inbound: tuple[InboundEndpoint, ...] | None = None
    outbound_ids: tuple[str, ...] | None = None

    @property
    def inbound_ips(self) -> tuple[str, ...]:
        return tuple(ip for e in self.inbound or () for ip in e.ips)

    @classmethod
    @once
    def from_arm(cls, entry: Body) -> Resolver:
        """`entry` is the source's {"resolver": body, "inbound": [bodies] | None, "outbound": [bodies] | None}."""
        body = entry.get("resolver") or {}
        p = props(body)
        inbound, outbound = entry.get("inbound"), entry.get("outbound")
        return cls(
            ref_id(body),
            str(body.get("name") or ""),
            ref_id(p.get("virtualNetwork")),
            str(p.get("dnsResolverState") or ""),
            None if inbound is None else tuple(InboundEndpoint.from_arm(b) for b in inbound),
            None if outbound is None else tuple(ref_id(b) for b in outbound),
        )


# ---------------------------------------------------------------- forwarding rulesets


@dataclass(frozen=True)
class Target:
    ip: str
    port: int = 53

    def __str__(self) -> str:
        return self.ip if self.port == 53 else f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class ForwardingRule:
    id: str
    name: str
    domain: str
    """The rule's domain, lower-cased, without the trailing dot ("" for the catch-all ".")."""
    enabled: bool = True
    targets: tuple[Target, ...] = ()

    def matches(self, fqdn: str) -> bool:
        name = fqdn.lower().rstrip(".")
        return not self.domain or name == self.domain or name.endswith("." + self.domain)

    @property
    def shown_domain(self) -> str:
        """The domain as Azure writes it: with its trailing dot, "." for the catch-all."""
        return self.domain + "." if self.domain else "."

    @classmethod
    @once
    def from_arm(cls, body: Body) -> ForwardingRule:
        p = props(body)
        targets = tuple(
            Target(str(t.get("ipAddress")), int(t.get("port") or 53))
            for t in p.get("targetDnsServers") or []
            if t.get("ipAddress")
        )
        return cls(
            ref_id(body),
            str(body.get("name") or ""),
            str(p.get("domainName") or ".").lower().rstrip("."),
            str(p.get("forwardingRuleState") or "Enabled").lower() == "enabled",
            targets,
        )


@dataclass(frozen=True)
class RulesetLink:
    id: str
    name: str
    vnet_id: str = ""

    @classmethod
    @once
    def from_arm(cls, body: Body) -> RulesetLink:
        return cls(ref_id(body), str(body.get("name") or ""), ref_id(props(body).get("virtualNetwork")))


@dataclass(frozen=True)
class Ruleset:
    """A DNS forwarding ruleset; `rules` or `links` is None where that list could not be read."""

    id: str
    name: str
    resource_group: str = ""
    outbound_ids: tuple[str, ...] = ()
    rules: tuple[ForwardingRule, ...] | None = None
    links: tuple[RulesetLink, ...] | None = None

    def linked_to(self, vnet_id: str) -> RulesetLink | None:
        return next((link for link in self.links or () if same_id(link.vnet_id, vnet_id)), None)

    def rule_for(self, fqdn: str) -> ForwardingRule | None:
        """The rule Azure applies to `fqdn`: the longest matching domain among the enabled rules."""
        enabled = [r for r in self.rules or () if r.enabled and r.matches(fqdn)]
        return max(enabled, key=lambda r: len(r.domain), default=None)

    @classmethod
    @once
    def from_arm(cls, entry: Body) -> Ruleset:
        """`entry` is the source's {"ruleset": body, "rules": [bodies] | None, "links": [bodies] | None}."""
        body = entry.get("ruleset") or {}
        rid = ref_id(body)
        parts = rid.split("/")
        rules, links = entry.get("rules"), entry.get("links")
        return cls(
            rid,
            str(body.get("name") or ""),
            parts[4] if len(parts) > 4 else "",
            tuple(ref_id(o) for o in props(body).get("dnsResolverOutboundEndpoints") or []),
            None if rules is None else tuple(ForwardingRule.from_arm(b) for b in rules),
            None if links is None else tuple(RulesetLink.from_arm(b) for b in links),
        )


# ---------------------------------------------------------------- Azure Firewall


@dataclass(frozen=True)
class Firewall:
    """An Azure Firewall and its DNS proxy: from its policy's dnsSettings, or (classic rules) its
    additionalProperties. `proxy` is None where the policy could not be read."""

    id: str
    name: str
    private_ips: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    policy_id: str = ""
    proxy: bool | None = False
    servers: tuple[str, ...] = ()
    """The proxy's upstream servers; empty means Azure DNS (from the firewall's VNet)."""

    @property
    def vnet_id(self) -> str:
        return next((s.split("/subnets/")[0] for s in self.subnet_ids if "/subnets/" in s), "")

    @classmethod
    def from_arm(cls, entry: Body) -> Firewall:
        """`entry` is the source's {"firewall": body, "policy": body | None}."""
        body = entry.get("firewall") or {}
        p = props(body)
        configs = [props(c) for c in p.get("ipConfigurations") or []]
        ips = tuple(str(c.get("privateIPAddress")) for c in configs if c.get("privateIPAddress"))
        hub = (p.get("hubIPAddresses") or {}).get("privateIPAddress")
        policy_id = ref_id(p.get("firewallPolicy"))
        proxy: bool | None
        if policy_id:
            policy = entry.get("policy")
            settings = props(policy).get("dnsSettings") or {} if policy is not None else None
            proxy = None if settings is None else bool(settings.get("enableProxy"))
            servers = tuple(str(s) for s in (settings or {}).get("servers") or [])
        else:
            extra = p.get("additionalProperties") or {}
            proxy = str(extra.get("Network.DNS.EnableProxy", "")).lower() == "true"
            servers = tuple(s.strip() for s in str(extra.get("Network.DNS.Servers") or "").split(",") if s.strip())
        return cls(
            ref_id(body),
            str(body.get("name") or ""),
            ips + ((str(hub),) if hub and str(hub) not in ips else ()),
            tuple(ref_id(c.get("subnet")) for c in configs if c.get("subnet")),
            policy_id,
            proxy,
            servers,
        )


# ---------------------------------------------------------------- what a custom DNS server is


@dataclass(frozen=True)
class ServerHost:
    """The machine behind a custom DNS server's address: the NIC that holds it, and that NIC's VM."""

    ip: str
    nic: Nic | None = None
    vm_id: str = ""
    os_type: str = ""
    """The VM's storageProfile.osDisk.osType: Windows or Linux ("" where the VM was not read)."""
    image: str = ""
    """publisher:offer:sku of the VM's image, where it names one."""

    @classmethod
    def from_arm(cls, ip: str, entry: Body) -> ServerHost:
        """`entry` is the source's {"nic": body, "vm": body | None}."""
        nic = Nic.from_arm(entry["nic"]) if entry.get("nic") else None
        vm = entry.get("vm") or {}
        storage = props(vm).get("storageProfile") or {}
        image = storage.get("imageReference") or {}
        shown = ":".join(str(image[k]) for k in ("publisher", "offer", "sku") if image.get(k))
        return cls(ip, nic, ref_id(vm) or (nic.vm_id if nic else ""),
                   str((storage.get("osDisk") or {}).get("osType") or ""), shown)  # fmt: skip


# ---------------------------------------------------------------- roles and identities


@dataclass(frozen=True)
class Permission:
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleDefinition:
    id: str
    """The definition's GUID, lower-cased (the last segment of its id)."""
    name: str
    """Its roleName ("Private DNS Zone Contributor", or a custom role's)."""
    custom: bool = False
    permissions: tuple[Permission, ...] = ()

    def allows(self, action: str) -> bool:
        """Whether one of the permissions grants `action`, as Azure evaluates it: an action matches a pattern
        case-insensitively with `*` as a wildcard, and a matching notAction of the same permission takes it away."""
        wanted = action.lower()
        for p in self.permissions:
            if any(_matches(wanted, a) for a in p.actions) and not any(_matches(wanted, n) for n in p.not_actions):
                return True
        return False

    @classmethod
    def from_arm(cls, body: Body) -> RoleDefinition:
        p = props(body)
        perms = tuple(
            Permission(tuple(str(a) for a in q.get("actions") or []), tuple(str(a) for a in q.get("notActions") or []))
            for q in p.get("permissions") or []
        )
        return cls(
            ref_id(body).rsplit("/", 1)[-1].lower() or str(body.get("name") or "").lower(),
            str(p.get("roleName") or body.get("name") or ""),
            str(p.get("type") or "").lower() == "customrole",
            perms,
        )


def _matches(action: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(action, pattern.lower())


@dataclass(frozen=True)
class Identity:
    """A user-assigned managed identity: its principal id is what role assignments name."""

    id: str
    name: str
    principal_id: str = ""
    client_id: str = ""

    @classmethod
    def from_arm(cls, body: Body) -> Identity:
        p = props(body)
        return cls(ref_id(body), str(body.get("name") or ""), str(p.get("principalId") or ""),
                   str(p.get("clientId") or ""))  # fmt: skip


def subscription_of(resource_id: str) -> str:
    """The lower-cased subscription id in a resource id ("" when it names none)."""
    parts = resource_id.split("/")
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""
