"""A simulated kubelet for the fake Kubernetes API server: it runs the pods bound to its nodes for real.

For each pod pinned to one of its nodes (`spec.nodeName`) it does what a kubelet reports through the API server:
Pending (pulling the image, or stuck on an image pull error: ErrImagePull then ImagePullBackOff) → Running →
Succeeded or Failed with the container's exit code, or Failed with DeadlineExceeded past activeDeadlineSeconds.
"Running the container" is running `python -m aksdiag ARGS` (the image's entrypoint) as a process on loopback, with
the pod's environment, `KUBERNETES_SERVICE_HOST` pointing at the fake API server, its service account's token
(unless automountServiceAccountToken is false; AKSDIAG_SERVICE_ACCOUNT names the directory) and the resolv.conf the
pod's dnsPolicy would give it on that node; its stdout and stderr, interleaved, become the pod's log. Deleting the pod
kills the process. Each node can differ, as nodes of real pools do: its VNet DNS (the lab world its resolv.conf
names), its own resolver files (what a hostPath volume mounts), extra environment, an image it cannot pull, or a
container runtime that never starts the container.

A hostPath volume is honoured as a mount would be, without one: the node's path maps to that node's lab file or
directory (NodeBehaviour.host_files), and every argument or environment value of the container that starts with
the volume's mountPath is rewritten to the lab path. A path the node lacks, or of the wrong hostPath type, keeps
the pod in ContainerCreating, as a failed mount does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aksdiag.facts import Endpoint
from aksdiag.lab.kube import BY_KIND, FakeKubeApi

POD = BY_KIND["Pod"]
CLUSTER_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class NodeBehaviour:
    """How one node treats the pods bound to it."""

    node_resolv_conf: Path
    """The node's own resolv.conf (its VNet DNS servers): what dnsPolicy Default gives a pod."""
    cluster_dns: Endpoint | None = None
    """The kube-dns Service (CoreDNS) that dnsPolicy ClusterFirst points a pod at; None: the node's first server."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment the node adds to every container (a lab stand-in for what differs between pools)."""
    image_pull_error: str | None = None
    """The registry's answer when this node pulls any image: the pod stays Pending with ErrImagePull."""
    never_starts: bool = False
    """The runtime never starts the container: the pod stays Pending with ContainerCreating."""
    host_files: dict[str, Path] = field(default_factory=dict)
    """The node's files a hostPath volume may mount: the node's path (/run/systemd/resolve) → the lab's file or
    directory. /etc/resolv.conf is node_resolv_conf unless given here."""

    def host_path(self, path: str) -> Path | None:
        path = path.rstrip("/") or "/"
        if path in self.host_files:
            return self.host_files[path]
        return self.node_resolv_conf if path == "/etc/resolv.conf" else None


