"""The demo's lab: one DNS scenario, and the fake Azure Resource Manager and fake Kubernetes API server of one
load balancer world (aksdiag.lab.lbworld), all on loopback, with the environment that points aksdiag at them.

The hub's custom DNS server (10.1.0.4 in the ARM world) is mapped to the scenario's custom server, so the DNS
chain the cluster's VNet names is the one the scenario breaks; AKSDIAG_LOOPBACK_ONLY makes every source refuse
any other destination (the API server's private address included). The environment is restored on close.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aksdiag.lab import world as lab_world
from aksdiag.lab.scenarios import Scenario
from aksdiag.settings import Settings

DEFAULT_WORLD = "lb-pending"
PROBES = ("dns_chain", "private_dns", "apiserver", "ipplan", "lb")
SKIP = {"apiserver": "the lab has no API server to connect to: `aksdiag apiserver` tests a real one"}


@dataclass
class DemoLab:
    dns: lab_world.World
    world: str | None
    arm: Any = None
    kube: Any = None
    kubeconfig: Path | None = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """What to trace: the cluster's own name, read from the fake ARM, or the DNS scenario's name alone."""
        return "" if self.world else self.dns.scenario.fqdn

    def settings(self) -> Settings:
        if not self.world:
            return self.dns.settings(timeout=2.0)
        from aksdiag.facts import AzureContextNeed, KubeContextNeed
        from aksdiag.lab import armworld

        azure = AzureContextNeed(armworld.SUBSCRIPTION, armworld.CLUSTER_RG, armworld.CLUSTER, self.arm.endpoint,
                                 load_balancers=True)  # fmt: skip
        # the VNet's DNS servers and the real endpoint address come from Azure, as on a jump box
        return self.dns.settings(
            timeout=2.0, servers=(), expect=(), azure=azure, kube=KubeContextNeed(str(self.kubeconfig), None)
        )

    def probes(self) -> list[str]:
        return list(PROBES) if self.world else ["dns_chain"]

    def close(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for server in (self.kube, self.arm):
            if server is not None:
                server.close()
        self.dns.close()

    def __enter__(self) -> DemoLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(scenario: Scenario, world: str | None = DEFAULT_WORLD, workdir: Path | None = None) -> DemoLab:
    """Start the scenario's DNS servers and, with `world`, that world's fake ARM and Kubernetes API."""
    directory = workdir or Path(tempfile.mkdtemp(prefix="aksdiag-demo-"))
    lab = DemoLab(lab_world.start(scenario, "python", directory / "dns"), world)
    if not world:
        return lab
    try:
        from aksdiag.lab import arm, armworld, lbworld
        from aksdiag.lab.kube import FakeKubeApi, KubeWorld

        resources = arm.ArmWorld()
        for body in armworld.build(world):
            resources.add(body)
        lab.arm = arm.FakeArm(resources, directory / "arm")
        objects = KubeWorld()
        objects.add_all(lbworld.kube(world))
        lab.kube = FakeKubeApi(objects, directory / "pki")
        lab.kubeconfig = lab.kube.kubeconfig(directory / "kubeconfig")
        env = {
            "AKSDIAG_ARM_ENDPOINT": lab.arm.endpoint,
            "AKSDIAG_ARM_TOKEN": "aksdiag-demo",
            "REQUESTS_CA_BUNDLE": lab.arm.ca_path,
            "AKSDIAG_LOOPBACK_ONLY": "1",
        }
        custom = lab.dns.endpoints.get("custom")
        if custom is not None:
            env["AKSDIAG_ADDRESS_MAP"] = f"{armworld.DNS_SERVER_IP}={custom}"
        lab._saved_env = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
    except BaseException:
        lab.close()
        raise
    return lab
