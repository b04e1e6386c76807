"""Logs and traces on each shipped stack: the platform half (Loki's and Tempo's buckets,
keys and IRSA roles, with the roles' policies evaluated), and the cluster half's
releases (Loki, Alloy, the OpenTelemetry Collector, Tempo), down to the labels a log
stream ends up with once the agent's rendered configuration is parsed and applied."""

from __future__ import annotations

import json

import pytest
import yaml

from ballast.offline import load_stack_config
from ballast.offline.stack_config import load_project
from components import versions
from components.cluster.addons import alloy, loki, otel_collector, tempo
from components.config import parse_platform_config
from components.telemetry_storage import KEY_ACTIONS, store_policy_document
from tests.alloy_syntax import Expr, component, parse, relabel
from tests.conftest import ROOT, SHIPPED_STACKS, platform_boundary, stack_run
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate, irsa_trust_allows
from tests.tokens import (
    BUCKET,
    BUCKET_ENCRYPTION,
    BUCKET_LIFECYCLE,
    BUCKET_LOGGING,
    HELM_RELEASE,
    KEY,
    ROLE,
    ROLE_POLICY,
)

STORAGE = "ballast:components:TelemetryStorage"
#: What each store must be able to do in its own bucket (list, write, read, delete).
STORE_ACTIONS = ("s3:ListBucket", "s3:PutObject", "s3:GetObject", "s3:DeleteObject")


def chart_default(chart: str) -> dict:
    from tests.reference import chart_values

    version = {
        versions.OTEL_CHART: versions.OTEL_CHART_VERSION,
    }[chart]
    return chart_values(chart, version)


def config_of(stack: str):
    return parse_platform_config(load_stack_config(load_project(ROOT), stack).config)


def of_storage(run, type_: str) -> list:
    return [r for r in run.resources if r.type == type_ and STORAGE in r.urn]


def release_of(stack: str, chart: str):
    (release,) = [
        r for r in stack_run(f"{stack}-cluster").of_type(HELM_RELEASE) if r.inputs["chart"] == chart
    ]
    return release


def bucket_record(run, name: str):
    (bucket,) = [b for b in run.of_type(BUCKET) if b.outputs["bucket"] == name]
    return bucket


def attached_to(run, type_: str, bucket) -> list:
    return [r for r in run.of_type(type_) if r.inputs["bucket"] == bucket.id]


