"""Cluster DNS codes (the cluster_dns probe): the relays inside the cluster — CoreDNS behind the kube-dns Service and
AKS LocalDNS on each node — and why one answers what the servers behind it do not.

A relay is judged as a relay (it caches and forwards), never as a custom DNS server: its fixes are a coredns-custom
key, a CoreDNS restart, a LocalDNS setting of the agent pool, or the upstream it cannot reach.
"""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

_LEARN_TROUBLESHOOT = "https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/connectivity/dns/"
COREDNS_CUSTOM_DOCS = "https://learn.microsoft.com/azure/aks/coredns-custom"
POD_NOT_NODE_DOCS = _LEARN_TROUBLESHOOT + "troubleshoot-dns-failure-from-pod-but-not-from-worker-node"
BASIC_DOCS = _LEARN_TROUBLESHOOT + "basic-troubleshooting-dns-resolution-problems"
LOCALDNS_TROUBLESHOOT_DOCS = _LEARN_TROUBLESHOOT + "troubleshoot-localdns"
LOCALDNS_CONFIGURE_DOCS = "https://learn.microsoft.com/azure/aks/localdns-custom"

RESTART_COREDNS = "kubectl -n kube-system rollout restart deployment coredns"
"""Restarting the CoreDNS pods empties their caches and loads coredns-custom at once (Learn: Customize CoreDNS)."""

DNS029 = Code(
    id="DNS029",
    severity=Severity.ERROR,
    title="CoreDNS is not serving: kube-dns has too few ready endpoints",
    summary=(
        "The kube-dns Service sends each query to a ready CoreDNS pod. Pods that are not ready (a failing "
        "readiness probe), crash-looping (restarts, the last exit) or absent leave kube-dns without a ready "
        "endpoint, and every ClusterFirst pod then fails to resolve anything. An error when no endpoint is ready; a "
        "warning when some still serve (less capacity, and one more failure from an outage)."
    ),
    fix=(
        "Read the failing pods' events and logs (`kubectl -n kube-system describe pod`, `logs --previous`): a "
        "coredns-custom key CoreDNS cannot parse is the usual cause of a crash loop; fix or remove it and restart "
        "CoreDNS."
    ),
    detail="kube-dns ({service}) has {ready} of {total} endpoints ready; {problems}.",
    remediation=(
        "Find why {pods} do not serve: `kubectl -n kube-system describe pod {first_pod}` and its previous logs; a "
        "coredns-custom key CoreDNS cannot parse makes it crash: fix or remove the key, then restart CoreDNS "
        "(" + RESTART_COREDNS + ")."
    ),
    command="kubectl -n kube-system logs {first_pod} --previous",
    docs=BASIC_DOCS,
)

DNS030 = Code(
    id="DNS030",
    severity=Severity.ERROR,
    title="One CoreDNS pod or one path to CoreDNS fails while the others answer",
    summary=(
        "Asked directly, the kube-dns Service IP and each CoreDNS pod IP should answer alike over UDP and TCP. "
        "When one pod, one transport (UDP/53 or TCP/53) or the Service IP alone fails while the rest answer, "
        "something between the client and CoreDNS drops it: a network policy selecting the CoreDNS pods, an NSG "
        "on the system pool's subnet, or kube-proxy on one node. An error when the path the pods use (the Service "
        "IP over UDP) fails; a warning when only a pod or TCP does (queries sent there fail or are slow)."
    ),
    fix=(
        "Allow UDP and TCP 53 from every pod and node to the CoreDNS pods: check the network policies that apply "
        "to kube-system's k8s-app=kube-dns pods and the NSG of the system pool's subnet."
    ),
    detail="{failing}: no reply ({how}), while {answering}.",
    remediation=(
        "Allow UDP and TCP 53 from the pods and nodes to {target}: look for a network policy that selects "
        "k8s-app=kube-dns in kube-system (or denies egress from the pods' namespace), and for an NSG rule on "
        "the subnet of {nodes} that drops {transports}/53."
    ),
    command="kubectl get networkpolicy --all-namespaces",
    docs=POD_NOT_NODE_DOCS,
)

DNS031 = Code(
    id="DNS031",
    severity=Severity.ERROR,
    title="A coredns-custom override takes the name and gives a wrong answer",
    summary=(
        "AKS's CoreDNS imports the coredns-custom ConfigMap: a `<name>.server` key adds a server block (its "
        "`forward` sends a zone to other servers), a `<name>.override` key adds plugins to the default block "
        "(`rewrite`, `hosts`). When one of them covers the name, CoreDNS answers from there instead of the VNet's "
        "DNS servers. No alarm when the override answers right; an error when the pod's answer is then wrong."
    ),
    fix=(
        "Fix or remove the coredns-custom key (point its forward at servers that hold the zone, drop the rewrite or "
        "the hosts entry), then restart CoreDNS so every pod loads it: " + RESTART_COREDNS + "."
    ),
    detail="coredns-custom's {key} (line {line}) {action}: {where}; CoreDNS then answers {relay_answer}, {truth}.",
    remediation=(
        "In coredns-custom, {change} (key {key}, line {line}), then restart CoreDNS to load it at once: "
        + RESTART_COREDNS
        + "."
    ),
    command="kubectl -n kube-system edit configmap coredns-custom",
    docs=COREDNS_CUSTOM_DOCS,
)

