"""cluster_state judged from facts: the state-* ARM worlds (Learn's error texts in real payload shapes) and bodies
changed by hand, through the probe's one digest; the CSE exit-code reader on each shape AKS writes; the join that
says "here is why"; and the apiserver probe's skip of a stopped cluster. No server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from aksdiag.probes import apiserver, cluster_state
from aksdiag.probes.cluster_state import cse
from probeworlds import NEED, Body, azure_context

from aksdiag import codes, joins
from aksdiag.azfacts import Cluster
from aksdiag.facts import AzureContext, AzureReadError
from aksdiag.lab import armworld
from aksdiag.lab.armworld import state, worlds
from aksdiag.lab.scenarios import CLUSTER_FQDN
from aksdiag.model import Finding, ProbeResult, Severity, Status
from aksdiag.probe import Judgement, Skip
from aksdiag.settings import Settings

SETTINGS = Settings(azure=NEED)
ERRORS = armworld.seed("state_provisioning_errors")
EXPECTED = {
    "state-stopped": {"CL001"},
    "state-failed-dns": {"CL006"},
    "state-failed-connect": {"CL007"},
    "state-failed-outbound": {"CL008"},
    "state-upgrading": {"CL003"},
    "state-pool-failed": {"CL004"},
    "state-pool-stopped": {"CL005"},
}
ISSUE_15_PREFIXES = ("egress-", "tunnel-", "signin-", "snat-", "detectors-")
"""Other parts' worlds, still being written: judged in their own tests."""


def cluster_body(ctx: AzureContext) -> Body:
    assert ctx.cluster is not None
    return ctx.cluster


def facts(world: str = "healthy", change: Callable[[Body], None] | None = None) -> dict[Any, Any]:
    """The raw AzureContext of `world`, its cluster body's properties passed through `change`."""
    ctx = azure_context(world)
    if change is not None:
        change(cluster_body(ctx)["properties"])
    return {NEED: ctx}


def judge(world: str = "healthy", change: Callable[[Body], None] | None = None) -> Judgement:
    j = cluster_state.judge("", SETTINGS, facts(world, change))
    assert all(f.probe == "cluster_state" and f.id in cluster_state.PROBE.codes for f in j.findings)
    assert all(f.title == codes.CATALOGUE[f.id].title for f in j.findings)
    assert [h.index for h in j.hops] == list(range(1, len(j.hops) + 1))
    return j


def ids(j: Judgement) -> set[str]:
    return {f.id for f in j.findings}


def the(j: Judgement, code: str) -> Finding:
    (found,) = [f for f in j.findings if f.id == code]
    return found


def failed(error: Body, *, cluster: bool = True, pool: int | None = 0) -> Callable[[Body], None]:
    """A change: the cluster (and pool `pool`) Failed with `error` as status.provisioningError."""

    def change(p: Body) -> None:
        targets = ([p] if cluster else []) + ([p["agentPoolProfiles"][pool]] if pool is not None else [])
        for t in targets:
            t["provisioningState"] = "Failed"
            t["status"] = {"provisioningError": dict(error)}

    return change


# ---------------------------------------------------------------- plan


def test_without_azure_context_it_is_skipped_saying_what_to_pass() -> None:
    with pytest.raises(Skip, match="no Azure context: pass --cluster"):
        cluster_state.plan("", Settings(), {})


def test_it_needs_the_one_shared_azure_read() -> None:
    assert cluster_state.plan("", SETTINGS, {}) == [NEED]


def test_it_is_said_first_in_check() -> None:
    assert cluster_state.PROBE.order == 1 and cluster_state.PROBE.commands == ("check", "fleet")


# ---------------------------------------------------------------- each world raises exactly its code


@pytest.mark.parametrize("world", sorted(EXPECTED))
def test_each_state_world_raises_exactly_its_code(world: str) -> None:
    assert ids(judge(world)) == EXPECTED[world]


def test_every_state_world_is_tested() -> None:
    assert set(state.WORLDS) == set(EXPECTED)


