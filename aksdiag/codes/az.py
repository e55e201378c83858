"""AZ codes: Azure reads that were refused or found nothing, so part of the path could not be checked."""

from __future__ import annotations

from aksdiag.codes.entry import Code
from aksdiag.model import Severity

AZ001 = Code(
    id="AZ001",
    severity=Severity.WARNING,
    title="An Azure read was refused: part of the path could not be checked",
    summary=(
        "ARM answered 403 (or another error) to a read aksdiag needs: the identity lacks a read permission on that "
        "scope. The checks that depend on it are left out; the others still ran."
    ),
    fix="Grant the identity Reader (or the named action) on the scope, or run as an identity that has it.",
    detail="{status} {code} reading {scope}: {message}",
    remediation="Grant {action} on {scope} (the Reader role covers it) to the identity aksdiag runs as.",
    command="az role assignment create --assignee <identity> --role Reader --scope {scope}",
    docs="https://learn.microsoft.com/azure/role-based-access-control/troubleshooting",
)

AZ002 = Code(
    id="AZ002",
    severity=Severity.ERROR,
    title="An Azure resource the cluster depends on does not exist",
    summary="ARM answered 404 for a resource the cluster names (the cluster itself, its zone, a VNet).",
    fix="Check the names given to aksdiag, or recreate / re-reference the missing resource.",
    detail="404 {code} reading {scope}.",
    remediation="Check that {scope} exists (and the subscription and resource group given to aksdiag).",
    docs="https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-not-found",
)
