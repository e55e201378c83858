"""DNS001's fix, fitted to the server that lacks the forwarder: Windows DNS (PowerShell), BIND and unbound
(configuration lines), a Private Resolver inbound endpoint (its VNet's zone link, or the ruleset rule that sends the
zone elsewhere), an Azure Firewall DNS proxy (its policy's DNS servers). Unknown (no Azure context, or no NIC holds
the address): all three server forms, briefly. Pure."""

from __future__ import annotations

from aksdiag.probes.private_dns.kinds import Kind, ServerKind, server_kind

from aksdiag.armview import name_of, parse_id, same_id
from aksdiag.azfacts import AzureFacts, Zone
from aksdiag.azfacts_dns import Firewall, Resolver, subscription_of
from aksdiag.dnsnames import is_suffix
from aksdiag.facts import Endpoint

_PLACEMENT = (
    " The server must sit in a VNet linked to the private zone, or forward to a DNS Private Resolver inbound "
    "endpoint in one."
)


def windows(zone: str, to: Endpoint, server: str) -> str:
    """PowerShell (DnsServer module) on the server, or against it with -ComputerName. Windows forwards on port 53."""
    return f"Add-DnsServerConditionalForwarderZone -Name {zone} -MasterServers {to.host} -ComputerName {server}"


def bind(zone: str, to: Endpoint) -> str:
    """A named.conf statement (checked by named-checkconf in the tests)."""
    at = to.host if to.port == 53 else f"{to.host} port {to.port}"
    return f'zone "{zone}" {{ type forward; forward only; forwarders {{ {at}; }}; }};'


def unbound(zone: str, to: Endpoint) -> str:
    """An unbound.conf clause, on one line (unbound's lexer takes a newline as any other space)."""
    at = to.host if to.port == 53 else f"{to.host}@{to.port}"
    return f'forward-zone: name: "{zone}" forward-addr: {at}'


def dns001_fix(arm: AzureFacts | None, server: Endpoint, zone: str, to: Endpoint, fqdn: str) -> dict[str, str]:
    """The `remediation` and `command` of DNS001 for `server`, which lacks the forwarder for `zone` to `to`."""
    ip = server.host
    kind = server_kind(arm, ip)
    shown = to.short
    if kind.kind is Kind.WINDOWS:
        return {
            "remediation": (
                f"Add a conditional forwarder for {zone} → {shown} on the Windows DNS server {kind.name} ({ip}): "
                f"Add-DnsServerConditionalForwarderZone in PowerShell on the server (or DNS Manager → Conditional "
                f"Forwarders).{_PLACEMENT}"
            ),
            "command": windows(zone, to, ip),
        }
    if kind.kind is Kind.LINUX:
        return {
            "remediation": (
                f"Add a forward zone for {zone} → {shown} on the Linux DNS server {kind.name} ({ip}"
                f"{', ' + kind.detail if kind.detail else ''}): for BIND the zone statement below in named.conf (then "
                f"rndc reconfig); for unbound, in unbound.conf: {unbound(zone, to)} (then unbound-control reload)."
                f"{_PLACEMENT}"
            ),
            "command": bind(zone, to),
        }
    if kind.kind is Kind.RESOLVER and arm is not None:
        resolver = arm.resolver_at(ip)
        assert resolver is not None
        return _resolver_fix(arm, resolver, ip, fqdn)
    if kind.kind is Kind.FIREWALL and arm is not None:
        firewall = arm.firewall_at(ip)
        assert firewall is not None
        return _firewall_fix(arm, firewall, ip, zone, to, fqdn)
    return _unknown_fix(kind, server, zone, to)


def _unknown_fix(kind: ServerKind, server: Endpoint, zone: str, to: Endpoint) -> dict[str, str]:
    known = f" ({kind.name})" if kind.name else ""
    ip = server.host
    return {
        "remediation": (
            f"Add a conditional forwarder for {zone} → {to.short} on {server.short}{known}.{_PLACEMENT} On Windows "
            f"DNS: the command below (PowerShell); on BIND, in named.conf: {bind(zone, to)} On unbound, in "
            f"unbound.conf: {unbound(zone, to)}"
        ),
        "command": windows(zone, to, ip),
    }


def _zone_link(zone: Zone, vnet_id: str) -> str:
    return (
        f"az network private-dns link vnet create --resource-group {zone.resource_group} --zone-name {zone.name} "
        f"--name link-{name_of(vnet_id)} --virtual-network {vnet_id} --registration-enabled false "
        f"--subscription {subscription_of(zone.id)}"
    )


def _linked(zone: Zone, vnet_id: str) -> bool:
    return any(same_id(link.vnet_id, vnet_id) for link in zone.links or ())


