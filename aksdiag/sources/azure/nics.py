"""The NICs of a VMSS, each with its IP configurations: where `aksdiag whois` finds a classic-CNI pod's address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aksdiag.facts import AzureVmssNics, AzureVmssNicsNeed
from aksdiag.sources.azure.clients import credential, endpoint_kwargs, guard
from aksdiag.sources.azure.reads import Reads

if TYPE_CHECKING:
    from aksdiag.settings import Settings


async def fetch_vmss_nics(
    need: AzureVmssNicsNeed, settings: Settings | None = None, deadline: float | None = None
) -> AzureVmssNics:
    """The NICs of a VMSS, each with its IP configurations (read-only, like every read here)."""
    guard(need.endpoint, settings)
    from azure.mgmt.network.aio import NetworkManagementClient

    cred = credential(settings)
    kw = endpoint_kwargs(need.endpoint, settings, deadline)
    scope = (
        f"/subscriptions/{need.subscription}/resourceGroups/{need.resource_group}/providers/Microsoft.Compute"
        f"/virtualMachineScaleSets/{need.vmss}/networkInterfaces"
    )
    reads = Reads()
    async with cred, NetworkManagementClient(cred, need.subscription, **kw) as net:
        pager = net.network_interfaces.list_virtual_machine_scale_set_network_interfaces(need.resource_group, need.vmss)
        nics = await reads.list_all(scope, pager, "Microsoft.Compute/virtualMachineScaleSets/networkInterfaces/read")
    if nics is None:
        return AzureVmssNics(error=reads.errors[0] if reads.errors else None)
    return AzureVmssNics(tuple(nics))