def _mounted(value: str, mounts: dict[str, Path]) -> str:
    """`value` with a mounted path (`/host/etc/resolv.conf`) read where the node's lab file is."""
    for seen_at, real in mounts.items():
        if value == seen_at or value.startswith(seen_at + "/"):
            return str(real) + value[len(seen_at) :]
    return value


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class SimulatedKubelet:
    """Watches the fake API server's world for pods bound to `nodes` and runs them; close() stops everything."""

    def __init__(
        self,
        api: FakeKubeApi,
        nodes: dict[str, NodeBehaviour],
        workdir: str | Path,
        step: float = 0.02,
        python: str = sys.executable,
    ) -> None:
        self.api, self.nodes, self.step, self.python = api, nodes, step, python
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.started: list[str] = []
        """Names of the pods whose container was started, in order."""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._deleted: set[tuple[str, str]] = set()
        with api.world.lock:
            self._since = api.world.resource_version
        self._thread = threading.Thread(target=self._loop, name="aksdiag-lab-kubelet", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        world = self.api.world
        while not self._stop.is_set():
            with world.changed:
                events = world.events_since(self._since) or []
                if not events:
                    world.changed.wait(0.2)
                    continue
                self._since = events[-1].resource_version
            for event in events:
                if event.resource is not POD:
                    continue
                meta = event.object["metadata"]
                key = (meta.get("namespace", ""), meta["name"])
                if event.type == "DELETED":
                    self._deleted.add(key)
                elif event.type == "ADDED" and (event.object.get("spec") or {}).get("nodeName") in self.nodes:
                    self._deleted.discard(key)
                    thread = threading.Thread(target=self._run, args=(key,), name=f"kubelet-{key[1]}", daemon=True)
                    self._threads.append(thread)
                    thread.start()

    def _gone(self, key: tuple[str, str]) -> bool:
        return self._stop.is_set() or key in self._deleted

    def _set(self, key: tuple[str, str], **status: Any) -> dict[str, Any] | None:
        return self.api.world.update(POD, key, lambda pod: pod.setdefault("status", {}).update(status))

    def _run(self, key: tuple[str, str]) -> None:
        pod = self.api.world.objects[POD].get(key)
        if pod is None:
            return
        spec = pod["spec"]
        container = spec["containers"][0]
        node = self.nodes[spec["nodeName"]]
        accepted = time.monotonic()
        deadline = accepted + float(spec.get("activeDeadlineSeconds") or 3600)
        base = {"name": container["name"], "image": container["image"], "ready": False, "restartCount": 0}
        time.sleep(self.step)
        self._set(key, startTime=_now(), hostIP="127.0.0.1",
                  containerStatuses=[{**base, "state": {"waiting": {"reason": "ContainerCreating"}}}])  # fmt: skip
        time.sleep(self.step)
        if node.image_pull_error or node.never_starts:
            self._stay_pending(key, node, base, deadline)
            return
        if self._gone(key):
            return
        mounts, unmountable = self._mounts(pod, node)
        if unmountable:
            self._set(key, containerStatuses=[{**base, "state": {"waiting": {"reason": "ContainerCreating",
                                                                             "message": unmountable}}}])  # fmt: skip
            self._stay_pending(key, node, base, deadline)
            return
        env = {k: _mounted(v, mounts) for k, v in self._environment(pod, node, key).items()}
        self._set(key, phase="Running", podIP="127.0.0.1", podIPs=[{"ip": "127.0.0.1"}],
                  containerStatuses=[{**base, "ready": True, "started": True,
                                      "state": {"running": {"startedAt": _now()}}}])  # fmt: skip
        self.started.append(key[1])
        command = [self.python, "-m", "aksdiag", *(_mounted(a, mounts) for a in container.get("args") or [])]
        chunks: list[str] = []
        reason = ""
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True) as proc:
            reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else ""))
            reader.start()
            while proc.poll() is None:
                if self._gone(key) or time.monotonic() > deadline:
                    reason = "" if self._gone(key) else "DeadlineExceeded"
                    proc.kill()
                    break
                time.sleep(self.step / 2)
            reader.join(timeout=10)
        log = "".join(chunks)
        self.api.world.logs[key] = log
        if self._gone(key):
            return
        if reason:
            self._set(key, phase="Failed", reason=reason,
                      message="Pod was active on the node longer than the specified deadline")  # fmt: skip
            return
        code = proc.returncode
        terminated = {"exitCode": code, "reason": "Completed" if code == 0 else "Error", "startedAt": _now(),
                      "finishedAt": _now()}  # fmt: skip
        if code != 0 and container.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            terminated["message"] = "\n".join(log.splitlines()[-80:])[-2048:]
        self._set(key, phase="Succeeded" if code == 0 else "Failed",
                  containerStatuses=[{**base, "state": {"terminated": terminated}}])  # fmt: skip

    def _stay_pending(self, key: tuple[str, str], node: NodeBehaviour, base: dict[str, Any], deadline: float) -> None:
        image = base["image"]
        if node.image_pull_error:
            pulled = f'failed to pull and unpack image "{image}": {node.image_pull_error}'
            self._set(key, containerStatuses=[{**base, "state": {"waiting": {"reason": "ErrImagePull",
                                                                             "message": pulled}}}])  # fmt: skip
            time.sleep(self.step)
            self._set(key, containerStatuses=[{**base, "state": {"waiting": {
                "reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}": ErrImagePull: {pulled}'}}}])  # fmt: skip
        while not self._gone(key):
            if time.monotonic() > deadline:
                self._set(key, phase="Failed", reason="DeadlineExceeded",
                          message="Pod was active on the node longer than the specified deadline")  # fmt: skip
                return
            time.sleep(self.step)

    def _environment(self, pod: dict[str, Any], node: NodeBehaviour, key: tuple[str, str]) -> dict[str, str]:
        """The container's environment: the pod's env, the in-cluster variables, the dnsPolicy's resolv.conf."""
        spec, meta = pod["spec"], pod["metadata"]
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        port = self.api.url.rsplit(":", 1)[1]
        env.update(KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=port, HOSTNAME=meta["name"])
        fields = {"spec.nodeName": spec["nodeName"], "metadata.name": meta["name"],
                  "metadata.namespace": meta.get("namespace", ""), "status.podIP": "127.0.0.1",
                  "spec.serviceAccountName": spec.get("serviceAccountName", "default")}  # fmt: skip
        for var in spec["containers"][0].get("env") or []:
            ref = ((var.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            env[var["name"]] = fields.get(ref, "") if ref else str(var.get("value", ""))
        if not any(v["name"] == "AKSDIAG_RESOLV_CONF" for v in spec["containers"][0].get("env") or []):
            env["AKSDIAG_RESOLV_CONF"] = str(self._resolv_conf(pod, node, key))  # else: the pod reads a mounted one
        env.pop("AKSDIAG_SERVICE_ACCOUNT", None)
        if spec.get("automountServiceAccountToken") is not False:
            env["AKSDIAG_SERVICE_ACCOUNT"] = str(self._mount_token(pod, key))
        env.update(node.env)
        return env

    def _mount_token(self, pod: dict[str, Any], key: tuple[str, str]) -> Path:
        """The service account volume a kubelet projects into the pod (token, ca.crt, namespace), in a directory
        of its own: its token authenticates as the pod's service account (FakeKubeApi.service_account_token)."""
        account = pod["spec"].get("serviceAccountName") or "default"
        directory = self.workdir / f"serviceaccount-{key[0]}-{key[1]}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "token").write_text(self.api.service_account_token(key[0], account))
        (directory / "ca.crt").write_text(self.api.pki.ca_pem)
        (directory / "namespace").write_text(key[0])
        return directory

    def _mounts(self, pod: dict[str, Any], node: NodeBehaviour) -> tuple[dict[str, Path], str]:
        """The container's hostPath mounts (mountPath → the node's lab path), or why one cannot be mounted."""
        volumes = {v["name"]: v["hostPath"] for v in pod["spec"].get("volumes") or [] if v.get("hostPath")}
        mounts: dict[str, Path] = {}
        for mount in pod["spec"]["containers"][0].get("volumeMounts") or []:
            host = volumes.get(mount["name"])
            if host is None:
                continue
            found, kind = node.host_path(host["path"]), host.get("type") or ""
            checks = {"File": Path.is_file, "Directory": Path.is_dir}
            if found is None or not checks.get(kind, Path.exists)(found):
                return {}, (f'MountVolume.SetUp failed for volume "{mount["name"]}": hostPath type check failed: '
                            f"{host['path']} is not a {kind.lower() or 'path'} on the node")  # fmt: skip
            mounts[mount["mountPath"].rstrip("/")] = found
        return mounts, ""

    def _resolv_conf(self, pod: dict[str, Any], node: NodeBehaviour, key: tuple[str, str]) -> Path:
        """What the kubelet writes as the pod's /etc/resolv.conf for its dnsPolicy (Kubernetes' rules)."""
        spec = pod["spec"]
        policy = spec.get("dnsPolicy") or "ClusterFirst"
        if policy == "Default" or (policy == "ClusterFirst" and spec.get("hostNetwork")):
            return node.node_resolv_conf
        namespace = key[0]
        server = node.cluster_dns
        if server is None:
            return node.node_resolv_conf
        path = self.workdir / f"resolv-{namespace}-{key[1]}.conf"
        search = f"{namespace}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}"
        path.write_text(f"search {search}\nnameserver {server}\noptions ndots:5\n")
        return path

    def close(self) -> None:
        self._stop.set()
        with self.api.world.changed:
            self.api.world.changed.notify_all()
        self._thread.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> SimulatedKubelet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
