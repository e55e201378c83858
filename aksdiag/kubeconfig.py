"""Where the API server is and how to talk to it: a kubeconfig context, or the pod's in-cluster config.

Reads files only (no network). The result names the server URL, the CA to trust, and the credentials; an exec
plugin (kubelogin, az) is run only when asked for a token, and its failure is a reason, not a crash.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aksdiag.errors import AksdiagError, UsageError

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class ApiServerConfig:
    server: str
    """https://host[:port] as the client uses it."""
    source: str
    """Which kubeconfig and context, or in-cluster."""
    ca_pem: str | None = None
    token: str | None = None
    client_cert_pem: str | None = None
    client_key_pem: str | None = None
    exec_command: tuple[str, ...] = ()
    exec_env: dict[str, str] = field(default_factory=dict)
    insecure: bool = False

    @property
    def host(self) -> str:
        return urlsplit(self.server).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.server).port or 443


def load(path: str | None = None, context: str | None = None) -> ApiServerConfig:
    """The kubeconfig's context (default: KUBECONFIG or ~/.kube/config, current-context)."""
    import yaml

    candidates = [path] if path else (os.environ.get("KUBECONFIG", "").split(os.pathsep) or [])
    candidates = [c for c in candidates if c] or [str(Path.home() / ".kube" / "config")]
    file = Path(candidates[0]).expanduser()
    try:
        doc = yaml.safe_load(file.read_text())
    except OSError as e:
        raise AksdiagError(
            f"cannot read the kubeconfig {file}: {e.strerror or e}",
            "pass --kubeconfig, run `az aks get-credentials`, or give --fqdn",
        ) from None
    except yaml.YAMLError as e:
        raise AksdiagError(f"the kubeconfig {file} is not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise AksdiagError(f"the kubeconfig {file} is empty or not a kubeconfig")
    name = context or doc.get("current-context")
    if not name:
        raise UsageError(f"{file} has no current-context", "pass --context")
    ctx = _named(doc, "contexts", name, file, "context")
    cluster = _named(doc, "clusters", ctx.get("cluster"), file, "cluster")
    user = _named(doc, "users", ctx.get("user"), file, "user", required=False)
    base = file.parent
    exec_spec = user.get("exec") or {}
    return ApiServerConfig(
        server=str(cluster.get("server", "")),
        source=f"{file} context {name}",
        ca_pem=_data(cluster, "certificate-authority", base),
        token=user.get("token") or _file_text(user.get("tokenFile"), base),
        client_cert_pem=_data(user, "client-certificate", base),
        client_key_pem=_data(user, "client-key", base),
        exec_command=tuple([exec_spec["command"], *exec_spec.get("args", [])]) if exec_spec.get("command") else (),
        exec_env={e["name"]: e["value"] for e in exec_spec.get("env") or []},
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
    )


def in_cluster(environ: dict[str, str] | None = None, account: Path = SERVICE_ACCOUNT) -> ApiServerConfig | None:
    """The pod's view of the API server (KUBERNETES_SERVICE_HOST and the service account), if in a pod."""
    env = os.environ if environ is None else environ
    host = env.get("KUBERNETES_SERVICE_HOST")
    if not host:
        return None
    port = env.get("KUBERNETES_SERVICE_PORT", "443")
    shown = f"[{host}]" if ":" in host else host
    return ApiServerConfig(
        server=f"https://{shown}:{port}",
        source="in-cluster service account",
        ca_pem=_file_text(str(account / "ca.crt"), Path("/")),
        token=_file_text(str(account / "token"), Path("/")),
    )


def exec_token(config: ApiServerConfig, timeout: float = 20.0) -> tuple[str | None, str | None]:
    """Run the exec credential plugin: (token, None) or (None, why it failed)."""
    if not config.exec_command:
        return None, None
    try:
        proc = subprocess.run(
            list(config.exec_command), capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **config.exec_env}, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"exec plugin {config.exec_command[0]} failed: {e}"
    if proc.returncode != 0:
        return None, f"exec plugin {config.exec_command[0]} exited {proc.returncode}: {proc.stderr.strip()[:200]}"
    try:
        return json.loads(proc.stdout)["status"]["token"], None
    except (ValueError, KeyError, TypeError):
        return None, f"exec plugin {config.exec_command[0]} printed no ExecCredential token"


def _named(doc: dict, section: str, name: object, file: Path, what: str, required: bool = True) -> dict:
    for item in doc.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get(what) or {}
    if not required:
        return {}
    known = ", ".join(str(i.get("name")) for i in doc.get(section) or [] if isinstance(i, dict)) or "none"
    raise UsageError(f"{file} has no {what} named {name!r}", f"known: {known}")


def _data(section: dict, key: str, base: Path) -> str | None:
    if section.get(f"{key}-data"):
        try:
            return base64.b64decode(section[f"{key}-data"]).decode()
        except (ValueError, UnicodeDecodeError):
            raise AksdiagError(f"{key}-data in the kubeconfig is not base64 PEM") from None
    return _file_text(section.get(key), base)


def _file_text(path: object, base: Path) -> str | None:
    if not path:
        return None
    file = Path(str(path)).expanduser()
    file = file if file.is_absolute() else base / file
    try:
        return file.read_text()
    except OSError:
        return None