@pytest.mark.parametrize("world", sorted(w for w in worlds.WORLDS if not w.startswith(("state-", *ISSUE_15_PREFIXES))))
def test_no_alarm_in_the_worlds_that_are_not_about_state(world: str) -> None:
    j = judge(world)
    assert j.findings == () and j.hops[0].status is Status.OK, (world, j.findings)
    assert all(h.status is Status.OK for h in j.hops)


# ---------------------------------------------------------------- CL001 stopped


def test_stopped_cluster_is_one_error_and_its_pools_are_not_judged() -> None:
    j = judge("state-stopped")
    f = the(j, "CL001")
    assert f.severity is Severity.ERROR
    assert f.detail.startswith(f"{armworld.CLUSTER} is stopped (powerState Stopped, provisioningState Succeeded)")
    assert f.command == f"az aks start -g {armworld.CLUSTER_RG} -n {armworld.CLUSTER}"
    assert j.hops[0].status is Status.FAIL and all(h.status is Status.SKIPPED for h in j.hops[1:])
    assert "CL005" not in ids(j), "a stopped cluster's stopped pools are the cluster's CL001"


def test_stopped_cluster_starting_says_so_and_no_operation_warning() -> None:
    j = judge("state-stopped", lambda p: p.update(provisioningState="Starting"))
    assert ids(j) == {"CL001"} and "It is starting now" in the(j, "CL001").detail


# ---------------------------------------------------------------- CL002/CL004 failures without a CSE exit code


def test_cluster_failed_without_cse_code_is_cl002_with_its_error() -> None:
    j = judge(change=failed(ERRORS["quota"], pool=None))
    f = the(j, "CL002")
    assert ids(j) == {"CL002"} and f.detail.startswith(f"{armworld.CLUSTER}: provisioningState Failed. QuotaExceeded: ")
    assert len(f.detail) < 400 and f.detail.endswith("…"), "the message is cut in the detail"
    assert f.evidence["message"] == ERRORS["quota"]["message"], "and whole in the evidence"
    assert f.command and f.command.startswith("az resource update -g rg-aks -n aks-lab")


def test_cluster_failed_without_error_text_says_where_to_look() -> None:
    j = judge(change=lambda p: p.update(provisioningState="Failed"))
    assert ids(j) == {"CL002"} and "ARM gives no error text (see the Activity log)" in the(j, "CL002").detail


def test_failed_pool_names_pool_mode_and_error() -> None:
    f = the(judge("state-pool-failed"), "CL004")
    assert f.detail.startswith("Pool apps (User, 3 node(s)): provisioningState Failed. QuotaExceeded: Provisioning")
    assert "QuotaExceeded" in f.remediation


# ---------------------------------------------------------------- CL003 in progress, CL005 stopped pool


@pytest.mark.parametrize("state_", ["Creating", "Updating", "Scaling", "Stopping", "Deleting"])
def test_an_operation_in_progress_is_a_warning(state_: str) -> None:
    j = judge(change=lambda p: p.update(provisioningState=state_))
    f = the(j, "CL003")
    assert ids(j) == {"CL003"} and f.severity is Severity.WARNING
    assert f.detail == f"{armworld.CLUSTER} is {state_}: results may change until it ends."
    assert j.hops[0].status is Status.WARN


def test_a_pool_operation_in_progress_names_the_pool() -> None:
    j = judge(change=lambda p: p["agentPoolProfiles"][0].update(provisioningState="Scaling"))
    assert ids(j) == {"CL003"} and the(j, "CL003").detail.startswith("pool nodepool1 is Scaling")


def test_stopped_pool_is_a_warning_with_the_start_command() -> None:
    j = judge("state-pool-stopped")
    f = the(j, "CL005")
    assert f.severity is Severity.WARNING
    assert f.command == "az aks nodepool start -g rg-aks --cluster-name aks-lab -n apps"
    assert [h.status for h in j.hops] == [Status.OK, Status.OK, Status.WARN]


# ---------------------------------------------------------------- CL006–CL009: CSE exit codes