def _resolver_fix(arm: AzureFacts, resolver: Resolver, ip: str, fqdn: str) -> dict[str, str]:
    """An inbound endpoint answers from its VNet's view: the zones linked to that VNet, the rulesets linked to it."""
    vnet, zone = resolver.vnet_id, arm.zone
    intro = f"{ip} is an inbound endpoint of the DNS Private Resolver {resolver.name}: it answers from {name_of(vnet)}'s view."
    if zone is not None and zone.links is not None and not _linked(zone, vnet):
        return {
            "remediation": f"{intro} Link the private zone {zone.name} (resource group {zone.resource_group}) to {name_of(vnet)}.",
            "command": _zone_link(zone, vnet),
        }
    for ruleset in arm.rulesets_linked_to(vnet):
        rule = ruleset.rule_for(fqdn)
        if rule is None:
            continue
        sub = subscription_of(ruleset.id)
        where = f"--resource-group {ruleset.resource_group} --ruleset-name {ruleset.name}"
        targets = ", ".join(str(t) for t in rule.targets) or "no target"
        if rule.domain and zone is not None and is_suffix(zone.name, rule.domain):
            return {
                "remediation": (
                    f"{intro} The ruleset {ruleset.name}, linked to that VNet, forwards {rule.shown_domain} to "
                    f"{targets} (rule {rule.name}): delete that rule, so the resolver answers the zone from Azure DNS."
                ),
                "command": f"az dns-resolver forwarding-rule delete {where} --name {rule.name} --subscription {sub}",
            }
        link = ruleset.linked_to(vnet)
        assert link is not None
        return {
            "remediation": (
                f"{intro} The ruleset {ruleset.name}, linked to that VNet, sends {fqdn} to {targets} by its wider "
                f"rule {rule.name} ({rule.shown_domain}): unlink the ruleset from {name_of(vnet)} (queries through the "
                "inbound endpoint then resolve with Azure DNS; rules are for the spokes' outbound queries), or "
                "check what else that VNet needs from it first."
            ),
            "command": f"az dns-resolver vnet-link delete {where} --name {link.name} --subscription {sub}",
        }
    shown_zone = zone.name if zone else "the private zone"
    return {
        "remediation": (
            f"{intro} Check that {shown_zone} is linked to {name_of(vnet)} and holds the record (no ruleset linked "
            "there sends the name elsewhere, as far as ARM shows)."
        ),
        "command": (
            f"az network private-dns link vnet list --resource-group {zone.resource_group} --zone-name {zone.name} "
            f"--subscription {subscription_of(zone.id)} -o table"
            if zone
            else f"az network private-dns zone list --query \"[?name=='{fqdn.split('.', 1)[-1]}']\" -o table"
        ),
    }


def _firewall_fix(
    arm: AzureFacts, firewall: Firewall, ip: str, zone_name: str, to: Endpoint, fqdn: str
) -> dict[str, str]:
    """A firewall's DNS proxy forwards to its policy's DNS servers (none: Azure DNS, from the firewall's VNet); a
    custom server behind it that ARM knows as a VM gets that server's own fix."""
    policy = parse_id(firewall.policy_id)
    where = (
        f"--resource-group {policy.get('resourcegroups', '<resource-group>')} --name {name_of(firewall.policy_id)} "
        f"--subscription {subscription_of(firewall.policy_id)}"
    )
    intro = f"{ip} is the Azure Firewall {firewall.name}'s DNS proxy"
    if not firewall.policy_id:
        return {
            "remediation": (
                f"{intro} (classic rules): set its DNS servers to a path to Azure DNS (none: Azure DNS from its VNet, "
                "which must be linked to the private zone), or move it to a firewall policy."
            ),
            "command": f"az network firewall show --ids {firewall.id} --query additionalProperties",
        }
    if firewall.proxy is False:
        return {
            "remediation": f"{intro}, but the proxy is off in {name_of(firewall.policy_id)}: turn it on.",
            "command": f"az network firewall policy update {where} --enable-dns-proxy true",
        }
    inbound = next((i for r in arm.resolvers for i in r.inbound_ips), "")
    if firewall.servers:
        servers = ", ".join(firewall.servers)
        vms = [s for s in firewall.servers if server_kind(arm, s).kind in (Kind.WINDOWS, Kind.LINUX)]
        if vms:
            fix = dns001_fix(arm, Endpoint(vms[0]), zone_name, to, fqdn)
            return {
                "remediation": f"{intro}: its policy forwards to {servers}, and the proxy asks them. {fix['remediation']}",
                "command": fix["command"],
            }
        if inbound:
            return {
                "remediation": (
                    f"{intro}: its policy forwards to {servers}, which do not answer {fqdn}. Point the policy's DNS "
                    f"servers at the Private Resolver inbound endpoint {inbound} (a path to Azure DNS)."
                ),
                "command": f"az network firewall policy update {where} --dns-servers {inbound}",
            }
        return {
            "remediation": (
                f"{intro}: its policy forwards to {servers}, which do not answer {fqdn}. Remove the custom DNS "
                "servers (the proxy then asks Azure DNS from the firewall's VNet, which must be linked to the zone)."
            ),
            "command": f"az network firewall policy update {where} --remove dnsSettings.servers",
        }
    zone = arm.zone
    vnet = firewall.vnet_id
    if zone is not None and vnet and not _linked(zone, vnet):
        return {
            "remediation": (
                f"{intro}: it asks Azure DNS from {name_of(vnet)}, so the private zone {zone.name} must be linked "
                f"to {name_of(vnet)}."
            ),
            "command": _zone_link(zone, vnet),
        }
    if zone is not None and vnet:
        return {
            "remediation": (
                f"{intro}: it asks Azure DNS from {name_of(vnet)}, which is linked to {zone.name}: check the zone's "
                "record, and that no other zone linked there answers the name."
            ),
            "command": (
                f"az network private-dns record-set a list --resource-group {zone.resource_group} --zone-name "
                f"{zone.name} --subscription {subscription_of(zone.id)} -o table"
            ),
        }
    return {
        "remediation": f"{intro}: it asks Azure DNS from its VNet; link the private zone to that VNet.",
        "command": f"az network firewall show --ids {firewall.id} --query ipConfigurations[].subnet.id -o tsv",
    }