def store_policy(run, kind: str) -> dict:
    (role,) = [
        r for r in of_storage(run, ROLE) if r.outputs["arn"] == run.outputs[f"{kind}RoleArn"]
    ]
    (inline,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    return json.loads(inline.inputs["policy"])


# --- the platform half -------------------------------------------------------------------


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
@pytest.mark.parametrize("kind", ["loki", "tempo"])
def test_each_store_has_its_own_key_encrypted_bucket_expiring_after_its_retention(stack, kind):
    run = stack_run(stack)
    config = config_of(stack).observability
    retention = (config.logs if kind == "loki" else config.traces).retention_days
    assert run.outputs[f"{kind}RetentionDays"] == retention
    bucket = bucket_record(run, run.outputs[f"{kind}BucketName"])
    assert STORAGE in bucket.urn
    (encryption,) = attached_to(run, BUCKET_ENCRYPTION, bucket)
    (rule,) = encryption.inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == run.outputs[f"{kind}KeyArn"]
    other = "tempo" if kind == "loki" else "loki"
    assert run.outputs[f"{kind}KeyArn"] != run.outputs[f"{other}KeyArn"]
    (key,) = [k for k in run.of_type(KEY) if k.outputs["arn"] == run.outputs[f"{kind}KeyArn"]]
    assert key.inputs["enableKeyRotation"] is True
    (lifecycle,) = attached_to(run, BUCKET_LIFECYCLE, bucket)
    (expiry,) = lifecycle.inputs["rules"]
    assert expiry["status"] == "Enabled" and expiry["filter"] == {"prefix": ""}
    assert expiry["expiration"]["days"] == retention
    (logging,) = attached_to(run, BUCKET_LOGGING, bucket)
    assert logging.inputs["targetBucket"] == run.outputs["telemetryAccessLogBucketName"]
    prod = config_of(stack).environment == "prod"
    assert bucket.protect == prod and key.protect == prod


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
@pytest.mark.parametrize("kind", ["loki", "tempo"])
def test_each_role_reaches_its_own_bucket_and_key_and_nothing_else(stack, kind):
    run = stack_run(stack)
    policy = store_policy(run, kind)
    other = "tempo" if kind == "loki" else "loki"
    own, foreign = run.outputs[f"{kind}BucketArn"], run.outputs[f"{other}BucketArn"]
    audit = f"arn:aws:s3:::{run.outputs['trailBucketName']}"
    for action in STORE_ACTIONS:
        resource = own if action == "s3:ListBucket" else f"{own}/fake/chunk"
        assert evaluate(policy, action, resource) == ALLOW, action
        for elsewhere in (foreign, audit, "arn:aws:s3:::any-other-bucket"):
            resource = elsewhere if action == "s3:ListBucket" else f"{elsewhere}/fake/chunk"
            assert evaluate(policy, action, resource) == IMPLICIT_DENY, (action, elsewhere)
    # No bucket administration, not even on its own bucket.
    for action in ("s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"):
        assert evaluate(policy, action, own) == IMPLICIT_DENY, action
    key, foreign_key = run.outputs[f"{kind}KeyArn"], run.outputs[f"{other}KeyArn"]
    region = run.outputs["primaryRegion"]
    via_s3 = {"kms:ViaService": f"s3.{region}.amazonaws.com", "aws:RequestedRegion": region}
    for action in KEY_ACTIONS:
        assert evaluate(policy, action, key, via_s3) == ALLOW, action
        assert evaluate(policy, action, foreign_key, via_s3) == IMPLICIT_DENY, action
        # Only through S3: the key cannot decrypt anything handed to KMS directly.
        assert evaluate(policy, action, key) == IMPLICIT_DENY, action
    for action in ("kms:Encrypt", "kms:CreateGrant", "kms:ScheduleKeyDeletion"):
        assert evaluate(policy, action, key, via_s3) == IMPLICIT_DENY, action
    # The environment's boundary leaves every allowed action usable on these resources.
    boundary = json.loads(platform_boundary(run).inputs["policy"])
    in_region = {"aws:RequestedRegion": region}
    for action in STORE_ACTIONS:
        assert evaluate(boundary, action, f"{own}/fake/chunk", in_region) == ALLOW, action
    for action in KEY_ACTIONS:
        assert evaluate(boundary, action, key, via_s3) == ALLOW, action


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
@pytest.mark.parametrize("addon", [loki, tempo], ids=["loki", "tempo"])
def test_only_the_stores_service_account_assumes_its_role(stack, addon):
    run = stack_run(stack)
    kind = addon.RELEASE
    (role,) = [
        r for r in of_storage(run, ROLE) if r.outputs["arn"] == run.outputs[f"{kind}RoleArn"]
    ]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    own = f"system:serviceaccount:{addon.NAMESPACE}:{addon.SERVICE_ACCOUNT}"
    assert irsa_trust_allows(trust, run.outputs, own)
    other = "tempo" if kind == "loki" else "loki"
    for sub in (
        f"system:serviceaccount:{addon.NAMESPACE}:{other}",
        f"system:serviceaccount:{addon.NAMESPACE}:alloy",
        f"system:serviceaccount:checkout:{addon.SERVICE_ACCOUNT}",
    ):
        assert not irsa_trust_allows(trust, run.outputs, sub)


def test_the_store_policy_names_one_bucket_and_one_key():
    policy = store_policy_document(
        bucket_arn="arn:aws:s3:::b",
        key_arn="arn:aws:kms:eu-west-1:111122223333:key/k",
        object_actions=["s3:GetObject"],
    )
    resources = {json.dumps(s["Resource"]) for s in policy["Statement"]}
    assert resources == {
        '"arn:aws:s3:::b"',
        '"arn:aws:s3:::b/*"',
        '"arn:aws:kms:eu-west-1:111122223333:key/k"',
    }


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_access_log_bucket_takes_only_the_two_buckets_logs(stack):
    run = stack_run(stack)
    bucket = bucket_record(run, run.outputs["telemetryAccessLogBucketName"])
    (policy,) = [
        p
        for p in run.of_type("aws:s3/bucketPolicy:BucketPolicy")
        if p.inputs["bucket"] == bucket.id
    ]
    allowed = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == ALLOW]
    (statement,) = allowed
    assert statement["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    account = statement["Condition"]["StringEquals"]["aws:SourceAccount"]
    logs = f"arn:aws:s3:::{bucket.outputs['bucket']}/loki/2026-01-01"
    for source in (run.outputs["lokiBucketArn"], run.outputs["tempoBucketArn"]):
        context = {"aws:SourceArn": source, "aws:SourceAccount": account}
        assert evaluate({"Statement": allowed}, "s3:PutObject", logs, context) == ALLOW
    for source in (f"arn:aws:s3:::{run.outputs['trailBucketName']}", "arn:aws:s3:::elsewhere"):
        context = {"aws:SourceArn": source, "aws:SourceAccount": account}
        assert evaluate({"Statement": allowed}, "s3:PutObject", logs, context) == IMPLICIT_DENY


# --- the cluster half --------------------------------------------------------------------


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_loki_stores_in_its_bucket_through_its_role_for_the_retention(stack):
    platform = stack_run(stack)
    config = config_of(stack)
    release = release_of(stack, versions.LOKI_CHART)
    assert release.inputs["version"] == versions.LOKI_CHART_VERSION
    assert release.inputs["namespace"] == loki.NAMESPACE
    values = release.inputs["values"]
    assert values["deploymentMode"] == "Monolithic"
    assert values["loki"]["image"]["tag"] == versions.LOKI_VERSION
    storage = values["loki"]["storage"]
    assert storage["type"] == "s3"
    assert storage["bucketNames"] == {"chunks": platform.outputs["lokiBucketName"]}
    assert storage["s3"]["region"] == platform.outputs["primaryRegion"]
    account = values["serviceAccount"]
    assert account["name"] == loki.SERVICE_ACCOUNT
    assert account["annotations"]["eks.amazonaws.com/role-arn"] == platform.outputs["lokiRoleArn"]
    days = config.observability.logs.retention_days
    assert values["loki"]["limits_config"]["retention_period"] == f"{days * 24}h"
    assert values["loki"]["compactor"]["retention_enabled"] is True
    (schema,) = values["loki"]["schemaConfig"]["configs"]
    assert schema["object_store"] == "s3" and schema["store"] == "tsdb"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_loki_servers_replicate_spread_over_zones_with_a_budget(stack):
    config = config_of(stack)
    values = release_of(stack, versions.LOKI_CHART).inputs["values"]
    server = values["singleBinary"]
    replicas = config.observability.logs.replica_count(config.environment)
    assert server["replicas"] == replicas == stack_run(stack).outputs["lokiReplicas"]
    factor = values["loki"]["commonConfig"]["replication_factor"]
    assert factor == (1 if replicas == 1 else 3) and factor <= replicas
    if config.environment == "prod":
        assert replicas >= 3
    assert server["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    zone = [c for c in server["topologySpreadConstraints"] if "zone" in c["topologyKey"]]
    assert zone[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert zone[0]["labelSelector"]["matchLabels"] == loki.SERVER_LABELS
    (anti,) = server["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti["topologyKey"] == "kubernetes.io/hostname"
    assert server["persistence"]["size"] == f"{config.observability.logs.wal_storage_gib}Gi"
    assert server["persistence"]["storageClass"] == "gp3"
    for target in ("write", "read", "backend"):
        assert values[target]["replicas"] == 0


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_tempo_stores_in_its_bucket_through_its_role_for_the_retention(stack):
    platform = stack_run(stack)
    config = config_of(stack)
    values = release_of(stack, versions.TEMPO_CHART).inputs["values"]
    assert values["tempo"]["tag"] == versions.TEMPO_VERSION
    assert "{{" not in values["config"]  # the chart renders it with tpl
    tempo_yaml = yaml.safe_load(values["config"])
    trace = tempo_yaml["storage"]["trace"]
    region = platform.outputs["primaryRegion"]
    assert trace["backend"] == "s3" and "local" not in trace
    assert trace["s3"] == {
        "bucket": platform.outputs["tempoBucketName"],
        "endpoint": f"s3.{region}.amazonaws.com",
        "region": region,
    }
    # No static credentials: the SDK's chain finds the IRSA web identity.
    assert not {"access_key", "secret_key"} & set(trace["s3"])
    account = values["serviceAccount"]
    assert account["name"] == tempo.SERVICE_ACCOUNT
    assert account["annotations"]["eks.amazonaws.com/role-arn"] == platform.outputs["tempoRoleArn"]
    retention = tempo_yaml["compactor"]["compaction"]["block_retention"]
    assert retention == f"{config.observability.traces.retention_days * 24}h"
    assert list(tempo_yaml["distributor"]["receivers"]) == ["otlp"]
    grpc = tempo_yaml["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert grpc.endswith(f":{tempo.OTLP_GRPC_PORT}")
    assert tempo_yaml["server"]["http_listen_port"] == tempo.HTTP_PORT
    assert values["persistence"]["enabled"] is True
    assert trace["wal"]["path"].startswith("/var/tempo/")  # on the volume


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_collector_sends_only_traces_and_only_to_tempo(stack):
    config = config_of(stack)
    values = release_of(stack, versions.OTEL_CHART).inputs["values"]
    assert values["mode"] == "deployment"
    assert values["image"]["tag"] == versions.OTEL_COLLECTOR_VERSION
    assert "config" not in values  # the chart's example is not merged in
    collector = values["alternateConfig"]
    pipelines = collector["service"]["pipelines"]
    assert list(pipelines) == ["traces"]
    (exporter,) = pipelines["traces"]["exporters"]
    assert collector["exporters"][exporter]["endpoint"] == tempo.otlp_endpoint()
    assert tempo.otlp_endpoint().endswith(f":{tempo.OTLP_GRPC_PORT}")
    assert pipelines["traces"]["receivers"] == ["otlp"] == list(collector["receivers"])
    assert pipelines["traces"]["processors"][0] == "memory_limiter"
    # Every component a pipeline names is defined, and the probes' health check exists.
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipelines["traces"][kind]) <= set(collector[kind])
    assert collector["service"]["extensions"] == ["health_check"]
    probe_port = chart_default(versions.OTEL_CHART)["livenessProbe"]["httpGet"]["port"]
    assert collector["extensions"]["health_check"]["endpoint"].endswith(f":{probe_port}")
    replicas = values["replicaCount"]
    assert replicas == (1 if config.environment == "dev" else 2)
    assert values["podDisruptionBudget"]["enabled"] is (replicas > 1)


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
@pytest.mark.parametrize(
    "chart",
    [
        versions.LOKI_CHART,
        versions.TEMPO_CHART,
        versions.OTEL_CHART,
        versions.ALLOY_CHART,
    ],
)
def test_every_piece_runs_at_platform_priority_with_memory_limits(stack, chart):
    values = release_of(stack, chart).inputs["values"]
    spec = {
        versions.LOKI_CHART: lambda v: (v["singleBinary"], v["singleBinary"]),
        versions.TEMPO_CHART: lambda v: (v, v["tempo"]),
        versions.OTEL_CHART: lambda v: (v, v),
        versions.ALLOY_CHART: lambda v: (v["controller"], v["alloy"]),
    }[chart]
    pod, container = spec(values)
    assert pod["priorityClassName"] == "platform-critical"
    containers = [container["resources"]]
    if chart == versions.ALLOY_CHART:
        containers.append(values["configReloader"]["resources"])
    for resources in containers:
        assert resources["requests"]["memory"] == resources["limits"]["memory"]
        assert "cpu" in resources["limits"]
    # Tolerates the system nodes' taint (the agent tolerates every taint).
    assert any(
        t.get("key") == "CriticalAddonsOnly" or t == {"operator": "Exists"}
        for t in pod["tolerations"]
    )


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_query_urls_name_the_services_the_charts_make(stack):
    outputs = stack_run(f"{stack}-cluster").outputs
    # fullnameOverride names every object, the Service included, after the release.
    for addon, chart, url in (
        (loki, versions.LOKI_CHART, outputs["lokiUrl"]),
        (tempo, versions.TEMPO_CHART, outputs["tempoUrl"]),
        (otel_collector, versions.OTEL_CHART, outputs["otlpEndpoint"]),
    ):
        release = release_of(stack, chart)
        assert release.inputs["name"] == addon.RELEASE
        assert release.inputs["values"]["fullnameOverride"] == release.inputs["name"]
        assert url.startswith(f"http://{release.inputs['name']}.{release.inputs['namespace']}.svc")
    assert outputs["lokiUrl"].endswith(f":{loki.HTTP_PORT}")
    assert outputs["tempoUrl"].endswith(f":{tempo.HTTP_PORT}")


# --- the log agent's labels --------------------------------------------------------------

#: A discovered pod of a Deployment, with the metadata discovery.kubernetes gives it.
POD = {
    "__meta_kubernetes_namespace": "checkout",
    "__meta_kubernetes_pod_name": "checkout-7d9f8b6c5d-x2x9q",
    "__meta_kubernetes_pod_uid": "0b7c2d9e-1111-2222-3333-444455556666",
    "__meta_kubernetes_pod_node_name": "ip-10-30-1-17.ec2.internal",
    "__meta_kubernetes_pod_ip": "10.30.1.42",
    "__meta_kubernetes_pod_container_name": "app",
    "__meta_kubernetes_pod_label_app_kubernetes_io_name": "checkout",
    "__meta_kubernetes_pod_label_pod_template_hash": "7d9f8b6c5d",
    "__meta_kubernetes_pod_label_version": "1.4.2",
    "__meta_kubernetes_pod_annotation_trace_id": "4bf92f3577b34da6",
}


def agent_config(stack: str) -> list:
    values = release_of(stack, versions.ALLOY_CHART).inputs["values"]
    return parse(values["alloy"]["configMap"]["content"])


def stream_labels(blocks: list, target: dict[str, str]) -> dict[str, str]:
    """The labels a log line of `target` reaches Loki with: the relabelling rules, then
    only what the processing stage keeps, then the writer's external labels."""
    rules = component(blocks, "discovery.relabel", "pods").children("rule")
    labels = {k: v for k, v in relabel(rules, target).items() if not k.startswith("__")}
    process = component(blocks, "loki.process", "labels")
    for stage in process.blocks:
        assert stage.name == "stage.label_keep", f"unexpected stage {stage.name}"
        labels = {k: v for k, v in labels.items() if k in stage.attributes["values"]}
    writer = component(blocks, "loki.write", "loki")
    return {**labels, **writer.attributes["external_labels"]}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_log_stream_is_labelled_app_env_region_deployment_id_and_nothing_else(stack):
    platform = stack_run(stack)
    blocks = agent_config(stack)
    labels = stream_labels(blocks, POD)
    assert set(labels) == set(alloy.LOG_LABELS) == {"app", "env", "region", "deployment_id"}
    assert labels == {
        "app": "checkout",
        "deployment_id": "7d9f8b6c5d",
        "env": platform.outputs["environment"],
        "region": platform.outputs["primaryRegion"],
    }
    # Nothing high-cardinality leaks into a label value either.
    for value in (POD["__meta_kubernetes_pod_name"], POD["__meta_kubernetes_pod_uid"]):
        assert value not in labels.values()


@pytest.mark.parametrize(
    ("extra", "app", "deployment_id"),
    [
        ({}, "checkout", "7d9f8b6c5d"),
        # No app.kubernetes.io/name: the `app` label, then the container's name.
        ({"__meta_kubernetes_pod_label_app_kubernetes_io_name": ""}, "app", "7d9f8b6c5d"),
        (
            {
                "__meta_kubernetes_pod_label_app_kubernetes_io_name": "",
                "__meta_kubernetes_pod_label_app": "legacy",
            },
            "legacy",
            "7d9f8b6c5d",
        ),
        # A StatefulSet's pod: its revision.
        (
            {
                "__meta_kubernetes_pod_label_pod_template_hash": "",
                "__meta_kubernetes_pod_label_controller_revision_hash": "vault-5c8d",
            },
            "checkout",
            "vault-5c8d",
        ),
    ],
)
def test_app_and_deployment_id_fall_back_in_order(extra, app, deployment_id):
    labels = stream_labels(agent_config("dev"), {**POD, **extra})
    assert labels["app"] == app and labels["deployment_id"] == deployment_id


def test_a_bare_pod_has_no_deployment_id_rather_than_an_empty_one():
    bare = {k: v for k, v in POD.items() if "template_hash" not in k}
    labels = stream_labels(agent_config("dev"), bare)
    assert "deployment_id" not in labels and labels["app"] == "checkout"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_agent_reads_its_own_nodes_pods_and_writes_to_loki(stack):
    blocks = agent_config(stack)
    discovery = component(blocks, "discovery.kubernetes", "pods")
    (selector,) = discovery.children("selectors")
    assert isinstance(selector.attributes["field"], Expr)
    assert f'sys.env ( "{alloy.NODE_NAME_ENV}" )' in selector.attributes["field"].text
    values = release_of(stack, versions.ALLOY_CHART).inputs["values"]
    (env,) = values["alloy"]["extraEnv"]
    assert env["name"] == alloy.NODE_NAME_ENV
    assert env["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    source = component(blocks, "loki.source.kubernetes", "pods")
    assert source.attributes["targets"] == Expr("discovery.relabel.pods.output")
    (endpoint,) = component(blocks, "loki.write", "loki").children("endpoint")
    assert endpoint.attributes["url"] == loki.push_url()
    # No hostPath: the agent reads logs through the API (baseline Pod Security).
    assert values["alloy"].get("mounts") is None
    assert values["controller"]["type"] == "daemonset"


def test_the_parser_refuses_what_alloy_would():
    with pytest.raises(SyntaxError):
        parse('loki.write "x" {\n  endpoint { url = "http://a" }\n')
    with pytest.raises(SyntaxError):
        parse('loki.write "x" { url = http://a }')
    # ... and a label added by a rule would show: the label test can fail.
    blocks = parse(
        'discovery.relabel "pods" {\n'
        '  rule {\n    source_labels = ["__meta_kubernetes_pod_name"]\n'
        '    target_label = "pod"\n  }\n}\n'
    )
    rules = component(blocks, "discovery.relabel", "pods").children("rule")
    assert relabel(rules, POD)["pod"] == POD["__meta_kubernetes_pod_name"]


def pod_fragments(chart: str, values: dict) -> tuple[dict, dict]:
    """The pod-level and container-level Kubernetes fields a release's values carry."""
    if chart == versions.LOKI_CHART:
        pod = values["singleBinary"]
        return {k: pod[k] for k in ("affinity", "tolerations", "topologySpreadConstraints")}, {
            "resources": pod["resources"]
        }
    if chart == versions.TEMPO_CHART:
        return {k: values[k] for k in ("affinity", "tolerations")}, {
            "resources": values["tempo"]["resources"]
        }
    if chart == versions.OTEL_CHART:
        return {k: values[k] for k in ("affinity", "tolerations", "topologySpreadConstraints")}, {
            "resources": values["resources"]
        }
    return {"tolerations": values["controller"]["tolerations"]}, {
        "resources": values["alloy"]["resources"],
        "env": values["alloy"]["extraEnv"],
    }


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
@pytest.mark.parametrize(
    "chart",
    [
        versions.LOKI_CHART,
        versions.TEMPO_CHART,
        versions.OTEL_CHART,
        versions.ALLOY_CHART,
    ],
)
def test_the_kubernetes_fields_in_the_values_are_valid_kubernetes(stack, chart):
    """The charts copy these fields into their pod templates as given: each is checked,
    strictly, as part of a Pod of the pinned Kubernetes version."""
    import kubernetes_validate

    values = release_of(stack, chart).inputs["values"]
    pod, container = pod_fragments(chart, values)
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "check", "namespace": loki.NAMESPACE},
        "spec": {
            **pod,
            "priorityClassName": "platform-critical",
            "containers": [{"name": "main", "image": "example/image:1", **container}],
        },
    }
    kubernetes_validate.validate(manifest, versions.KUBERNETES_VERSION, strict=True)
    broken = {**manifest, "spec": {**manifest["spec"], "tolerations": [{"operatr": "Exists"}]}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, versions.KUBERNETES_VERSION, strict=True)
