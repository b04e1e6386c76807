"""Argo CD in each shipped environment: the release's shape (HA in prod), the UI behind
the internal ALB only, the projects' boundaries and the root application's sync policy,
read from the cluster stack's run and compared with its platform stack's outputs."""

from __future__ import annotations

import pytest

from components import versions
from components.cluster.addons import argocd
from components.config import KUBERNETES_NAMESPACES, PLATFORM_NAMESPACES, GitOpsSettings
from tests.conftest import CLUSTER_STACKS, platform_config, stack_run
from tests.reference import validate_custom_resource
from tests.tokens import HELM_RELEASE

APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"


@pytest.fixture(params=CLUSTER_STACKS)
def layer(request):
    run = stack_run(request.param)
    platform = stack_run(run.outputs["platformStack"])
    return run, platform, GitOpsSettings.model_validate(platform.outputs["gitops"])


def values_of(run) -> dict:
    (release,) = [r for r in run.of_type(HELM_RELEASE) if r.inputs["chart"] == "argo-cd"]
    assert release.inputs["version"] == versions.ARGO_CD_CHART_VERSION
    assert release.inputs["namespace"] == argocd.NAMESPACE
    return release.inputs["values"]


def by_kind(run, type_: str) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in run.of_type(type_)}


def test_prod_runs_argocd_highly_available_and_the_rest_single(layer):
    run, platform, settings = layer
    values = values_of(run)
    zones = len(platform.outputs["availabilityZones"])
    ha = settings.environment == "prod"
    assert values["redis-ha"]["enabled"] is ha
    assert values["redis"]["enabled"] is not ha
    for component in ("server", "repoServer", "applicationSet"):
        assert values[component]["replicas"] == (2 if ha else 1), component
        assert values[component].get("pdb", {}).get("enabled", False) is ha, component
        limits = values[component]["resources"]["limits"]
        assert limits["memory"] == values[component]["resources"]["requests"]["memory"]
    (spread,) = values["global"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    hard = ha and zones >= 2
    assert spread["whenUnsatisfiable"] == ("DoNotSchedule" if hard else "ScheduleAnyway")
    assert values["global"]["priorityClassName"] == "platform-critical"


def test_the_ui_is_reached_only_through_the_internal_alb(layer):
    run, platform, settings = layer
    values = values_of(run)
    assert values["server"]["service"]["type"] == "ClusterIP"
    assert "ingress" not in values["server"]
    routes = [r for r in platform.outputs.get("ingressRoutes") or () if r["name"] == "argocd"]
    internal_alb = platform.outputs.get("ingressInternalAlbArn") is not None
    if not internal_alb:
        assert routes == [] and settings.ui_host is None
        return
    (route,) = routes
    assert route["internal"] is True
    assert (route["namespace"], route["service"]) == (argocd.NAMESPACE, argocd.SERVER_SERVICE)
    # The target group sends to the Service port the chart is told to use.
    assert route["port"] == values["server"]["service"]["servicePortHttp"]
    assert route["host"] == settings.ui_host
    assert values["configs"]["cm"]["url"] == f"https://{settings.ui_host}"


def test_only_dev_keeps_the_local_admin_and_everyone_else_reads_only(layer):
    run, _, settings = layer
    configs = values_of(run)["configs"]
    assert configs["cm"]["admin.enabled"] is (settings.environment == "dev")
    assert configs["rbac"]["policy.default"] == "role:readonly"
    grants = [line for line in configs["rbac"]["policy.csv"].splitlines() if line.startswith("p,")]
    assert all(", applications, sync," in line for line in grants), grants
    if settings.environment == "prod":
        assert settings.sync_group
        assert f"g, {settings.sync_group}, {argocd.SYNC_ROLE}" in configs["rbac"]["policy.csv"]
        assert all(f", {argocd.project_name('prod')}/*," in line for line in grants)


def test_the_services_project_targets_the_service_namespaces_only(layer):
    run, platform, settings = layer
    projects = by_kind(run, APP_PROJECT)
    spec = projects[argocd.project_name(settings.environment)]["spec"]
    expected = {s["namespace"] for s in platform.outputs["services"]}
    assert {d["namespace"] for d in spec["destinations"]} == expected
    forbidden = set(PLATFORM_NAMESPACES) | set(KUBERNETES_NAMESPACES)
    for project in projects.values():
        for destination in project["spec"]["destinations"]:
            assert destination["server"] == argocd.IN_CLUSTER
            assert destination["namespace"] not in forbidden - {argocd.NAMESPACE}
        assert project["spec"]["sourceRepos"] == [settings.repo_url]
        assert project["spec"]["clusterResourceWhitelist"] == []
    windows = spec.get("syncWindows", [])
    assert [(w["kind"], w["schedule"]) for w in windows] == [
        (w.kind, w.schedule) for w in settings.sync_windows
    ]


def test_the_root_project_may_only_create_applications_in_argocds_namespace(layer):
    run, _, settings = layer
    root = by_kind(run, APP_PROJECT)[argocd.root_name(settings.environment)]["spec"]
    assert root["destinations"] == [{"server": argocd.IN_CLUSTER, "namespace": argocd.NAMESPACE}]
    assert root["namespaceResourceWhitelist"] == [{"group": "argoproj.io", "kind": "Application"}]


def test_the_root_application_syncs_by_itself_below_prod_only(layer):
    run, _, settings = layer
    (root,) = by_kind(run, APPLICATION).values()
    spec = root["spec"]
    assert spec["source"] == {
        "repoURL": settings.repo_url,
        "targetRevision": settings.target_revision,
        "path": f"gitops/envs/{settings.environment}",
    }
    assert spec["project"] == argocd.root_name(settings.environment)
    if settings.environment == "prod":
        assert "automated" not in spec["syncPolicy"]
    else:
        assert spec["syncPolicy"]["automated"]["prune"] is True
        assert spec["syncPolicy"]["automated"]["selfHeal"] is True


def test_the_signing_identity_defaults_to_the_ci_repositorys_image_workflow(layer):
    _, platform, settings = layer
    repository = platform_config(platform.stack).ci.repository
    assert settings.signing_subject.startswith(
        f"https://github.com/{repository}/.github/workflows/"
    )
    assert settings.signing_subject.endswith("@refs/heads/main")


def test_a_webhook_turns_on_notifications_for_every_project(tmp_path):
    """With ballast:gitopsWebhookUrl the controller gets the webhook (through its
    secret) and both projects subscribe to OutOfSync, Degraded and failed syncs."""
    settings = GitOpsSettings(
        environment="prod",
        repo_url="https://github.com/org/repo.git",
        path="gitops/envs/prod",
        target_revision="main",
        sync_group="release",
        signing_subject="https://github.com/org/repo/.github/workflows/image.yml@refs/heads/main",
    )
    quiet = argocd.helm_values(settings, zone_count=3)["notifications"]
    assert "notifiers" not in quiet and "secret" not in quiet
    values = argocd.helm_values(settings, zone_count=3, webhook_url="https://hooks.example.com/x")
    notifications = values["notifications"]
    assert notifications["secret"]["items"] == {
        argocd.WEBHOOK_SECRET_KEY: "https://hooks.example.com/x"
    }
    (service,) = notifications["notifiers"].values()
    assert f"${argocd.WEBHOOK_SECRET_KEY}" in service  # the URL is read from the secret
    assert "hooks.example.com" not in service
    triggers = {key.removeprefix("trigger.") for key in notifications["triggers"]}
    assert triggers == {"on-out-of-sync", "on-degraded", "on-sync-failed"}
    for project in (
        argocd.services_project(settings, ["checkout"], notify=True),
        argocd.root_project(settings, notify=True),
    ):
        validate_custom_resource(project)
        prefix = "notifications.argoproj.io/subscribe."
        subscribed = {
            key.removeprefix(prefix).rsplit(".", 1)[0]
            for key in project["metadata"]["annotations"]
            if key.startswith(prefix) and key.endswith(f".{argocd.WEBHOOK_SERVICE}")
        }
        assert subscribed == triggers
    from tests.reference import unknown_value_keys

    assert (
        unknown_value_keys(
            values,
            versions.ARGO_CD_CHART,
            versions.ARGO_CD_CHART_VERSION,
            free_form=("configs.cm", "configs.params", "configs.rbac"),
        )
        == []
    )
