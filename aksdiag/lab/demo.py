"""The demo's lab: one DNS scenario and one cluster world (aksdiag.lab.lbworld) — the fake Azure Resource Manager
and the fake Kubernetes API server, which is the cluster's API server too — all on loopback, told in the world's
own addresses.

aksdiag sees what a jump box in the cluster's VNet sees: Azure DNS at 168.63.129.16, the hub's custom DNS server
at the address the ARM world's VNet names (10.1.0.4), the API server's private endpoint at the address of its NIC
(10.224.0.4:443), and a host resolv.conf naming those. Settings.address_map sends each of them to the lab server
that plays it and Settings.loopback_only refuses anything else, so facts and findings name the world's addresses
while no packet leaves loopback. Everything travels in the settings: the process environment is not touched.
The temporary directory the lab makes (certificates, kubeconfig, resolv.conf) is removed when it closes — on
success, on error and on Ctrl-C (the face holds the lab in a `with`).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aksdiag.facts import Endpoint
from aksdiag.lab import world as lab_world
from aksdiag.lab.scenarios import Scenario
from aksdiag.settings import AZURE_DNS, Settings

if TYPE_CHECKING:
    from aksdiag.lab.arm import FakeArm
    from aksdiag.lab.kube import FakeKubeApi

DEFAULT_WORLD = "lb-pending"
CUSTOM_DNS = "10.1.0.4"
"""The hub's custom DNS server when no ARM world names one (`--world none`)."""
ARM_TOKEN = "aksdiag-demo"
"""The fake ARM takes any bearer token: this one keeps DefaultAzureCredential from looking for a real one."""


@dataclass
class DemoLab:
    dns: lab_world.World
    world: str | None
    arm: FakeArm | None = None
    kube: FakeKubeApi | None = None
    kubeconfig: Path | None = None
    resolv_conf: Path | None = None
    """The host's resolv.conf as the jump box has it: the world's addresses, not the lab's loopback ports."""
    shown: dict[str, str] = field(default_factory=dict)
    """Lab DNS role → the address the world knows that server by (azure → 168.63.129.16, custom → 10.1.0.4)."""
    address_map: tuple[tuple[str, str], ...] = ()
    skip: dict[str, str] = field(default_factory=dict)
    """Probes reported as skipped before they start (probe id → reason): none, the lab serves every one."""
    owned: Path | None = None
    """The temporary directory start() made (not a caller's workdir): removed by close()."""

    @property
    def target(self) -> str:
        """What to trace: the cluster's own name, read from the fake ARM, or the DNS scenario's name alone."""
        return "" if self.world else self.dns.scenario.fqdn

    def settings(self) -> Settings:
        """The settings check's probes (and the whois box) run with: complete, nothing read from the environment."""
        base: dict[str, Any] = {
            "timeout": 2.0,
            "azure_dns": AZURE_DNS,
            "resolv_conf": str(self.resolv_conf or self.dns.resolv_conf),
            "address_map": self.address_map,
            "loopback_only": True,
        }
        if not self.world or self.arm is None or self.kube is None or self.kubeconfig is None:
            servers = tuple(Endpoint(self.shown[role]) for role in self.dns.scenario.custom)
            return self.dns.settings(**base, servers=servers)
        from aksdiag.facts import AzureContextNeed, KubeContextNeed
        from aksdiag.lab import armworld
        from aksdiag.sources import kubeconfig

        azure = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, self.arm.endpoint,
                                 load_balancers=True)  # fmt: skip
        # the VNet's DNS servers and the real endpoint address come from Azure, as on a jump box
        return self.dns.settings(
            **base,
            servers=(),
            expect=(),
            azure=azure,
            kube=KubeContextNeed(str(self.kubeconfig), None),
            apiserver=kubeconfig.load(str(self.kubeconfig), None),
            ca_bundle=self.arm.ca_path,
            arm_token=ARM_TOKEN,
        )

    def close(self) -> None:
        try:
            for server in (self.kube, self.arm):
                if server is not None:
                    server.close()
            self.dns.close()
        finally:
            if self.owned is not None:
                shutil.rmtree(self.owned, ignore_errors=True)
                self.owned = None

    def __enter__(self) -> DemoLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(scenario: Scenario, world: str | None = DEFAULT_WORLD, workdir: Path | None = None) -> DemoLab:
    """Start the scenario's DNS servers and, with `world`, that world's fake ARM and Kubernetes API server."""
    import signal

    owned: Path | None = None
    # Ctrl-C, SIGTERM and SIGHUP wait while the directory is made, until its name is kept: one in between would
    # leave it behind with nothing knowing to remove it.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    try:
        directory = workdir or Path(tempfile.mkdtemp(prefix="aksdiag-demo-"))
        owned = None if workdir else directory
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        lab = DemoLab(lab_world.start(scenario, "python", directory / "dns"), world, owned=owned)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)
        raise
    try:
        bodies: list[dict[str, Any]] = []
        if world:
            from aksdiag.lab import armworld

            bodies = armworld.build(world)
        lab.shown = _shown_addresses(lab.dns, _vnet_dns_servers(bodies) or (CUSTOM_DNS,))
        lab.address_map = tuple((address, str(lab.dns.endpoints[role])) for role, address in lab.shown.items())
        lab.resolv_conf = _resolv_conf(lab.dns, lab.shown, directory / "resolv.conf")
        if world:
            _start_cluster(lab, world, bodies, directory)
    except BaseException:
        lab.close()
        raise
    return lab


