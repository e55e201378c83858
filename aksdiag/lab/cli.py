"""`aksdiag lab`: the lab's own command line — list the worlds, serve a DNS scenario, a fake ARM or a fake
Kubernetes API server on loopback for experiments. Product code reaches the lab only through here and the demo.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aksdiag.errors import AksdiagError, UsageError
from aksdiag.exitcodes import ExitCode

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """Add `lab` and its actions to the CLI's subcommands."""
    lab = sub.add_parser("lab", help="run lab scenarios on loopback for experiments")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION", parser_class=parser_class)
    lab_sub.add_parser("list", help="list the scenarios")
    up = lab_sub.add_parser("up", help="start a scenario and wait (Ctrl-C stops it)")
    up.add_argument("--scenario", required=True, help="a name from `aksdiag lab list`")
    up.add_argument(
        "--backend",
        choices=("python", "bind"),
        default="python",
        help="serve with the pure-Python servers or real BIND 9 (named must be installed)",
    )
    arm = lab_sub.add_parser(
        "arm",
        help="serve a fake Azure Resource Manager (HTTPS on loopback) for a lab world",
        description="Serve an ARM world on https://127.0.0.1: a world name (see `aksdiag lab list`) or a directory "
        "of resource JSON files (one GET body per file, with its id; `_faults.json` injects 403/404/429).",
    )
    arm.add_argument("--world", required=True, help="a world name (healthy, hub-not-linked, …) or a directory")
    arm.add_argument("--port", type=int, default=0, help="the port to listen on (default: any free one)")
    fleet = lab_sub.add_parser(
        "fleet",
        help="serve a fake ARM and Resource Graph with a fleet world (many clusters) for `aksdiag fleet`",
        description="Serve a fleet world (see `aksdiag lab list`: fleet-small, fleet-1000, …) on https://127.0.0.1: "
        "many clusters in many subscriptions sharing landing-zone hubs, faults planted in known clusters, and the "
        "Resource Graph query endpoint `aksdiag fleet` asks.",
    )
    fleet.add_argument("--world", required=True, help="a fleet world name (fleet-small, fleet-1000, …)")
    fleet.add_argument("--port", type=int, default=0, help="the port to listen on (default: any free one)")
    fleet.add_argument("--latency-ms", type=float, default=0.0, help="answer each request after this long (try ARM's)")
    egress = lab_sub.add_parser(
        "egress",
        help="serve the endpoints a cluster needs on loopback, some broken, for `aksdiag egress` (Ctrl-C stops it)",
        description="Serve the AKS essentials (and --endpoint names) as a VNet would see them: a DNS server answering "
        "world addresses, the address map sending them to loopback HTTPS servers with test-CA certificates; "
        "--broken NAME=KIND breaks one (blackholed, hijacked, denied, refused, missing, private).",
    )
    egress.add_argument("--endpoint", action="append", default=[], metavar="NAME", help="another name to serve")
    egress.add_argument("--broken", action="append", default=[], metavar="NAME=KIND",
                        help="break NAME one way: blackholed, hijacked, denied, refused, missing, private")  # fmt: skip
    kube = lab_sub.add_parser(
        "kube",
        help="serve a fake Kubernetes API server (HTTPS on loopback) for a directory of objects",
        description="Serve Kubernetes objects (YAML or JSON files, documents or Lists) like an API server: "
        "discovery, get, list with paging and selectors, NodeNetworkConfig, pod create/delete/log; `_rbac.yaml` "
        "(deny: [list pods]) makes it answer 403. Writes a kubeconfig for kubectl and aksdiag.",
    )
    kube.add_argument(
        "--world",
        required=True,
        metavar="DIR",
        help="a directory of Kubernetes object files, an lb-… world or a coredns-… world",
    )


