"""Forwarding codes (the private_dns probe): DNS Private Resolver forwarding rulesets and Azure Firewall DNS proxies
on the cluster's name path, and the subscriptions aksdiag could not search (AZ003)."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_RULESET_DOCS = "https://learn.microsoft.com/azure/dns/private-resolver-endpoints-rulesets"
_PROXY_DOCS = "https://learn.microsoft.com/azure/firewall/dns-settings"
_TARGET = '"[{{ip-address:{target_ip},port:53}}]"'
"""The az CLI's shorthand for --target-dns-servers (the dns-resolver extension)."""

DNS023 = Code(
    id="DNS023",
    severity=Severity.ERROR,
    title="A catch-all or parent forwarding rule sends the private zone's name away from Azure DNS",
    summary=(
        "Where a query reaches Azure DNS from a VNet with no linked private zone holding the name, the forwarding "
        "rulesets linked to that VNet apply, and the longest matching rule wins. A rule for a parent domain "
        "(azmk8s.io., koreacentral.azmk8s.io.) sends the cluster's name to servers (on-premises) that cannot answer "
        "Azure's private zone, because no rule for the zone itself exists. (A wildcard rule '.' leaves azmk8s.io "
        "to Azure DNS.)"
    ),
    fix=(
        "Add a rule for the private zone that targets a DNS Private Resolver inbound endpoint whose VNet is linked "
        "to the zone, or link the zone to the asking VNet (a linked zone answers before any rule)."
    ),
    detail="{detail}",
    remediation=(
        "In ruleset {ruleset} (resource group {ruleset_rg}) add a rule for {zone_domain} that targets {target_ip} "
        "({target_why}); or link {zone} to {vnet_name}."
    ),
    command=(
        "az dns-resolver forwarding-rule create --resource-group {ruleset_rg} --ruleset-name {ruleset} "
        "--name {rule_name} --domain-name {zone_domain} --forwarding-rule-state Enabled "
        "--target-dns-servers " + _TARGET + "{subscription}"
    ),
    docs=_RULESET_DOCS,
)

DNS024 = Code(
    id="DNS024",
    severity=Severity.ERROR,
    title="The private zone's forwarding rule targets servers that cannot answer it",
    summary=(
        "A forwarding rule for the cluster's private zone takes the name, and its targets are no path to Azure DNS "
        "in a VNet linked to the zone: an address off Azure (on-premises), or an inbound endpoint whose VNet is "
        "linked to the same ruleset, so the query comes back to the rule (Learn: do not link the ruleset to the "
        "inbound endpoint's VNet, it can cause a DNS resolution loop)."
    ),
    fix="Point the rule at a DNS Private Resolver inbound endpoint whose VNet is linked to the zone (and not to the ruleset).",
    detail="{detail}",
    remediation="Update rule {rule} of ruleset {ruleset} (resource group {ruleset_rg}) to target {target_ip} ({target_why}){also}.",
    command=(
        "az dns-resolver forwarding-rule update --resource-group {ruleset_rg} --ruleset-name {ruleset} "
        "--name {rule} --target-dns-servers " + _TARGET + "{subscription}"
    ),
    docs=_RULESET_DOCS,
)

DNS025 = Code(
    id="DNS025",
    severity=Severity.ERROR,
    title="The private zone's forwarding rule is disabled",
    summary=(
        "A ruleset linked to a VNet on the path has a rule for the cluster's private zone, but it is Disabled, "
        "and Azure ignores disabled rules: the name falls to a wider rule or to Azure DNS. An error when that "
        "breaks the name; a warning when something else still answers it (the rule is then dead weight, or a "
        "trap for the day the link that answers now goes)."
    ),
    fix="Enable the rule (or delete it, if the path that answers now is the intended one).",
    detail="{detail}",
    remediation="Enable rule {rule} of ruleset {ruleset} (resource group {ruleset_rg}), or delete it if {instead} is intended.",
    command=(
        "az dns-resolver forwarding-rule update --resource-group {ruleset_rg} --ruleset-name {ruleset} "
        "--name {rule} --forwarding-rule-state Enabled{subscription}"
    ),
    docs=_RULESET_DOCS,
)