def test_exit_52_relates_to_the_dns_probes_once_for_cluster_and_pool() -> None:
    j = judge("state-failed-dns")
    f = the(j, "CL006")
    assert f.detail.startswith("The cluster and pool nodepool1: the nodes' bootstrap (vmssCSE) exited 52")
    assert CLUSTER_FQDN in f.detail and "10.1.0.4" in f.remediation, "the FQDN and the VNet's DNS servers"
    assert f.evidence["relates_to"] == {"probes": ["dns_chain", "private_dns", "cluster_dns"], "as": "cause",
                                        "codes": ["DNS"]}  # fmt: skip
    assert f.evidence["exit_code"] == 52 and f.evidence["where"] == ["the cluster", "pool nodepool1"]


def test_exit_51_relates_to_the_api_server_path_with_vnet_integration_ports() -> None:
    f = the(judge("state-failed-connect"), "CL007")
    assert f.evidence["relates_to"]["probes"] == ["apiserver", "tunnel"]
    assert "on TCP 443 and 4443" in f.remediation, "VNet integration: the API server subnet's two ports"


def test_exit_50_relates_to_egress() -> None:
    f = the(judge("state-failed-outbound"), "CL008")
    assert f.evidence["relates_to"] == {"probes": ["outbound", "egress"], "as": "cause", "codes": ["EG"]}
    assert "(outbound type userDefinedRouting)" in f.detail, "from egress-route-none: its cause"


def test_a_pool_failing_with_exit_50_while_the_cluster_runs() -> None:
    j = judge(change=failed(ERRORS["cse_outbound_50"], cluster=False))
    assert ids(j) == {"CL008"} and the(j, "CL008").detail.startswith("Pool nodepool1: ")


def test_two_exit_codes_are_two_findings_and_a_plain_failure_a_third() -> None:
    def change(p: Body) -> None:
        failed(ERRORS["cse_dns_52"], cluster=False)(p)
        p["agentPoolProfiles"] += [{**p["agentPoolProfiles"][0], "name": "apps"}, {**p["agentPoolProfiles"][0],
                                                                                    "name": "gpu"}]  # fmt: skip
        failed(ERRORS["cse_outbound_50"], cluster=False, pool=1)(p)
        failed(ERRORS["quota"], cluster=False, pool=2)(p)

    assert ids(judge(change=change)) == {"CL006", "CL008", "CL004"}


@pytest.mark.parametrize(
    ("exit_code", "probes"),
    [(124, ["dns_chain", "private_dns", "apiserver", "outbound", "egress"]), (41, ["outbound", "egress"]), (212, None),
     (77, None)],
)  # fmt: skip
def test_other_exit_codes_are_cl009_joined_where_a_probe_sees_the_cause(
    exit_code: int, probes: list[str] | None
) -> None:
    error = {"code": "VMExtensionProvisioningError", "message": "VM has reported a failure when processing extension "
             f"'vmssCSE'. Error message: \"Enable failed: failed to execute command: command terminated with exit "
             f"status={exit_code}\n[stdout]\n\n[stderr]\n\""}  # fmt: skip
    f = the(judge(change=failed(error, cluster=False)), "CL009")
    assert f.evidence["exit_code"] == exit_code
    assert (f.evidence.get("relates_to") or {}).get("probes") == probes
    assert f.remediation.endswith("Then reconcile aks-lab.") and len(f.remediation) > len("Then reconcile aks-lab.")


