"""The file audit device the cluster stacks declare: it writes to the audit volume the
release mounts and comes before every other Vault object. (Not applied to the test
server: OpenBao, unlike Vault, refuses audit devices through the API and takes them only
from its configuration file.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.cluster.addons import vault as vault_addon
from tests.conftest import CLUSTER_STACKS, stack_run

AUDIT = "vault:index/audit:Audit"
RELEASE = "kubernetes:helm.sh/v3:Release"


def recorded_audit(stack: str):
    (audit,) = stack_run(stack).of_type(AUDIT)
    return audit


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_the_audit_device_writes_to_the_audit_volume_the_release_mounts(stack):
    audit = recorded_audit(stack)
    (release,) = [
        r
        for r in stack_run(stack).of_type(RELEASE)
        if r.inputs["name"] == vault_addon.RELEASE and r.inputs["namespace"] == "vault"
    ]
    mount = release.inputs["values"]["server"]["auditStorage"]
    assert release.inputs["values"]["server"]["auditStorage"]["enabled"] is True
    assert audit.inputs["type"] == "file"
    file_path = Path(audit.inputs["options"]["file_path"])
    assert file_path.parent == Path(mount["mountPath"])


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_every_other_vault_object_waits_for_the_audit_device(stack):
    run = stack_run(stack)
    audit = recorded_audit(stack)
    others = [
        r
        for r in run.resources
        if r.type.startswith("vault:") and r.type != AUDIT and not r.type.startswith("pulumi:")
    ]
    assert others
    for record in others:
        assert audit.urn in record.depends_on, f"{record.name} does not wait for the audit"