def run(args: argparse.Namespace) -> ExitCode:
    """`aksdiag lab list|up|arm|fleet|kube`."""
    from aksdiag.lab.scenarios import SCENARIOS

    if args.lab_command == "egress":  # it checks its flags, then stops on signals as the others do
        from aksdiag.lab import egresslab

        return egresslab.serve(args.endpoint, args.broken)
    if args.lab_command in ("up", "arm", "kube", "fleet"):
        stop_on_signals()
    if args.lab_command == "fleet":
        return _lab_fleet(args.world, args.port, args.latency_ms)
    if args.lab_command == "up":
        return _lab_up(args.scenario, args.backend)
    if args.lab_command == "arm":
        if not 0 <= args.port <= 65535:
            raise UsageError(f"--port {args.port} is not a port number from 0 (any free one) to 65535")
        return _lab_arm(args.world, args.port)
    if args.lab_command == "kube":
        return _lab_kube(args.world)
    print("DNS scenarios (aksdiag lab up --scenario NAME; aksdiag demo --scenario NAME):")
    for s in SCENARIOS.values():
        expected = ", ".join(sorted(s.expected)) or "no fault"
        print(f"  {s.name:<18} {expected:<16} {s.summary}")
    from aksdiag.lab.armworld import WORLDS
    from aksdiag.lab.lzscenarios import LZ_SCENARIOS
    from aksdiag.lab.relayscenarios import RELAY_SCENARIOS

    print("\nCluster relay scenarios (aksdiag lab up --scenario NAME; the resolv.conf names CoreDNS or LocalDNS):")
    for r in RELAY_SCENARIOS.values():
        print(f"  {r.name:<22} {r.answer:<10} {r.summary}")
    print("\nLanding-zone DNS scenarios (aksdiag lab up --scenario NAME; the ARM world of the same name plays ARM):")
    for s in LZ_SCENARIOS.values():
        expected = ", ".join(sorted(s.expected)) or "no fault"
        print(f"  {s.name:<20} {expected:<8} {s.summary}")

    print("\nARM worlds (aksdiag lab arm --world NAME):")
    for name, summary in WORLDS.items():
        print(f"  {name:<18} {summary}")
    from aksdiag.lab.armworld.fleetworld import WORLDS as FLEET_WORLDS

    print("\nFleet worlds (aksdiag lab fleet --world NAME; then aksdiag fleet):")
    for name, summary in FLEET_WORLDS.items():
        print(f"  {name:<18} {summary}")
    from aksdiag.lab.corednsworld import WORLDS as COREDNS_WORLDS

    print("\nCluster DNS worlds (aksdiag lab kube --world NAME):")
    for name, (summary, _) in COREDNS_WORLDS.items():
        print(f"  {name:<22} {summary}")
    from aksdiag.lab.clusterdnsworld import WORLDS as CLUSTER_WORLDS

    print("\nLab clusters, CoreDNS and LocalDNS as live relays (aksdiag lab up --scenario NAME; codes in a pod):")
    for c in CLUSTER_WORLDS.values():
        print(f"  {c.name:<27} {', '.join(sorted(c.expected)) or 'no fault':<15} {c.summary}")
    return ExitCode.OK


