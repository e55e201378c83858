"""The Resource Graph queries aksdiag sends: a few fixed shapes, named, and the user's `--filter` as a checked KQL
`where` clause. Pure: the source (sources.azure.graph) sends them, the lab's fake (lab.armgraph) answers exactly
these shapes and refuses any other with a 400, so a new query shape is noticed by the tests.

Shapes:
- ROWS: `resources | where type in~ (…)[ | where FILTER] | project COLUMNS | order by id asc` — one row per resource,
  its `properties` as ARM's GET body has them.
- LINKS_BY_ZONE: the private zones' virtual network links, one row per zone (`zone`, the lower-cased zone id, and
  `links`, the link bodies): 20,000 links are 2,000 rows, so the tenant's links cost a few pages, not twenty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aksdiag.errors import UsageError

GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources"
"""The one path aksdiag POSTs to (the read-only policy allows it, nothing else)."""
GRAPH_API = "2021-03-01"
PAGE_ROWS = 1000
"""`$top`: the most rows Resource Graph returns per page."""
SUBSCRIPTION_BATCH = 1000
"""Subscriptions per request: Resource Graph takes at most this many in one query's `subscriptions`."""

COLUMNS = "id, name, type, location, resourceGroup, subscriptionId, tags, sku, identity, zones, properties"

CLUSTER_TYPES = ("microsoft.containerservice/managedclusters",)
DNS_TYPES = (
    "microsoft.network/privatednszones",
    "microsoft.network/privateendpoints",
    "microsoft.network/dnsresolvers",
    "microsoft.network/dnsresolvers/inboundendpoints",
    "microsoft.network/dnsresolvers/outboundendpoints",
    "microsoft.network/dnsforwardingrulesets",
    "microsoft.network/dnsforwardingrulesets/virtualnetworklinks",
    "microsoft.network/azurefirewalls",
    "microsoft.network/firewallpolicies",
)
NETWORK_TYPES = (
    "microsoft.network/virtualnetworks",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/routetables",
    "microsoft.network/natgateways",
    "microsoft.network/networkinterfaces",
    "microsoft.network/loadbalancers",
    "microsoft.network/publicipaddresses",
    "microsoft.compute/virtualmachinescalesets",
    "microsoft.compute/virtualmachines",
)
LINK_TYPE = "microsoft.network/privatednszones/virtualnetworklinks"


@dataclass(frozen=True)
class GraphQuery:
    """One named query: `name` keys its rows in the result; `text` is the KQL sent."""

    name: str
    text: str


def rows(types: tuple[str, ...], where: str = "") -> str:
    """The ROWS shape over `types` (lower-case ARM types), with an optional checked `where` clause."""
    listed = ", ".join(f"'{t}'" for t in types)
    extra = f" | where {where}" if where else ""
    return f"resources | where type in~ ({listed}){extra} | project {COLUMNS} | order by id asc"


LINKS_BY_ZONE = (
    f"resources | where type =~ '{LINK_TYPE}'"
    " | extend zone = tolower(tostring(split(id, '/virtualNetworkLinks/')[0]))"
    " | summarize links = make_list(pack('id', id, 'name', name, 'type', type, 'location', location,"
    " 'properties', properties)) by zone | order by zone asc"
)


def fleet_queries(filter_clause: str = "") -> list[GraphQuery]:
    """What `aksdiag fleet` asks, in this order: the clusters (the user's filter applies to them only), the DNS
    path's resources, the network's, the zones' links."""
    return [
        GraphQuery("clusters", rows(CLUSTER_TYPES, filter_clause)),
        GraphQuery("dns", rows(DNS_TYPES)),
        GraphQuery("network", rows(NETWORK_TYPES)),
        GraphQuery("links", LINKS_BY_ZONE),
    ]


# ---------------------------------------------------------------- --filter: a small, checked subset of KQL

FILTER_FIELDS = ("name", "resourceGroup", "location", "subscriptionId")
FILTER_OPERATORS = ("==", "=~", "!=", "!~", "startswith", "endswith", "contains", "!contains", "has")
_TERM = re.compile(
    r"""\s*(?P<field>name|resourceGroup|location|subscriptionId|tags\[(?P<q>['"])(?P<tag>[A-Za-z0-9_.:/ -]{1,128})(?P=q)\]|tags\.(?P<dotted>[A-Za-z_][A-Za-z0-9_]{0,127}))"""
    r"""\s*(?P<op>==|=~|!=|!~|!contains|startswith|endswith|contains|has)\s*"""
    r"""(?P<vq>['"])(?P<value>[^'"\\]{0,256})(?P=vq)\s*""",
    re.IGNORECASE,
)


def parse_filter(text: str) -> str:
    """The user's `--filter` as the KQL `where` clause sent (normalised: fields as Resource Graph spells them,
    values in single quotes); terms joined by `and`. Anything else is a UsageError naming what is wrong.

    `name startswith 'aks-prod'`, `resourceGroup =~ 'rg-weu'`, `tags['env'] == 'prod' and location == 'westeurope'`."""
    text = (text or "").strip()
    if not text:
        return ""
    terms = re.split(r"\s+and\s+", text, flags=re.IGNORECASE)
    out = []
    for term in terms:
        m = _TERM.fullmatch(term)
        if m is None:
            raise UsageError(
                f"--filter {term.strip()!r} is not a filter aksdiag understands",
                "use FIELD OP 'VALUE' joined by `and`; FIELD is name, resourceGroup, location, subscriptionId, "
                "tags['KEY'] or tags.KEY; OP is ==, =~, !=, !~, startswith, endswith, contains, !contains, has",
            )
        tag = m.group("tag") or m.group("dotted")
        field = f"tags['{tag}']" if tag else next(f for f in FILTER_FIELDS if f.lower() == m.group("field").lower())
        out.append(f"{field} {m.group('op').lower()} '{m.group('value')}'")
    return " and ".join(out)
