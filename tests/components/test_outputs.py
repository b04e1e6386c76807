"""Stack outputs: each component declares its own (`STACK_OUTPUTS`), the composition
root collects them, and `__main__.py` exports the result."""

from __future__ import annotations

from collections import Counter

from components.alerting import Alerting
from components.audit_trail import AuditTrail
from components.cluster import Cluster
from components.database import Database
from components.grafana import Grafana
from components.identity import Identity
from components.ingress import Ingress
from components.network import Network
from components.org_guardrails import OrgGuardrails
from components.outputs import stack_outputs
from components.registry import Registry
from components.resilience import Resilience
from components.runner import CiRunner
from components.telemetry_storage import TelemetryStorage
from components.vault import Vault
from components.vault_aws import AwsSecretsEngineRoles

PLATFORM_COMPONENTS = (
    Network,
    Identity,
    AuditTrail,
    CiRunner,
    Cluster,
    Ingress,
    Registry,
    Database,
    Resilience,
    Alerting,
    Vault,
    Grafana,
    TelemetryStorage,
    AwsSecretsEngineRoles,
)
PLATFORM_OWN = (
    "stackKind",
    "environment",
    "primaryRegion",
    "drRegion",
    "services",
    "gitops",
    "observability",
    "observabilityReceivers",
)


def test_no_two_components_export_the_same_name():
    names = Counter(
        [*PLATFORM_OWN, *(n for kind in PLATFORM_COMPONENTS for n in kind.STACK_OUTPUTS)]
    )
    assert [name for name, count in names.items() if count > 1] == []


def test_an_absent_component_still_exports_its_names_as_null():
    assert stack_outputs(None, Database) == dict.fromkeys(Database.STACK_OUTPUTS)
    assert set(stack_outputs(None, Cluster)) == set(Cluster.STACK_OUTPUTS)


def test_each_shipped_stack_exports_only_declared_names(shipped):
    """Null outputs (no DR region, no replica) do not reach the engine's record, so the
    check is: nothing undeclared, and every always-present component's names."""
    declared = {*PLATFORM_OWN, *(n for kind in PLATFORM_COMPONENTS for n in kind.STACK_OUTPUTS)}
    assert set(shipped.outputs) <= declared
    always = {
        *Network.STACK_OUTPUTS,
        *AuditTrail.STACK_OUTPUTS,
        *Alerting.STACK_OUTPUTS,
        "permissionBoundaryArn",
    }
    assert always <= set(shipped.outputs)


def test_the_organization_stack_exports_its_guardrails():
    assert set(OrgGuardrails.STACK_OUTPUTS) == {"scpIds", "scpTargetIds"}
