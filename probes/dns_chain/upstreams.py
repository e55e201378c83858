"""The host's upstreams against the VNet's DNS servers: DNS013 (a host that may sit elsewhere: a jump box with
--cluster) and DNS036 (a host known to be in the cluster's VNet: a node, or a pod with dnsPolicy Default, or a host
given --vnet-dns), both F5 of the field notes — the VNet's DNS servers changed, the host never renewed its lease.

Separate from `rules` because both compare lists of servers, not answers: which servers the host's resolver asks
(systemd-resolved's upstreams, else resolv.conf's nameservers; the stub and LocalDNS, which forward to the VNet's
servers, are not servers of their own here) against which servers Azure hands out by DHCP."""

from __future__ import annotations

from aksdiag.probes.dns_chain.chain import Chain
from aksdiag.probes.dns_chain.planning import ID, SYSTEMD_STUB, is_azure, relay_of

from aksdiag import codes
from aksdiag.clusterdns import LOCALDNS_LISTENERS, asks_coredns
from aksdiag.facts import Endpoint
from aksdiag.model import Finding
from aksdiag.settings import AZURE_DNS


def node_vnet_dns(chain: Chain) -> tuple[Endpoint, ...] | None:
    """The VNet DNS servers this host should use, when it is known to be in the cluster's VNet: --vnet-dns, or the
    Azure context's in a pod with dnsPolicy Default (the node's resolver). None: not known, or a ClusterFirst pod
    (which asks CoreDNS, not the node's servers)."""
    s, search = chain.settings, chain.config.search if chain.config else ()
    if s.in_cluster and asks_coredns(s.in_cluster, s.dns_policy, search):
        return None
    if s.vnet_dns:
        return s.vnet_dns
    if s.in_cluster and chain.vnet_dns is not None:
        return tuple(Endpoint(h) for h in chain.vnet_dns) or (AZURE_DNS,)  # none set: Azure DNS
    return None


def host_upstreams(chain: Chain) -> list[Endpoint]:
    """The servers the host's resolver really asks: no stub, no LocalDNS listener, no relay of the cluster's."""
    config = chain.config
    if config is None or config.error:
        return []
    pool = config.upstreams or config.nameservers
    return [
        s
        for s in dict.fromkeys(pool)
        if s.host != SYSTEMD_STUB and s.host not in LOCALDNS_LISTENERS and relay_of(s, chain.settings, config) is None
    ]


def _key(server: Endpoint, chain: Chain) -> Endpoint:
    """Azure DNS is one server however it is written (168.63.129.16, or --azure-dns's stand-in)."""
    return AZURE_DNS if is_azure(server, chain.settings) else server


def _shown(servers: list[Endpoint], chain: Chain) -> str:
    return ", ".join(f"{s.short} (Azure DNS)" if is_azure(s, chain.settings) else s.short for s in servers) or "none"


def dns013_vnet_dns_differs(chain: Chain) -> list[Finding]:
    if chain.vnet_dns is None or chain.config is None or chain.config.error or node_vnet_dns(chain) is not None:
        return []  # no Azure context, nothing read, or the node's view, where DNS036 says it
    vnet = set(chain.vnet_dns) or {AZURE_DNS.host}
    host = {s.host for s in host_upstreams(chain) if s.port == 53}
    if not host or host == vnet:
        return []
    caveat = (
        " (this host runs in the cluster: it has not picked up the VNet's DNS servers)"
        if chain.settings.in_cluster
        else " (expected only if this host sits in another VNet with other DNS servers)"
    )
    return [
        codes.DNS013.at(
            ID,
            vnet_servers=", ".join(sorted(vnet)),
            host_servers=", ".join(sorted(host)),
            resolv_conf=chain.config.path,
            caveat=caveat,
            evidence={"vnet_dns_servers": sorted(vnet), "host_nameservers": sorted(host)},
        )
    ]


def dns036_node_not_on_vnet_dns(chain: Chain) -> list[Finding]:
    vnet = node_vnet_dns(chain)
    config = chain.config
    host = host_upstreams(chain)
    if not vnet or config is None or not host:
        return []  # the VNet's servers unknown, or nothing but a stub or LocalDNS to compare (they forward there)
    want = {_key(s, chain): s for s in vnet}
    have = {_key(s, chain): s for s in host}
    if set(want) == set(have):
        return []  # the same servers; the order is the VNet's to set, and the resolver's to try
    missing = [s for k, s in want.items() if k not in have]
    extra = [s for k, s in have.items() if k not in want]
    diff = []
    if missing:
        diff.append(f"it does not ask {_shown(missing, chain)}")
    if extra:
        diff.append(f"it still asks {_shown(extra, chain)}")
    node = chain.settings.in_cluster
    where = config.path
    if config.upstreams:
        where = f"{config.path} → systemd-resolved's upstreams"
    return [
        codes.DNS036.at(
            ID,
            who="the node" if node else "this host",
            vnet_servers=_shown(list(vnet), chain),
            host_servers=_shown(host, chain),
            where=where,
            diff=" and ".join(diff),
            remediation=_fix(chain, node),
            command=_command(chain, node),
            evidence={
                "vnet_dns_servers": [str(s) for s in vnet],
                "host_upstreams": [str(s) for s in host],
                "missing": [str(s) for s in missing],
                "extra": [str(s) for s in extra],
            },
        )
    ]


def _fix(chain: Chain, node: bool) -> str:
    lease = (
        "Azure hands a VNet's DNS servers out by DHCP: a running VM keeps the ones it was given until its network "
        "service renews them or it restarts."
    )
    if node:
        return (
            f"{lease} For the change to reach the pods, the nodes' network service and then CoreDNS must restart: "
            "restart the nodes (az vmss restart on the pool's scale set in the node resource group, a few instances "
            "at a time), or replace them (scale new nodes, or az aks nodepool upgrade --node-image-only), or on each "
            "node run sudo systemctl restart systemd-networkd and check /run/systemd/resolve/resolv.conf; then "
            "restart CoreDNS (kubectl -n kube-system rollout restart deployment coredns)."
        )
    return (
        f"{lease} On this host: sudo systemctl restart systemd-networkd (Windows: ipconfig /renew), then check "
        "/run/systemd/resolve/resolv.conf lists the VNet's servers; or restart the VM."
    )


def _command(chain: Chain, node: bool) -> str:
    if not node:
        return "sudo systemctl restart systemd-networkd"
    cluster = chain.arm.cluster if chain.arm else None
    group = cluster.node_resource_group if cluster and cluster.node_resource_group else "<node-resource-group>"
    return f"az vmss restart --resource-group {group} --name <pool-scale-set> --instance-ids <instance-id>"
