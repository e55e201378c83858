"""One redaction for snapshots: every identifier kind the facts carry, replaced consistently and by structure.

What it hides, wherever it appears (a field, an ARM id, a URL, an error message, a JSON key):
- GUIDs — subscription, tenant, principal, client and object ids, the private zone's GUID label, a Service's uid
  (also written without its dashes, as AKS names load-balancer rules) — each one stand-in GUID;
- IPv4 and IPv6 addresses (also followed by a full stop, a port, a prefix length, or inside a URL) by a
  prefix-preserving map keyed per redaction: two addresses share as many leading bits after as before, so every
  subnet still contains its addresses, overlaps stay overlaps, private stays private and public stays public
  (the bits that decide it are kept); loopback and Azure's platform addresses (168.63.129.16) identify nobody
  and are kept;
- names: resource groups, clusters, VNets, subnets, zone links, NICs, load balancers… (every name an ARM id
  carries), the nodes and pods of Kubernetes lists, and the host labels of FQDNs (the cluster's public and private
  names), each a stand-in of its kind (`rg-1`, `cluster-1`); DNS's and Azure's public vocabulary (`privatelink`,
  regions, `azmk8s.io`) is kept, so a private name is still a privatelink name.

Because every occurrence of one identifier becomes the same stand-in, and structure is kept, the probes judge the
redacted snapshot as they judged the original. The key is random per redaction: stand-ins cannot be reversed by
trying the 2^32 IPv4 addresses, and two redactions of the same snapshot differ.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import re
import secrets
from typing import Any

from aksdiag import facts as _vocabulary
from aksdiag.inputs import is_ip

_FIELDS = frozenset(
    f
    for kind in vars(_vocabulary).values()
    if isinstance(kind, type) and hasattr(kind, "__dataclass_fields__")
    for f in kind.__dataclass_fields__
)
"""The field names of the snapshot's needs and facts: keys of the codec, never redacted (a learned name such as
`api` must not turn `api_version` into `name-3_version`)."""

_NAMED_BY_AZURE = {"providers", "detectors"}
"""Id segments whose names are Azure's, not the customer's (an AKS detector is `private-cluster-dns` everywhere)."""

GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TOKEN = re.compile(
    rf"(?P<guid>(?<![0-9A-Za-z]){GUID}(?![0-9A-Za-z]))"
    r"|(?P<hex>(?<![0-9A-Za-z])a?[0-9a-fA-F]{32}(?![0-9A-Za-z]))"  # a uid without dashes (`a` + it: an LB rule)
    r"|(?P<v6>(?<![0-9A-Za-z:.])(?=[0-9A-Fa-f:.]*::|(?:[0-9A-Fa-f]{1,4}:){7})(?:[0-9A-Fa-f]{1,4}|:)"
    r"(?:[0-9A-Fa-f]{0,4}:){1,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?:/\d{1,3}(?!\d))?)"
    r"|(?P<v4>(?<![0-9.])\d{1,3}(?:\.\d{1,3}){3}(?![0-9]|\.\d)(?:/\d{1,2}(?!\d))?)"
    r"|(?P<word>[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|[A-Za-z0-9_])"
)
"""One pass over a string: each match is one identifier candidate (a stand-in is never rewritten again)."""
_ARM_ID = re.compile(r"(?i)/subscriptions/[^/\s\"']+((?:/[^/\s\"'?#]+/[^/\s\"'?#]+)*)")

KEPT_GUIDS = frozenset({
    "00000000-0000-0000-0000-000000000000",  # the nil GUID
    "acdd72a7-3385-48ef-bd42-f606fba81ae7",  # built-in roles (the same in every tenant): Reader
    "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",  # User Access Administrator
    "4d97b98b-1d4f-4787-a291-c67834d212e7",  # Network Contributor
    "b12aa53e-6015-4669-85d0-8515ebb3ae7f",  # Private DNS Zone Contributor
})  # fmt: skip
KEPT_ADDRESSES = frozenset({"168.63.129.16", "169.254.169.254", "127.0.0.53"})
"""Azure's platform addresses (Azure DNS, IMDS) and systemd-resolved's stub: the verdicts depend on them."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