def _start_cluster(lab: DemoLab, world: str, bodies: list[dict[str, Any]], directory: Path) -> None:
    """The fake ARM, and the fake Kubernetes API server at the API server's private endpoint."""
    from aksdiag.lab import arm, lbworld
    from aksdiag.lab.kube import FakeKubeApi, KubeWorld

    resources = arm.ArmWorld()
    for body in bodies:
        resources.add(body)
    lab.arm = arm.FakeArm(resources, directory / "arm")
    objects = KubeWorld()
    objects.add_all(lbworld.kube(world))
    fqdn, address = _private_endpoint(bodies)
    lab.kube = FakeKubeApi(objects, directory / "pki", dns_names=(fqdn,) if fqdn else (), ips=(address,))
    lab.address_map += ((f"{address}:443", f"127.0.0.1:{lab.kube.port}"),)
    # The kubeconfig names the endpoint's address: the private name is what the broken DNS cannot resolve.
    lab.kubeconfig = lab.kube.kubeconfig(directory / "kubeconfig", server=f"https://{address}:443")


def _shown_addresses(dns: lab_world.World, custom: tuple[str, ...]) -> dict[str, str]:
    """Role → the address the world knows it by: Azure DNS, the VNet's custom servers, other hub servers after."""
    roles = [*dict.fromkeys(["custom", *dns.scenario.custom, *dns.scenario.resolver])]
    roles = [r for r in roles if r in dns.endpoints and r != "azure"]
    spare = (a for a in (f"10.1.0.{n}" for n in range(5, 250)) if a not in custom)
    shown = {"azure": AZURE_DNS.host} if "azure" in dns.endpoints else {}
    for i, role in enumerate(roles):
        shown[role] = custom[i] if i < len(custom) else next(spare)
    return shown


def _resolv_conf(dns: lab_world.World, shown: dict[str, str], path: Path) -> Path:
    lines = [f"# aksdiag demo, scenario {dns.scenario.name}: the jump box's resolver, in the world's addresses"]
    lines += [f"nameserver {shown.get(role, str(dns.endpoints[role]))}" for role in dns.scenario.resolver]
    lines.append("options ndots:1")
    path.write_text("\n".join(lines) + "\n")
    return path


def _vnet_dns_servers(bodies: list[dict[str, Any]]) -> tuple[str, ...]:
    """The custom DNS servers the cluster's VNet names (its dhcpOptions), as ARM says."""
    for body in bodies:
        if body.get("type", "").lower() == "microsoft.network/virtualnetworks":
            servers = ((body.get("properties") or {}).get("dhcpOptions") or {}).get("dnsServers") or []
            if servers:
                return tuple(servers)
    return ()


def _private_endpoint(bodies: list[dict[str, Any]]) -> tuple[str, str]:
    """The cluster's private FQDN and the address of its API server's private endpoint, as ARM says."""
    from aksdiag.lab.scenarios import ENDPOINT_IP

    fqdn, address = "", ENDPOINT_IP
    for body in bodies:
        kind, props = body.get("type", "").lower(), body.get("properties") or {}
        if kind == "microsoft.containerservice/managedclusters":
            fqdn = str(props.get("privateFQDN") or props.get("fqdn") or "")
        elif kind == "microsoft.network/networkinterfaces" and body.get("name", "").startswith("kube-apiserver"):
            for config in props.get("ipConfigurations") or []:
                address = (config.get("properties") or {}).get("privateIPAddress") or address
    return fqdn, address
