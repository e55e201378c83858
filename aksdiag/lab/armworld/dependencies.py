"""The outboundNetworkDependenciesEndpoints document of a cluster (`az aks egress-endpoints list`), for the fake ARM.

The list starts from `arm_seeds/egress_dependencies.json`: the shape and values of the REST API specification's
example (OutboundNetworkDependenciesEndpointsList.json: categories, each with endpoints {domainName,
endpointDetails[{port, protocol, description}]}), the categories a Linux cluster without GPU or Windows pools lists.
A world adds its own endpoints (`extra`) or drops categories; `pages` splits the list over nextLink pages, as ARM
does for a long list.
"""

from __future__ import annotations

import copy
from typing import Any

from aksdiag.lab.armworld.names import CLUSTER, CLUSTER_RG, rg_id, seed

Body = dict[str, Any]

API_VERSION = "2026-08-01"
"""The api-version the installed azure-mgmt-containerservice sends for this list (and the egress probe asks with)."""
CLUSTER_ID = f"{rg_id(CLUSTER_RG)}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}"
LEAF = "outboundNetworkDependenciesEndpoints"


def categories() -> list[Body]:
    """The seed's categories: [{category, endpoints: [{domainName, endpointDetails}]}]."""
    return copy.deepcopy(seed("egress_dependencies")["value"])


def endpoint(domain: str, port: int = 443, protocol: str = "Https", description: str = "") -> Body:
    """One endpoint item as the list carries it."""
    detail: Body = {"port": port, "protocol": protocol}
    if description:
        detail["description"] = description
    return {"domainName": domain, "endpointDetails": [detail]}


def path_of(cluster_id: str = CLUSTER_ID) -> str:
    return f"{cluster_id}/{LEAF}"


def documents(
    cluster_id: str = CLUSTER_ID,
    extra: dict[str, list[Body]] | None = None,
    drop: tuple[str, ...] = (),
    value: list[Body] | None = None,
    pages: int = 1,
    endpoint_url: str = "",
) -> list[Body]:
    """The fake-ARM documents (`_document` bodies) answering the list at `<cluster_id>/outboundNetworkDependenciesEndpoints`.

    `extra` adds endpoints by category (a new category is appended); `drop` removes categories; `value` replaces
    the whole list. With `pages` > 1 the categories are split over that many pages, each but the last with a
    `nextLink` (ARM gives an absolute URL; `endpoint_url` "" keeps it relative, which the client resolves against
    the fake's endpoint, unknown when a world is built). The fake ARM keys
    documents by path, not query, so page N lives at `…/outboundNetworkDependenciesEndpoints/page-N`.
    """
    items = copy.deepcopy(value) if value is not None else categories()
    items = [c for c in items if c.get("category") not in drop]
    for category, eps in (extra or {}).items():
        found = next((c for c in items if c.get("category") == category), None)
        if found is None:
            items.append({"category": category, "endpoints": copy.deepcopy(eps)})
        else:
            found["endpoints"].extend(copy.deepcopy(eps))
    path = path_of(cluster_id)
    pages = max(1, min(pages, len(items) or 1))
    size = -(-len(items) // pages) if items else 0
    out: list[Body] = []
    for n in range(pages):
        body: Body = {"_document": True, "_path": _page_path(path, n + 1)}
        body["value"] = items[n * size : (n + 1) * size] if items else []
        if n + 1 < pages:
            body["nextLink"] = f"{endpoint_url.rstrip('/')}{_page_path(path, n + 2)}?api-version={API_VERSION}"
        out.append(body)
    return out


def _page_path(path: str, n: int) -> str:
    return path if n == 1 else f"{path}/page-{n}"


def document(cluster_id: str = CLUSTER_ID, **kwargs: Any) -> Body:
    """The one-page document (see `documents`)."""
    return documents(cluster_id, pages=1, **kwargs)[0]
