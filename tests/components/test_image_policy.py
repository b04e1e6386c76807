"""Signed images only: the policy-controller and its ClusterImagePolicy per environment,
and which namespaces the webhook sees, compared with the platform stack's settings."""

from __future__ import annotations

import pytest

from components.cluster.addons import policy_controller
from components.config import GITHUB_ACTIONS_ISSUER, PLATFORM_NAMESPACES, GitOpsSettings
from tests.conftest import CLUSTER_STACKS, stack_run
from tests.reference import validate_custom_resource
from tests.tokens import HELM_RELEASE

POLICY = "kubernetes:policy.sigstore.dev/v1beta1:ClusterImagePolicy"
NAMESPACE = "kubernetes:core/v1:Namespace"


@pytest.fixture(params=CLUSTER_STACKS)
def layer(request):
    run = stack_run(request.param)
    platform = stack_run(run.outputs["platformStack"])
    return run, platform, GitOpsSettings.model_validate(platform.outputs["gitops"])


def test_prod_enforces_staging_warns_and_dev_has_no_policy(layer):
    run, _, settings = layer
    policies = [r.inputs for r in run.of_type(POLICY)]
    releases = [r for r in run.of_type(HELM_RELEASE) if r.inputs["chart"] == "policy-controller"]
    expected = {"prod": "enforce", "staging": "warn"}.get(settings.environment)
    if expected is None:
        assert policies == [] and releases == []
        return
    (policy,) = policies
    (release,) = releases
    manifest = {k: v for k, v in policy.items() if not k.startswith("__")}
    validate_custom_resource(manifest)
    assert manifest["spec"]["mode"] == expected
    assert release.inputs["values"]["webhook"]["failurePolicy"] == "Fail"


def test_the_policy_trusts_only_the_configured_workflow_identity(layer):
    run, _, settings = layer
    for record in run.of_type(POLICY):
        (authority,) = record.inputs["spec"]["authorities"]
        (identity,) = authority["keyless"]["identities"]
        assert identity == {"issuer": GITHUB_ACTIONS_ISSUER, "subject": settings.signing_subject}
        assert "subjectRegExp" not in identity and "issuerRegExp" not in identity
        assert record.inputs["spec"]["images"] == [{"glob": "**"}]


def test_the_webhook_sees_the_service_namespaces_and_no_platform_namespace(layer):
    run, platform, settings = layer
    labels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"].get("labels", {})
        for r in run.of_type(NAMESPACE)
    }
    included = {n for n, kv in labels.items() if kv.get(policy_controller.INCLUDE_LABEL) == "true"}
    services = {s["namespace"] for s in platform.outputs["services"]}
    assert not included & set(PLATFORM_NAMESPACES)
    if settings.environment == "dev":
        assert included == set()
    else:
        assert included == services