def stop_on_signals() -> None:
    """From here on SIGTERM and SIGHUP end the command as Ctrl-C does (KeyboardInterrupt), so the servers stop
    (BIND's processes too) and the temporary files go, whoever stops the lab (a terminal, `timeout`, a CI runner)."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for sent in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sent, interrupt)


def wait_for_stop() -> None:
    """Serve until Ctrl-C, SIGTERM or SIGHUP (stop_on_signals)."""
    import threading

    threading.Event().wait()


@contextmanager
def _removed(directory: Path | None) -> Iterator[None]:
    """Removes `directory` (a temporary one the command made; None: nothing) when the block ends, however."""
    try:
        yield
    finally:
        if directory is not None:
            import shutil

            shutil.rmtree(directory, ignore_errors=True)


def _lab_kube(world: str) -> ExitCode:
    import tempfile
    from pathlib import Path

    from aksdiag.lab import corednsworld, lbworld
    from aksdiag.lab.kube import FakeKubeApi, KubeWorld

    if world in lbworld.WORLDS:  # the Kubernetes half of an `aksdiag lab arm --world lb-…` world
        objects = KubeWorld()
        objects.add_all(lbworld.kube(world))
    elif world in corednsworld.WORLDS:  # kube-system's DNS layer: kube-dns, CoreDNS pods, the two ConfigMaps
        objects = KubeWorld()
        objects.add_all(corednsworld.kube(world))
    elif not Path(world).is_dir():
        raise UsageError(
            f"{world!r} is not a directory of Kubernetes object files nor an lb-… or coredns-… lab world",
            "`aksdiag lab list` shows the worlds",
        )
    else:
        try:
            objects = KubeWorld.load(world)
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as e:  # also: an object of the wrong shape
            raise UsageError(f"cannot load {world}: {e}") from None
    home = Path(tempfile.mkdtemp(prefix="aksdiag-kube-"))
    with _removed(home), FakeKubeApi(objects, home / "pki") as api:
        kubeconfig = api.kubeconfig(home / "kubeconfig")
        count = sum(len(v) for v in objects.objects.values())
        print(f"fake Kubernetes API server at {api.url}, serving {count} objects from {world}")
        try:
            print(f"\n  export KUBECONFIG={kubeconfig}\n  kubectl get pods -A -o wide\n\nCtrl-C stops it.", flush=True)
            wait_for_stop()
        except KeyboardInterrupt:
            print("fake Kubernetes API server stopped", file=sys.stderr)
    return ExitCode.OK


def _lab_arm(world: str, port: int) -> ExitCode:
    import tempfile
    from pathlib import Path

    from aksdiag.lab import arm, armworld

    owned = None
    if world in armworld.WORLDS:
        directory = owned = armworld.write(world, tempfile.mkdtemp(prefix=f"aksdiag-arm-{world}-"))
    elif Path(world).is_dir():
        directory = Path(world)
    else:
        raise UsageError(f"{world!r} is neither an ARM world nor a directory", "`aksdiag lab list` shows the worlds")
    with _removed(owned):
        try:
            loaded = arm.ArmWorld.load(directory)
        except (ValueError, KeyError, TypeError, AttributeError) as e:  # not JSON, not UTF-8, a body without id
            raise UsageError(f"cannot load the ARM world {world}: {type(e).__name__}: {e}") from None
        except OSError as e:
            raise UsageError(f"cannot read the ARM world {world}: {e.strerror or e}") from None
        try:
            fake = arm.FakeArm(loaded, directory / ".tls", port=port)
        except OSError as e:
            raise AksdiagError(f"the fake ARM could not start: {e}") from e
        return _serve_arm(fake, directory, world)


def _lab_fleet(world: str, port: int, latency_ms: float) -> ExitCode:
    """Serve a fleet world (aksdiag.lab.armworld.fleetworld) with its hidden subscriptions and lag markers."""
    import tempfile
    from pathlib import Path

    from aksdiag.lab import arm
    from aksdiag.lab.armworld import fleetworld

    if world not in fleetworld.WORLDS:
        raise UsageError(f"{world!r} is not a fleet world", f"one of {', '.join(fleetworld.WORLDS)}")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a port number from 0 (any free one) to 65535")
    if not 0 <= latency_ms <= 10_000:
        raise UsageError(f"--latency-ms {latency_ms:g} is not from 0 to 10000")
    loaded = arm.ArmWorld()
    for body in fleetworld.build(world):
        loaded.add(body)
    loaded.faults = fleetworld.faults(world)
    directory = Path(tempfile.mkdtemp(prefix=f"aksdiag-{world}-"))
    with _removed(directory):
        try:
            fake = arm.FakeArm(loaded, directory / ".tls", port=port, latency_s=latency_ms / 1000)
        except OSError as e:
            raise AksdiagError(f"the fake ARM could not start: {e}") from e
        with fake:
            w = fleetworld.world(world)
            print(f"fake ARM and Resource Graph serving {world} at {fake.endpoint}: {len(w.clusters)} clusters in "
                  f"{len(w.subscriptions)} subscriptions, {len(w.planted)} with planted faults")  # fmt: skip
            _arm_env(fake)
            group = next(iter(g for g in w.management_groups if g.startswith("mg-landingzones-")), "")
            print(f"  aksdiag fleet          (or: --management-group {group}, --tui, -o json)")
            _serve_until_stopped()
    return ExitCode.OK


def _serve_arm(fake: Any, directory: Any, world: str) -> ExitCode:
    from aksdiag.lab import armworld

    with fake:
        print(f"fake ARM serving {directory} at {fake.endpoint}")
        _arm_env(fake)
        if world in armworld.WORLDS:
            print(
                f"  aksdiag dns --subscription {armworld.SUBSCRIPTION} --resource-group {armworld.CLUSTER_RG} "
                f"--cluster {armworld.CLUSTER} --server <a lab DNS server> --azure-dns <the lab's Azure DNS>"
            )
        _serve_until_stopped()
    return ExitCode.OK


def _arm_env(fake: Any) -> None:
    """The environment that points aksdiag at the fake ARM."""
    print(f"\n  export AKSDIAG_ARM_ENDPOINT={fake.endpoint}")
    print(f"  export REQUESTS_CA_BUNDLE={fake.ca_path}")
    print("  export AKSDIAG_ARM_TOKEN=lab")


def _serve_until_stopped() -> None:
    try:
        print("\nCtrl-C stops it.", flush=True)
        wait_for_stop()
    except KeyboardInterrupt:
        print("fake ARM stopped", file=sys.stderr)


def _lab_up(name: str, backend: str) -> ExitCode:
    import shlex

    from aksdiag.lab import world as lab_world
    from aksdiag.lab.clusterdnsworld import WORLDS as CLUSTER_WORLDS
    from aksdiag.lab.lzscenarios import LZ_SCENARIOS
    from aksdiag.lab.relayscenarios import RELAY_SCENARIOS
    from aksdiag.lab.scenarios import SCENARIOS

    if name in CLUSTER_WORLDS:
        return _lab_up_cluster(name)
    if name not in SCENARIOS and name not in LZ_SCENARIOS and name not in RELAY_SCENARIOS:
        raise UsageError(f"unknown scenario {name!r}", "`aksdiag lab list` shows them")
    try:
        world = lab_world.start(lab_world.lookup(name), backend)
    except (OSError, RuntimeError) as e:
        raise AksdiagError(f"the lab could not start: {e}") from e
    with world:
        print(f"scenario {name}: {world.scenario.summary}")
        for role, endpoint in world.endpoints.items():
            print(f"  {role:<10} {endpoint}")
        print(f"  resolv.conf {world.resolv_conf}")
        try:
            print(f"\ntry:\n  aksdiag {shlex.join(world.dns_args())}\n\nCtrl-C stops the lab.", flush=True)
            wait_for_stop()
        except KeyboardInterrupt:
            print("lab stopped", file=sys.stderr)
    return ExitCode.OK


def _lab_up_cluster(name: str) -> ExitCode:
    """A lab cluster: the fake Kubernetes API serving its kube-system, its relays at the addresses that world shows."""
    from aksdiag.lab import clusterdnsworld
    from aksdiag.lab.scenarios import CLUSTER_FQDN

    try:
        cluster = clusterdnsworld.start(name, frozen=False)
    except (OSError, RuntimeError) as e:
        raise AksdiagError(f"the lab could not start: {e}") from e
    with cluster:
        try:
            api = cluster.serve_api()
        except OSError as e:
            raise AksdiagError(f"the fake Kubernetes API server could not start: {e}") from e
        kubeconfig = api.kubeconfig(cluster.workdir / "kubeconfig")
        print(f"cluster {name}: {cluster.world.summary}")
        for role in cluster.shown:  # the address map below says which address each plays
            print(f"  {role:<14} {cluster.endpoints[role]}")
        print(f"  fake Kubernetes API server at {api.url}")
        resolv = cluster.jumpbox_resolv_conf()
        try:
            print(
                f"\nas a pod sees the network:\n  export AKSDIAG_ADDRESS_MAP={cluster.address_map()}"
                f"\nfrom a jump box:\n  export AKSDIAG_ADDRESS_MAP={cluster.address_map(in_cluster=False)}"
                f"\n  aksdiag dns {CLUSTER_FQDN} --kubeconfig {kubeconfig} --resolv-conf {resolv} "
                f"--azure-dns {clusterdnsworld.AZURE_IP}\n\nCtrl-C stops the lab.",
                flush=True,
            )
            wait_for_stop()
        except KeyboardInterrupt:
            print("lab stopped", file=sys.stderr)
    return ExitCode.OK