DNS032 = Code(
    id="DNS032",
    severity=Severity.ERROR,
    title="A DNS relay serves a cached answer the servers behind it no longer give",
    summary=(
        "CoreDNS (cache 30 on AKS) and LocalDNS (cacheDurationInSeconds, an hour by default, with serve-stale) keep "
        "answers and denials for their TTL, capped by their cache setting. After a fix (the conditional forwarder "
        "added, the record corrected) the servers behind the relay give the new answer while the relay still "
        "serves the old one, an NXDOMAIN or an old address, until its TTL runs out. Not a stale zone copy: the "
        "relay's TTL counts down, and it heals itself when it reaches 0, or at once when the cache is flushed."
    ),
    fix=(
        "Wait for the TTL, or flush the relay's cache: CoreDNS by restarting its pods (" + RESTART_COREDNS + "); "
        "LocalDNS by restarting the localdns service on the node (Learn: Troubleshoot LocalDNS), or by reimaging "
        "the pool."
    ),
    detail=(
        "{relay} answers {cached} for {name} from its cache; the servers behind it ({upstreams}) now answer {fresh}; "
        "its TTL says it expires in {ttl} s{at}{cap}."
    ),
    remediation="Wait {ttl} s for it to expire, or flush the cache of {relay} now: {flush}.",
    command="{command}",
    docs=LOCALDNS_TROUBLESHOOT_DOCS,
)

DNS033 = Code(
    id="DNS033",
    severity=Severity.ERROR,
    title="A DNS relay cannot reach the servers it forwards to",
    summary=(
        "The relay answers SERVFAIL or nothing for the name, and the servers it forwards to are silent or refuse "
        "when asked from here too: the relay is fine, its upstream is not (a stopped VM, an NSG or firewall on the "
        "path, a server that refuses the cluster's addresses). With serve-stale (LocalDNS's default) the relay "
        "still answers the expired entry with TTL 0 for a while, which masks the outage: a warning then, an error "
        "once nothing answers."
    ),
    fix=(
        "Make the upstream answer (start it, allow UDP and TCP 53 from the nodes to it), or point the relay at "
        "servers that answer (the VNet's DNS servers, then restart the nodes or CoreDNS)."
    ),
    detail="{relay} answers {relay_answer} for {name}: its upstream {upstreams} {upstream_answer} from here too{stale}.",
    remediation=(
        "Make {upstreams} answer from the cluster (the server running, UDP and TCP 53 allowed from the nodes' "
        "subnet to it), or point {source} at DNS servers that answer."
    ),
    docs=BASIC_DOCS,
)

DNS034 = Code(
    id="DNS034",
    severity=Severity.ERROR,
    title="LocalDNS forwards over TCP only, and its upstream does not answer over TCP/53",
    summary=(
        "A LocalDNS override with protocol ForceTCP sends every query for its domain over TCP. A DNS server that "
        "serves UDP only (or an NSG or NVA that drops TCP/53 on the way) then fails every name of the domain on "
        "that node pool, while the same server answers UDP queries from elsewhere. Learn asks to make sure TCP "
        "between LocalDNS and the VNet's DNS servers is not blocked."
    ),
    fix="Serve and allow TCP/53 on the upstream, or set the override's protocol to PreferUDP.",
    detail=(
        "LocalDNS {where} forwards {domain} with protocol ForceTCP ({config}), and {server} does not answer over "
        "TCP ({tcp}); over UDP it answers {udp}."
    ),
    remediation=(
        "Serve TCP/53 on {server} and allow it from the nodes' subnet (NSG, NVA), or set protocol PreferUDP for "
        "{domain} in {config}."
    ),
    command=(
        "az aks nodepool update --resource-group {resource_group} --cluster-name {cluster} --name {pool} "
        "--localdns-config ./localdnsconfig.json"
    ),
    docs=LOCALDNS_CONFIGURE_DOCS,
)

DNS035 = Code(
    id="DNS035",
    severity=Severity.ERROR,
    title="A DNS relay forwards the name past the DNS servers it needs",
    summary=(
        "In a VNet with custom DNS servers, the private zone's conditional forwarder lives on those servers (or "
        "the zone is linked only where they resolve). A CoreDNS forward that sends the name straight to Azure DNS "
        "or another server, or a LocalDNS override that sends kube-dns traffic to the VNet's servers past the "
        "CoreDNS override the name needs, skips that step: the name does not resolve through the relay, while the "
        "servers it skipped answer it."
    ),
    fix=(
        "Forward the zone to the servers that answer it (the VNet's DNS servers), or remove the forward (CoreDNS's "
        "default is the node's resolver, which asks them), or set the LocalDNS override's forwardDestination back."
    ),
    detail=("{relay} sends {name} to {targets} by {via}, not to {needed}: it answers {relay_answer}, while {truth}."),
    remediation="{change}.",
    command="{command}",
    docs=COREDNS_CUSTOM_DOCS,
)

DNS037 = Code(
    id="DNS037",
    severity=Severity.INFO,
    title="The cluster's DNS objects could not be read: some relay checks did not run",
    summary=(
        "aksdiag reads the kube-dns Service, its EndpointSlices, the CoreDNS pods and the coredns and "
        "coredns-custom ConfigMaps of kube-system. A refused read (403) leaves out what depends on it (which pod "
        "serves, what an override says); everything else still runs. The ConfigMaps need `get` on those two names "
        "(RBAC resourceNames), which the Role aksdiag-coredns-reader in container/rbac.yaml grants."
    ),
    fix="Grant the reader the rule the API server named (container/rbac.yaml: Role aksdiag-coredns-reader).",
    detail="{what} could not be read ({reason}): {effect}.",
    remediation=(
        "Grant {rule} in kube-system to the identity aksdiag runs as: in container/rbac.yaml the Role "
        "aksdiag-coredns-reader grants get on configmaps coredns and coredns-custom (resourceNames), the "
        "ClusterRole aksdiag-reader list on services, endpointslices and pods."
    ),
    command="kubectl apply -f container/rbac.yaml",
    docs=COREDNS_CUSTOM_DOCS,
)