# ---------------------------------------------------------------- the exit-code reader on each shape


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("VMExtensionProvisioningError", ERRORS["cse_dns_52"]["message"], 52),
        ("VMExtensionProvisioningError", ERRORS["cse_connect_51"]["message"], 51),
        ("VMExtensionProvisioningError", ERRORS["cse_outbound_50"]["message"], 50),
        ("K8SAPIServerDNSLookupFailVMExtensionError", "Agents are unable to resolve Kubernetes API server name.", 52),
        ("OutboundConnFailVMExtensionError", "", 50),
        ("VMExtensionProvisioningError", "vmssCSE error messages : {vmssCSE exit status=50, output=pt/apt.conf.d/95proxy",
         50),
        ("VMExtensionProvisioningError", "CSE failed: { \"ExitCode\": \"53\", \"Output\": \"…\" }", 53),
        ("VMExtensionProvisioningError", "VM has reported a failure when processing extension 'vmssCSE'. Error message: "
         "\"Command execution finished, but failed because it returned a non-zero exit code of: '1'\"", 1),
        # another extension's exit code is its own, not the node bootstrap's
        ("VMExtensionProvisioningError", "VM has reported a failure when processing extension 'MMAExtension'. Error "
         "message: \"Enable failed with exit code 53 Installation failed due to incorrect workspace key.", None),
        ("QuotaExceeded", ERRORS["quota"]["message"], None),
        ("", "", None),
    ],
)  # fmt: skip
def test_exit_code_reader(code: str, message: str, expected: int | None) -> None:
    assert cse.exit_code(code, message) == expected


def test_exit_codes_of_a_cluster_for_other_probes() -> None:
    ctx = azure_context("state-failed-outbound")
    cluster = Cluster.from_arm(cluster_body(ctx))
    assert cse.exit_codes(cluster) == {50: ["the cluster", "pool nodepool1"]}
    assert cse.exit_codes(Cluster.from_arm(cluster_body(azure_context("healthy")))) == {}


# ---------------------------------------------------------------- an unread cluster


def test_a_cluster_read_that_failed_is_unread_not_a_finding() -> None:
    broken = AzureReadError(NEED.cluster_id, 500, "InternalServerError", "boom", failure="server")
    j = cluster_state.judge("", SETTINGS, {NEED: AzureContext(NEED, errors=(broken,))})
    assert j.findings == () and j.hops[0].status is Status.SKIPPED and len(j.unread) == 1
    refused = AzureReadError(NEED.cluster_id, 403, "AuthorizationFailed", "no", failure="forbidden")
    j = cluster_state.judge("", SETTINGS, {NEED: AzureContext(NEED, errors=(refused,))})
    assert j.findings == () and j.unread == (), "a refusal is private_dns's AZ001, said once"


# ---------------------------------------------------------------- the join says "here is why"


def _result(probe: str, *found: Finding, status: Status = Status.FAIL) -> ProbeResult:
    return ProbeResult(probe, status, 1.0, findings=found)


def test_the_join_names_the_dns_finding_that_explains_exit_52() -> None:
    cl = the(judge("state-failed-dns"), "CL006")
    entry = codes.CATALOGUE["DNS001"]  # its own finding, as dns_chain makes it (its templates' fields aside)
    dns001 = replace(cl, id=entry.id, title=entry.title, detail="…", probe="dns_chain", evidence={})
    joined = joins.relate([_result("cluster_state", cl), _result("dns_chain", dns001), _result("apiserver")])
    (f,) = joined[0].findings
    assert "Here is why: DNS001 (dns_chain): " in f.detail and f.evidence["related"][0]["id"] == "DNS001"


def test_the_join_says_when_the_probes_that_would_explain_it_did_not_run() -> None:
    cl = the(judge("state-failed-outbound"), "CL008")
    (f,) = joins.relate([_result("cluster_state", cl)])[0].findings
    assert f.detail.endswith("The probes that would explain it (outbound, egress) did not run here.")


# ---------------------------------------------------------------- apiserver: a stopped cluster is skipped


def test_apiserver_skips_a_stopped_cluster_saying_why() -> None:
    with pytest.raises(Skip, match=r"the cluster aks-lab is stopped \(powerState Stopped\).*az aks start -g rg-aks"):
        apiserver.plan("", SETTINGS, facts("state-stopped"))


def test_apiserver_tests_a_running_cluster() -> None:
    needs = apiserver.plan("", SETTINGS, facts("state-upgrading"))
    assert needs and NEED not in needs, "past the Azure read: the resolver and the addresses"