DNS026 = Code(
    id="DNS026",
    severity=Severity.WARNING,
    title="A VNet uses an inbound endpoint as DNS server while its linked ruleset sends the zone elsewhere",
    summary=(
        "The VNet's DNS servers are a DNS Private Resolver inbound endpoint, so its clients resolve through the "
        "resolver's VNet; but a forwarding ruleset linked to the VNet itself sends the cluster's zone to servers "
        "that cannot answer it. Whatever asks Azure DNS 168.63.129.16 from that VNet directly gets the ruleset's "
        "answer instead: two configurations that disagree, one of them broken, waiting for the day the VNet's DNS "
        "servers are set back to Azure DNS."
    ),
    fix="Make the ruleset agree: point its rule at the inbound endpoint, delete the rule, or unlink the ruleset.",
    detail="{detail}",
    remediation=(
        "Update rule {rule} of ruleset {ruleset} (resource group {ruleset_rg}) to target {target_ip}, or delete "
        "it, or unlink {ruleset} from {vnet_name}."
    ),
    command=(
        "az dns-resolver forwarding-rule update --resource-group {ruleset_rg} --ruleset-name {ruleset} "
        "--name {rule} --target-dns-servers " + _TARGET + "{subscription}"
    ),
    docs=_RULESET_DOCS,
)

DNS027 = Code(
    id="DNS027",
    severity=Severity.ERROR,
    title="The VNet's DNS server is an Azure Firewall whose DNS proxy is off",
    summary=(
        "The VNet names an Azure Firewall's private address as its DNS server, but the firewall's DNS proxy is "
        "disabled: the firewall does not listen on port 53, and every query from the VNet times out."
    ),
    fix="Enable the DNS proxy on the firewall's policy (or on the firewall, with classic rules).",
    detail="{vnet_name} uses {ip} as DNS server: Azure Firewall {firewall}; its DNS proxy is off ({where}).",
    remediation="Enable the DNS proxy of {where} (resource group {rg}), or point {vnet_name}'s DNS servers elsewhere.",
    command="az network firewall {what} --name {name} --resource-group {rg} --enable-dns-proxy true{subscription}",
    docs=_PROXY_DOCS,
)

DNS028 = Code(
    id="DNS028",
    severity=Severity.WARNING,
    title="The firewall's DNS proxy has several DNS servers: each query goes to one chosen at random",
    summary=(
        "With several DNS servers in its DNS settings, Azure Firewall's DNS proxy sends each query to one of them "
        "chosen at random. Unless every one answers the cluster's private zone alike (a forwarder to Azure DNS or "
        "to an inbound endpoint whose VNet is linked to the zone), the name resolves on some queries and not on "
        "others."
    ),
    fix="Keep only servers that answer the private zone, or make every server forward it alike.",
    detail="Azure Firewall {firewall} ({where}) forwards to {servers}: one chosen at random per query.",
    remediation=(
        "Make sure each of {servers} answers {zone} as Azure DNS does, or set {where}'s DNS servers to {keep}."
    ),
    command="az network firewall {what} --name {name} --resource-group {rg} --dns-servers {keep}{subscription}",
    docs=_PROXY_DOCS,
)

AZ003 = Code(
    id="AZ003",
    severity=Severity.INFO,
    title="Some subscriptions could not be listed or searched",
    summary=(
        "aksdiag searches every subscription the identity can list for private zones, resolvers, rulesets and "
        "firewalls that could take the cluster's name. The ones it could not list or search are not judged: a "
        "zone or rule there is invisible to it."
    ),
    fix="Grant the identity Reader on those subscriptions to have them searched.",
    detail="{detail}",
    remediation="Grant Reader on {subscriptions} to the identity aksdiag runs as, to have them searched too.",
    command="az role assignment create --assignee <identity> --role Reader --scope /subscriptions/{first}",
    docs="https://learn.microsoft.com/azure/role-based-access-control/role-assignments-cli",
)