REGIONS = _words(
    "eastus eastus2 westus westus2 westus3 centralus northcentralus southcentralus westcentralus canadacentral "
    "canadaeast brazilsouth brazilsoutheast northeurope westeurope uksouth ukwest francecentral francesouth "
    "germanywestcentral germanynorth switzerlandnorth switzerlandwest norwayeast norwaywest swedencentral "
    "polandcentral italynorth spaincentral israelcentral qatarcentral uaenorth uaecentral southafricanorth "
    "southafricawest centralindia southindia westindia jioindiawest eastasia southeastasia japaneast japanwest "
    "koreacentral koreasouth australiaeast australiasoutheast australiacentral australiacentral2 chinaeast "
    "chinaeast2 chinanorth chinanorth2 usgovvirginia usgovtexas usgovarizona mexicocentral newzealandnorth"
)
VOCABULARY = REGIONS | _words(
    "privatelink hcp azmk8s io com net org cn us windows core azure microsoft microsoftonline cloudapp internal "
    "local svc cluster default kubernetes kubernetes-internal kube-system kube-public kube-dns coredns blob queue "
    "table file vault database management login portal www azurecr mcr docker in-addr arpa ip6 dns resolv "
    "aksoutboundrule aksoutboundbackendpool kubernetes-outbound agentpool nodepool1 system aks mc kube-apiserver"
)
"""Words of DNS's and Azure's public vocabulary: they identify nobody, and the verdicts depend on some."""
TLDS = _words("io com net org cn us gov de uk fr jp kr in au internal local corp lan intra test example")
KEPT_DOMAINS = ("kubernetes.io", "k8s.io", "azure.com", "microsoft.com", "microsoftonline.com", "windows.net")
"""Domains of annotation and label keys and of Azure's own endpoints: kept whole, with their subdomains."""
KINDS = {
    "resourcegroups": "rg", "managedclusters": "cluster", "virtualnetworks": "vnet", "subnets": "subnet",
    "virtualnetworklinks": "link", "privatednszones": "zone", "networkinterfaces": "nic", "loadbalancers": "lb",
    "publicipaddresses": "pip", "networksecuritygroups": "nsg", "privateendpoints": "pe", "routetables": "rt",
    "virtualmachinescalesets": "vmss", "virtualnetworkpeerings": "peering", "dnsresolvers": "resolver",
}  # fmt: skip

_IPV4_SPECIAL = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4")]  # fmt: skip
_IPV6_SPECIAL = [ipaddress.ip_network(n) for n in (
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
    "fc00::/7", "fe80::/10", "ff00::/8")]  # fmt: skip


