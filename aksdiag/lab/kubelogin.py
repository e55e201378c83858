"""A fake kubelogin for the lab: the exec credential plugin of Entra ID kubeconfigs, as `az aks get-credentials`
writes them (`kubelogin get-token --login devicecode --server-id … --client-id … --tenant-id … --environment …`).

`kubelogin get-token`, by login mode, as the real one behaves:
- devicecode (the default) and interactive: print the device-code prompt on stderr; with a terminal on stdin, one
  line read stands for the user finishing the login in a browser, and the token follows. Without one nobody signs in:
  it waits until the code expires (AKSDIAG_FAKE_KUBELOGIN_EXPIRES seconds; Entra's device codes last 900) and exits 1.
- azurecli: `az login`'s account (the state file's), no prompt; spn, msi, workloadidentity: the state's identity.
The token is a JWT (unsigned: the lab's API server compares it whole) minted from the sign-in: tenant (--tenant-id,
or az login's for azurecli), audience (--server-id), the user and their groups. The same sign-in mints the same
token, which `aksdiag.lab.signinworld` registers with the fake API server; another tenant or audience mints one it
does not know (401).

`kubelogin convert-kubeconfig -l MODE [--kubeconfig PATH]` rewrites every kubelogin exec in the file for MODE (the
login, and only the arguments that mode uses), as the real one does; `kubelogin remove-tokens` is accepted.
State: AKSDIAG_FAKE_KUBELOGIN_STATE names a JSON file {"user", "oid", "tenant", "groups"}: who `az login` is.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

STATE_ENV = "AKSDIAG_FAKE_KUBELOGIN_STATE"
EXPIRES_ENV = "AKSDIAG_FAKE_KUBELOGIN_EXPIRES"
EXPIRES = "2100-01-01T00:00:00Z"
EXP = 4102444800
"""The lab's tokens expire in 2100: fixed, so one sign-in always mints one token."""
PROMPT = (
    "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code LABCODE42 "
    "to authenticate."
)
KEPT = {  # per login mode, the get-token arguments that mode uses (convert-kubeconfig keeps these)
    "devicecode": ("--server-id", "--client-id", "--tenant-id", "--environment"),
    "interactive": ("--server-id", "--client-id", "--tenant-id", "--environment"),
    "azurecli": ("--server-id",),
    "spn": ("--server-id", "--client-id", "--tenant-id", "--environment"),
    "msi": ("--server-id", "--client-id"),
    "workloadidentity": ("--server-id",),
}


def mint(tenant: str, audience: str, user: str, oid: str = "", groups: tuple[str, ...] = ()) -> str:
    """The token a sign-in gives: the same claims, the same token."""

    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc, sort_keys=True).encode()).decode().rstrip("=")

    claims = {"aud": audience, "tid": tenant, "upn": user, "oid": oid, "groups": list(groups), "exp": EXP,
              "iss": f"https://sts.windows.net/{tenant}/"}  # fmt: skip
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.lab"


def install(directory: str | Path) -> Path:
    """Write the `kubelogin` executable (this module, run by this interpreter) into `directory`."""
    path = Path(directory) / "kubelogin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\nimport sys\nfrom aksdiag.lab.kubelogin import main\nsys.exit(main(sys.argv[1:]))\n")
    path.chmod(0o755)
    return path


def main(argv: list[str]) -> int:
    if argv[:1] == ["get-token"]:
        return _get_token(argv[1:])
    if argv[:1] == ["convert-kubeconfig"]:
        return _convert(argv[1:])
    if argv[:1] == ["remove-tokens"]:
        return 0
    sys.stderr.write(f"kubelogin (aksdiag lab): unknown command {' '.join(argv[:1]) or '(none)'}\n")
    return 1


def _arg(args: list[str], *names: str, default: str = "") -> str:
    found = default
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                found = args[i + 1]
            elif arg.startswith(f"{name}="):
                found = arg.split("=", 1)[1]
    return found


def _state() -> dict[str, Any]:
    path = os.environ.get(STATE_ENV)
    return json.loads(Path(path).read_text()) if path and Path(path).exists() else {}


def _get_token(args: list[str]) -> int:
    login = _arg(args, "--login", "-l", default="devicecode")
    state = _state()
    if login in ("devicecode", "interactive"):
        sys.stderr.write(PROMPT + "\n")
        sys.stderr.flush()
        if not (sys.stdin is not None and sys.stdin.isatty() and sys.stdin.readline()):
            time.sleep(float(os.environ.get(EXPIRES_ENV, "900")))
            sys.stderr.write("Error: failed to get token: expected an empty error but received: device code expired\n")
            return 1
    elif login not in KEPT:
        sys.stderr.write(f'Error: login mode "{login}" is not supported\n')
        return 1
    if not state:
        sys.stderr.write("Error: failed to get token: not signed in (run `az login`)\n")
        return 1
    tenant = state.get("tenant", "") if login == "azurecli" else _arg(args, "--tenant-id", "-t")
    token = mint(tenant, _arg(args, "--server-id"), state.get("user", ""), state.get("oid", ""),
                 tuple(state.get("groups") or ()))  # fmt: skip
    info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
    version = info.get("apiVersion") or "client.authentication.k8s.io/v1beta1"
    print(json.dumps({"apiVersion": version, "kind": "ExecCredential",
                      "status": {"token": token, "expirationTimestamp": EXPIRES}}))  # fmt: skip
    return 0


def _convert(args: list[str]) -> int:
    import yaml

    login = _arg(args, "--login", "-l", default="devicecode")
    if login not in KEPT:
        sys.stderr.write(f'Error: login mode "{login}" is not supported\n')
        return 1
    path = Path(_arg(args, "--kubeconfig", default=os.environ.get("KUBECONFIG", "") or str(Path.home() / ".kube/config")))
    doc = yaml.safe_load(path.read_text())
    for user in doc.get("users") or []:
        spec = (user.get("user") or {}).get("exec") or {}
        if Path(str(spec.get("command", ""))).name != "kubelogin" or (spec.get("args") or [])[:1] != ["get-token"]:
            continue
        old = [str(a) for a in spec["args"][1:]]
        new = ["get-token", "--login", login]
        for name in KEPT[login]:
            value = _arg(old, name)
            if value:
                new += [name, value]
        spec["args"] = new
    path.write_text(yaml.safe_dump(doc))
    return 0