class Redactor:
    """Learns the names a document carries (`learn`), then rewrites any value (`value`) with stand-ins."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(32)
        self.names: dict[str, str] = {}
        """Lower-cased name → its stand-in (`rg-1`); names are matched whole, case-insensitively."""
        self.hosts: dict[str, str] = {}
        """Lower-cased host label of an FQDN → its stand-in (`host-1`): only ever applied to FQDN labels."""
        self.guids: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._bits: dict[tuple[int, int, int], int] = {}

    # ------------------------------------------------------------ learning

    def learn(self, value: Any, key: str = "") -> None:
        """Walk a JSON value for names: every ARM id's names, and Kubernetes objects' names and node names."""
        if isinstance(value, dict):
            meta = value.get("metadata")
            if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                self._name(meta["name"], _kube_kind(value))
            for k, v in value.items():
                self.learn(v, str(k))
            if isinstance(value.get("nodeName"), str):
                self._name(value["nodeName"], "node")
        elif isinstance(value, list):
            for v in value:
                self.learn(v, key)
        elif isinstance(value, str):
            for m in _ARM_ID.finditer(value):
                parts = m.group(1).strip("/").split("/")
                for kind, name in zip(parts[0::2], parts[1::2], strict=False):
                    if kind.lower() not in _NAMED_BY_AZURE and "." not in name:
                        self._name(name, KINDS.get(kind.lower(), "name"))

    def _name(self, name: str, kind: str) -> None:
        low = name.lower()
        if not low or low in VOCABULARY or low in self.names or re.fullmatch(GUID, name) or is_ip(name):
            return
        if "_" in low:  # MC_<group>_<cluster>_<region>: its parts, so each reads the same everywhere
            for part in low.split("_"):
                self._name(part, kind)
            return
        vmss = re.fullmatch(r"(.+-vmss)([0-9a-z]{6})", low)  # a VMSS node: its scale set, and its instance kept
        if vmss:
            self._name(vmss.group(1), "vmss")
            return
        self._counts[kind] = self._counts.get(kind, 0) + 1
        self.names[low] = f"{kind}-{self._counts[kind]}"

    # ------------------------------------------------------------ rewriting

    def value(self, v: Any) -> Any:
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            out = {k if k in _FIELDS else self.text(k): self.value(x) for k, x in v.items()}
            if v.get("kind") == "HttpNeed" and isinstance(v.get("path"), str):
                out["path"] = self.api_path(v["path"])
            return out
        return v

    def api_path(self, path: str) -> str:
        """An API server path (`/api`, `/readyz?verbose`, `/api/v1/namespaces/NS/pods?limit=1`): the protocol's
        words are not names (a Service called `api` must not turn `/api` into `/svc-1`); a namespace is."""
        route, sep, query = path.partition("?")
        parts = route.split("/")
        kept = [self.text(p) if i and parts[i - 1] == "namespaces" else p for i, p in enumerate(parts)]
        return "/".join(kept) + sep + query

    def text(self, s: str) -> str:
        return _TOKEN.sub(self._token, s)

    def _token(self, m: re.Match[str]) -> str:
        text = m.group(0)
        if m.group("guid"):
            return self.guid(text)
        if m.group("hex"):
            lead, h = text[:-32], text[-32:]
            return lead + self.guid(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}").replace("-", "")
        if m.group("v6") or m.group("v4"):
            return self.address(text)
        return self.word(text)

    def word(self, word: str) -> str:
        low = word.lower()
        if low in self.names:
            return self.names[low]
        vmss = re.fullmatch(r"(.+-vmss)([0-9a-z]{6})", low)
        if vmss and vmss.group(1) in self.names:
            return self.names[vmss.group(1)] + vmss.group(2)
        if "_" in word:
            return "_".join(self.word(part) if part else part for part in word.split("_"))
        labels = word.split(".")
        if len(labels) >= 2 and labels[-1].lower() in TLDS and all(labels):
            if low in KEPT_DOMAINS or low.endswith(tuple("." + d for d in KEPT_DOMAINS)):
                return word  # service.beta.kubernetes.io/…, kubernetes.azure.com/agentpool: vocabulary
            return ".".join(self._label(label) for label in labels)
        if len(labels) >= 2:  # kube-apiserver.nic.<guid>, Microsoft.Network: each part as a word of its own
            return ".".join(self.word(label) if label else label for label in labels)
        if re.fullmatch(GUID, word):
            return self.guid(word)
        return word

    def _label(self, label: str) -> str:
        low = label.lower()
        if low in VOCABULARY or low in TLDS:
            return label
        if re.fullmatch(GUID, label):
            return self.guid(label)
        if low in self.names:  # the cluster's name as a label of its FQDN reads as the cluster
            return self.names[low]
        if low not in self.hosts:
            self.hosts[low] = f"host-{len(self.hosts) + 1}"
        return self.hosts[low]

    def guid(self, guid: str) -> str:
        key = guid.lower()
        if key in KEPT_GUIDS:
            return guid
        if key not in self.guids:
            h = hmac.new(self.key, b"guid:" + key.encode(), hashlib.sha256).hexdigest()
            self.guids[key] = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
        return self.guids[key]

    def address(self, text: str) -> str:
        """An address or a network (with /prefix): its prefix-preserving stand-in, host bits of a network zeroed."""
        addr, _, prefix = text.partition("/")
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return text
        if addr in KEPT_ADDRESSES or ip.is_loopback or ip.is_unspecified:
            return text
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return f"::ffff:{self.address(str(ip.ipv4_mapped))}" + (f"/{prefix}" if prefix else "")
        if addr not in self.addresses:
            self.addresses[addr] = str(self._mapped(ip))
        out = self.addresses[addr]
        if prefix:
            with contextlib.suppress(ValueError):
                out = str(ipaddress.ip_network(f"{out}/{prefix}", strict=False).network_address)
            return f"{out}/{prefix}"
        return out

    def _mapped(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Any:
        width = ip.max_prefixlen
        keep = _kept_bits(ip)
        bits, out = int(ip), (int(ip) >> (width - keep)) << (width - keep)
        for i in range(keep, width):
            prefix = bits >> (width - i)
            flip = self._bits.get((width, i, prefix))
            if flip is None:
                digest = hmac.new(self.key, f"{width}:{i}:{prefix}".encode(), hashlib.sha256).digest()
                flip = self._bits[(width, i, prefix)] = digest[0] & 1
            out |= (((bits >> (width - 1 - i)) & 1) ^ flip) << (width - 1 - i)
        return ipaddress.ip_address(out) if width == 32 else ipaddress.IPv6Address(out)


def _kept_bits(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    """How many leading bits to keep so the stand-in is the same kind of address (private, public, link-local…):
    the prefix of the special range it is in, or the shortest block around it that overlaps none (at least /8 of
    IPv4, /16 of IPv6: the first octet stays what it was)."""
    special = _IPV4_SPECIAL if ip.version == 4 else _IPV6_SPECIAL
    least = 8 if ip.version == 4 else 16
    inside = [n.prefixlen for n in special if ip in n]
    if inside:
        return max(least, max(inside))
    for k in range(least, ip.max_prefixlen + 1):
        block = ipaddress.ip_network(f"{ip}/{k}", strict=False)
        if not any(block.overlaps(n) for n in special):
            return k
    return ip.max_prefixlen


def _kube_kind(obj: dict[str, Any]) -> str:
    spec: dict[str, Any] = obj["spec"] if isinstance(obj.get("spec"), dict) else {}
    if "providerID" in spec or "podCIDR" in spec or "nodeInfo" in (obj.get("status") or {}):
        return "node"
    if "containers" in spec:
        return "pod"
    if "ports" in spec or "clusterIP" in spec:
        return "svc"
    return "obj"


def redact(doc: dict[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """The document with every identifier replaced (see the module's docstring); `key` only for tests."""
    redactor = Redactor(key)
    redactor.learn(doc)
    out: dict[str, Any] = redactor.value(doc)
    return out
