"""The EKS cluster each shipped stack would create, asserted on the recorded graph."""

from __future__ import annotations

import json
import re

import kubernetes_validate
import pulumi
import pulumi_aws as aws
import pytest

from ballast.offline import run_component
from ballast.offline.mocks import DEFAULT_ACCOUNT_ID
from components import versions
from components.cluster import Cluster, ClusterArgs
from components.cluster.addons.autoscaler import NAMESPACE as AUTOSCALER_NAMESPACE
from components.cluster.addons.autoscaler import policy_document as autoscaler_policy_document
from components.cluster.control_plane import CONTROL_PLANE_LOG_TYPES
from components.cluster.nodes import IMDS_HOP_LIMIT
from components.config import (
    ClusterConfig,
    NodeGroupConfig,
    TaintConfig,
)
from components.iam import RoleFactory
from tests.conftest import (
    SHIPPED_STACKS,
    account_of,
    aws_context,
    expected_zones,
    name_prefix,
    platform_boundary,
    platform_config,
    stack_run,
)
from tests.iam_eval import ALLOW, IMPLICIT_DENY, evaluate
from tests.tokens import (
    ACCESS_ENTRY,
    ACCESS_POLICY,
    ATTACHMENT,
    EKS_ADDON,
    EKS_CLUSTER,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    OIDC,
    ROLE,
    ROLE_POLICY,
    SUBNET,
)

K8S_PROVIDER = "pulumi:providers:kubernetes"
#: The offline engine's account, for the stand-alone component runs (their providers
#: name no account).
ACCOUNT = DEFAULT_ACCOUNT_ID
SYSTEM_TAINT = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}


def zones_of(stack: str) -> list[str]:
    """The zones a shipped stack's primary network spans (test_network.py checks it)."""
    config = platform_config(stack)
    return expected_zones(config.primary_region, config.network)


#: Service accounts that get AWS access through IRSA, by role name suffix.
IRSA = {
    "-vpc-cni": "system:serviceaccount:kube-system:aws-node",
    "-ebs-csi": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
    "-autoscaler": f"system:serviceaccount:{AUTOSCALER_NAMESPACE}:cluster-autoscaler",
}


def of_cluster(run, type_: str) -> list:
    return [r for r in run.resources if r.type == type_ and "ballast:components:Cluster" in r.urn]


def the_cluster(run):
    (cluster,) = run.of_type(EKS_CLUSTER)
    return cluster


def primary_zones_by_subnet(run) -> dict[str, str]:
    return {s.id: s.inputs["availabilityZone"] for s in run.of_type(SUBNET)}


def names(run, urns) -> list[str]:
    by_urn = run.by_urn()
    return sorted(by_urn[u].name for u in urns)


def manifest(record) -> dict:
    """A recorded Kubernetes resource as the manifest the provider would apply."""
    return {k: v for k, v in record.inputs.items() if not k.startswith("__")}


# --- control plane -------------------------------------------------------------------


def test_private_subnets_and_version(shipped):
    cluster = the_cluster(shipped)
    private = {
        s.id
        for s in shipped.of_type(SUBNET)
        if s.inputs["tags"].get("ballast.io/subnet-tier") == "private"
        and s.inputs["availabilityZone"] in zones_of(shipped.stack)  # not the DR network's
    }
    assert len(private) == len(zones_of(shipped.stack))
    assert set(cluster.inputs["vpcConfig"]["subnetIds"]) == private
    assert cluster.inputs["version"] == versions.KUBERNETES_VERSION
    assert cluster.inputs["bootstrapSelfManagedAddons"] is False


def test_the_endpoint_is_private_or_public_only_to_the_allowlist(shipped):
    """Always private; public only when configured, and then only to the configured
    networks (never 0.0.0.0/0)."""
    settings = platform_config(shipped.stack).cluster
    vpc = the_cluster(shipped).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is settings.endpoint_public_access
    if settings.endpoint_public_access:
        assert vpc["publicAccessCidrs"] == list(settings.public_access_cidrs)
        assert "0.0.0.0/0" not in vpc["publicAccessCidrs"]
    else:
        assert "publicAccessCidrs" not in vpc


def test_secrets_are_encrypted_with_a_rotating_key(shipped):
    cluster = the_cluster(shipped)
    (key,) = of_cluster(shipped, "aws:kms/key:Key")
    (config,) = [cluster.inputs["encryptionConfig"]]
    assert config == {"resources": ["secrets"], "provider": {"keyArn": key.outputs["arn"]}}
    assert key.inputs["enableKeyRotation"] is True


def test_every_control_plane_log_type_goes_to_a_precreated_group(shipped):
    cluster = the_cluster(shipped)
    assert sorted(cluster.inputs["enabledClusterLogTypes"]) == sorted(CONTROL_PLANE_LOG_TYPES)
    assert len(CONTROL_PLANE_LOG_TYPES) == 5
    (group,) = of_cluster(shipped, "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    expected_days = {"dev": 7, "staging": 30, "prod": 365}[shipped.stack]
    assert group.inputs["retentionInDays"] == expected_days
    (key,) = of_cluster(shipped, "aws:kms/key:Key")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    # Created before the cluster (else EKS makes one that never expires).
    assert group.urn in cluster.depends_on
    statement = json.loads(key.inputs["policy"])["Statement"][1]
    assert statement["Condition"]["ArnEquals"] == {
        "kms:EncryptionContext:aws:logs:arn": group.outputs["arn"]
    }


def test_access_entries_and_no_aws_auth(shipped):
    cluster = the_cluster(shipped)
    assert cluster.inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    config_maps = [r for r in shipped.resources if r.type == "kubernetes:core/v1:ConfigMap"]
    assert not [c for c in config_maps if c.inputs["metadata"]["name"] == "aws-auth"]
    # The CI apply role deploys the cluster layer (admin); the CI plan role previews it
    # (view only, no Secrets). Nobody else is in unless configured.
    entries = {e.inputs["principalArn"]: e for e in of_cluster(shipped, ACCESS_ENTRY)}
    policies = {
        a.inputs["principalArn"]: a.inputs["policyArn"] for a in of_cluster(shipped, ACCESS_POLICY)
    }
    apply, plan = shipped.outputs["ciApplyRoleArn"], shipped.outputs["ciPlanRoleArn"]
    assert set(entries) == set(policies) == {apply, plan}
    assert {e.inputs["type"] for e in entries.values()} == {"STANDARD"}
    assert policies[apply] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert policies[plan] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    assert {a.inputs["accessScope"]["type"] for a in of_cluster(shipped, ACCESS_POLICY)} == {
        "cluster"
    }


def test_prod_protects_the_cluster_and_its_key():
    for stack in SHIPPED_STACKS:
        run = stack_run(stack)
        prod = stack == "prod"
        cluster = the_cluster(run)
        (key,) = of_cluster(run, "aws:kms/key:Key")
        (group,) = of_cluster(run, "aws:cloudwatch/logGroup:LogGroup")
        assert cluster.inputs["deletionProtection"] is prod
        assert (cluster.protect, key.protect, group.protect) == (prod, prod, prod), stack


# --- identity ------------------------------------------------------------------------


def attached(run, role) -> list[str]:
    return sorted(
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in run.of_type(ATTACHMENT)
        if a.inputs["role"] == role.outputs["name"]
    )


def role_named(run, suffix: str):
    (role,) = [r for r in of_cluster(run, ROLE) if r.name.endswith(suffix)]
    return role


def test_cluster_and_node_roles_have_only_the_policies_eks_needs(shipped):
    cluster_role = role_named(shipped, "-eks-cluster")
    node_role = role_named(shipped, "-eks-node")
    assert attached(shipped, cluster_role) == ["AmazonEKSClusterPolicy"]
    assert attached(shipped, node_role) == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonSSMManagedInstanceCore",
    ]
    for role, service in ((cluster_role, "eks.amazonaws.com"), (node_role, "ec2.amazonaws.com")):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": service}
        assert statement["Action"] == "sts:AssumeRole"
    boundary = platform_boundary(shipped)
    for role in of_cluster(shipped, ROLE):
        assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"], role.name
    assert the_cluster(shipped).inputs["roleArn"] == cluster_role.outputs["arn"]


def test_every_irsa_trust_pins_sub_and_aud(shipped):
    (provider,) = of_cluster(shipped, OIDC)
    cluster = the_cluster(shipped)
    issuer = cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
    assert provider.inputs["url"] == issuer
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    host = issuer.removeprefix("https://")
    federated = [
        r
        for r in of_cluster(shipped, ROLE)
        if "Federated" in json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]
    ]
    assert sorted(r.name.rsplit("-eks", 1)[1] for r in federated) == sorted(IRSA)
    for role in federated:
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Federated": provider.outputs["arn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        subject = IRSA["-" + role.name.rsplit("-eks-", 1)[1]]
        assert statement["Condition"] == {
            "StringEquals": {f"{host}:sub": subject, f"{host}:aud": "sts.amazonaws.com"}
        }


def test_addons_that_call_aws_use_their_irsa_role(shipped):
    addons = {a.inputs["addonName"]: a for a in of_cluster(shipped, EKS_ADDON)}
    assert (
        addons["vpc-cni"].inputs["serviceAccountRoleArn"]
        == (role_named(shipped, "-eks-vpc-cni").outputs["arn"])
    )
    assert (
        addons["aws-ebs-csi-driver"].inputs["serviceAccountRoleArn"]
        == (role_named(shipped, "-eks-ebs-csi").outputs["arn"])
    )
    assert attached(shipped, role_named(shipped, "-eks-vpc-cni")) == ["AmazonEKS_CNI_Policy"]
    assert attached(shipped, role_named(shipped, "-eks-ebs-csi")) == ["AmazonEBSCSIDriverPolicy"]
    for name in ("coredns", "kube-proxy", "eks-pod-identity-agent"):
        assert "serviceAccountRoleArn" not in addons[name].inputs


# --- nodes ---------------------------------------------------------------------------


def node_groups(run) -> dict[str, object]:
    return {g.name.rsplit("-eks-", 1)[1]: g for g in run.of_type(NODE_GROUP)}


def test_node_groups_cover_every_zone_of_the_network(shipped):
    zone_of = primary_zones_by_subnet(shipped)
    zones = zones_of(shipped.stack)
    assert shipped.outputs["availabilityZones"] == zones
    groups = node_groups(shipped)
    assert "system" in groups and len(groups) >= 2
    for name, group in groups.items():
        covered = sorted(zone_of[s] for s in group.inputs["subnetIds"])
        assert covered == zones, name


def test_the_system_group_is_tainted_for_platform_add_ons(shipped):
    groups = node_groups(shipped)
    system = groups.pop("system")
    assert system.inputs["taints"] == [SYSTEM_TAINT]
    assert system.inputs["labels"] == {"ballast.io/node-group": "system"}
    assert system.inputs["capacityType"] == "ON_DEMAND"
    assert system.inputs["updateConfig"] == {"maxUnavailable": 1}
    for name, group in groups.items():
        assert SYSTEM_TAINT not in group.inputs.get("taints", []), name
        assert group.inputs["labels"]["ballast.io/node-group"] == name


def test_desired_size_belongs_to_the_autoscaler(shipped):
    for group in shipped.of_type(NODE_GROUP):
        assert group.ignore_changes == ("scalingConfig.desiredSize",), group.name
        scaling = group.inputs["scalingConfig"]
        assert scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"]


def test_shipped_sizing_per_environment():
    dev, prod = node_groups(stack_run("dev")), node_groups(stack_run("prod"))
    assert dev["general"].inputs["capacityType"] == "SPOT"
    assert len(dev["general"].inputs["instanceTypes"]) >= 2
    assert dev["system"].inputs["scalingConfig"]["minSize"] == 2
    assert prod["system"].inputs["scalingConfig"]["minSize"] == 3
    assert prod["general"].inputs["capacityType"] == "ON_DEMAND"
    assert prod["general"].inputs["scalingConfig"] == {
        "minSize": 3,
        "maxSize": 30,
        "desiredSize": 6,
    }
    assert prod["batch"].inputs["taints"] == [
        {"key": "ballast.io/capacity", "value": "spot", "effect": "NO_SCHEDULE"}
    ]
    for group in prod.values():
        assert not any(t.startswith(("t2.", "t3", "t4g.")) for t in group.inputs["instanceTypes"])


def test_one_launch_template_enforces_imdsv2_and_encrypted_gp3(shipped):
    (template,) = shipped.of_type(LAUNCH_TEMPLATE)
    assert template.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": IMDS_HOP_LIMIT,
        "instanceMetadataTags": "disabled",
    }
    assert IMDS_HOP_LIMIT == 1
    (device,) = template.inputs["blockDeviceMappings"]
    assert device["ebs"]["volumeType"] == "gp3"
    assert device["ebs"]["encrypted"] == "true"
    assert device["ebs"]["volumeSize"] == {"prod": 100}.get(shipped.stack, 50)
    launched = {t["resourceType"]: t["tags"] for t in template.inputs["tagSpecifications"]}
    assert set(launched) == {"instance", "volume", "network-interface"}
    assert launched["instance"]["environment"] == shipped.stack
    for group in shipped.of_type(NODE_GROUP):
        assert group.inputs["launchTemplate"] == {"id": template.id, "version": "1"}
        assert "remoteAccess" not in group.inputs
        assert group.inputs["amiType"] == "AL2023_x86_64_STANDARD"
        assert group.inputs["version"] == versions.KUBERNETES_VERSION


# --- add-ons -------------------------------------------------------------------------


def test_addons_are_pinned_and_overwrite_conflicts(shipped):
    addons = {a.inputs["addonName"]: a for a in of_cluster(shipped, EKS_ADDON)}
    pinned = versions.addon_versions(versions.KUBERNETES_VERSION)
    assert (
        set(addons)
        == set(pinned)
        == {
            "vpc-cni",
            "coredns",
            "kube-proxy",
            "aws-ebs-csi-driver",
            "eks-pod-identity-agent",
        }
    )
    for name, addon in addons.items():
        assert addon.inputs["addonVersion"] == pinned[name]
        assert addon.inputs["resolveConflictsOnUpdate"] == "OVERWRITE"
        assert addon.inputs["resolveConflictsOnCreate"] == "OVERWRITE"


def test_networking_addons_come_before_the_nodes_and_the_rest_after(shipped):
    addons = {a.inputs["addonName"]: a for a in of_cluster(shipped, EKS_ADDON)}
    groups = shipped.of_type(NODE_GROUP)
    for group in groups:
        for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert addons[name].urn in group.depends_on, (group.name, name)
        node_policies = [a.urn for a in shipped.of_type(ATTACHMENT) if "-eks-node-" in a.name]
        assert set(node_policies) <= set(group.depends_on)
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert {g.urn for g in groups} <= set(addons[name].depends_on), name


def test_coredns_tolerates_the_system_taint_spreads_and_has_a_pdb(shipped):
    (coredns,) = [a for a in of_cluster(shipped, EKS_ADDON) if a.inputs["addonName"] == "coredns"]
    values = json.loads(coredns.inputs["configurationValues"])
    assert values["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
    ]
    (spread,) = values["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert values["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    assert values["replicaCount"] == max(2, len(zones_of(shipped.stack)))
    # The pod-spec fragments are valid Kubernetes.
    pod_spec = {
        "containers": [{"name": "coredns", "image": "coredns:1"}],
        "tolerations": values["tolerations"],
        "topologySpreadConstraints": values["topologySpreadConstraints"],
        "affinity": values["affinity"],
    }
    kubernetes_validate.validate(deployment(pod_spec, {"k8s-app": "kube-dns"}), "1.35", strict=True)


def deployment(pod_spec: dict, labels: dict) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "probe", "namespace": "kube-system"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


# --- Kubernetes schemas ----------------------------------------------------------


def test_strict_validation_catches_a_misspelt_field():
    bad = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "defaults", "namespace": "x"},
        "spec": {"limits": [{"type": "Container", "defaultRequests": {"cpu": "1"}}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, versions.KUBERNETES_VERSION, strict=True)


def test_kubernetes_validate_has_the_pinned_version():
    from kubernetes_validate import utils

    assert versions.KUBERNETES_VERSION in {utils.major_minor(v) for v in utils.all_versions()}


# --- autoscaler ----------------------------------------------------------------------


def test_autoscaler_scales_only_this_clusters_groups(shipped):
    account, region = account_of(shipped.stack), platform_config(shipped.stack).primary_region
    cluster = the_cluster(shipped).inputs["name"]
    (policy,) = [
        p
        for p in of_cluster(shipped, ROLE_POLICY)
        if p.name.endswith("-autoscaler-scale-this-cluster")
    ]
    document = json.loads(policy.inputs["policy"])
    assert document == autoscaler_policy_document(
        partition="aws", region=region, account_id=account, cluster=cluster
    )
    asg = f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:1234:autoScalingGroupName/eks-x"
    ours = {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}
    theirs = {"aws:ResourceTag/k8s.io/cluster-autoscaler/other": "owned"}
    assert evaluate(document, "autoscaling:SetDesiredCapacity", asg, ours) == ALLOW
    assert evaluate(document, "autoscaling:SetDesiredCapacity", asg, theirs) == IMPLICIT_DENY
    assert (
        evaluate(document, "autoscaling:TerminateInstanceInAutoScalingGroup", asg, {})
        == IMPLICIT_DENY
    )
    assert evaluate(document, "autoscaling:UpdateAutoScalingGroup", asg, ours) == IMPLICIT_DENY
    assert evaluate(document, "autoscaling:DescribeAutoScalingGroups") == ALLOW
    own_group = f"arn:aws:eks:{region}:{account}:nodegroup/{cluster}/general/abc"
    other_group = f"arn:aws:eks:{region}:{account}:nodegroup/other/general/abc"
    assert evaluate(document, "eks:DescribeNodegroup", own_group) == ALLOW
    assert evaluate(document, "eks:DescribeNodegroup", other_group) == IMPLICIT_DENY


# --- versions ------------------------------------------------------------------------


def test_versions_are_pinned_consistently():
    assert versions.KUBERNETES_VERSION in versions.SUPPORTED_KUBERNETES_VERSIONS
    for kubernetes, addons in versions.ADDON_VERSIONS.items():
        for addon, version in addons.items():
            assert re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", version), (addon, version)
        assert addons["kube-proxy"].startswith(f"v{kubernetes}.")
        assert versions.cluster_autoscaler_image_tag(kubernetes).startswith(f"v{kubernetes}.")
    with pytest.raises(ValueError, match=r"no add-on versions are pinned for Kubernetes 1\.20"):
        versions.addon_versions("1.20")


# --- the component on its own ----------------------------------------------------------

BOUNDARY = "arn:aws:iam::123456789012:policy/ballast-test-permission-boundary"
SUBNETS = ["subnet-aaa", "subnet-bbb", "subnet-ccc"]
AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


GENERAL = NodeGroupConfig(name="general", instance_types=("m7i.large",), min_size=1, max_size=3)


def component(
    *,
    node_groups=(GENERAL,),
    read_only_principal_arns=(),
    availability_zones=AZS,
    bootstrap_admin_arn=None,
):
    settings = ClusterConfig(
        admin_principal_arns=("arn:aws:iam::123456789012:role/platform-admins",),
        read_only_principal_arns=read_only_principal_arns,
        bootstrap_admin_arn=bootstrap_admin_arn,
        node_groups=node_groups,
    )

    def program():
        provider = aws.Provider("eu", region="eu-west-1")
        Cluster(
            "c",
            ClusterArgs(
                context=aws_context(provider, "eu-west-1"),
                roles=RoleFactory(role_prefix="ballast-test-", boundary_arn=BOUNDARY),
                settings=settings,
                private_subnet_ids=SUBNETS,
                availability_zones=availability_zones,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    return program


def test_per_az_groups_one_per_zone_for_zonal_volumes():
    stateful = NodeGroupConfig(
        name="stateful",
        instance_types=("r7g.large", "r6g.large"),
        capacity_type="spot",
        min_size=1,
        max_size=2,
        labels={"workload": "stateful"},
        taints=(TaintConfig(key="workload", value="stateful", effect="NoExecute"),),
        per_az=True,
    )
    run = run_component(component(node_groups=(stateful,)))
    groups = {g.name: g for g in run.of_type(NODE_GROUP)}
    assert sorted(groups) == [
        "c-stateful-eu-west-1a",
        "c-stateful-eu-west-1b",
        "c-stateful-eu-west-1c",
        "c-system",
    ]
    for zone, subnet in zip(AZS, SUBNETS, strict=True):
        group = groups[f"c-stateful-{zone}"]
        assert group.inputs["subnetIds"] == [subnet]
        assert group.inputs["amiType"] == "AL2023_ARM_64_STANDARD"
        assert group.inputs["capacityType"] == "SPOT"
        assert group.inputs["scalingConfig"] == {"minSize": 1, "maxSize": 2, "desiredSize": 1}
        assert group.inputs["taints"] == [
            {"key": "workload", "value": "stateful", "effect": "NO_EXECUTE"}
        ]
        assert group.inputs["labels"] == {
            "workload": "stateful",
            "ballast.io/node-group": "stateful",
        }
        assert group.ignore_changes == ("scalingConfig.desiredSize",)
        # Marked as one set, so the guardrails check the set's zones, not each group's.
        assert group.inputs["tags"]["ballast.io/node-group-set"] == "c-stateful"
    assert groups["c-system"].inputs["subnetIds"] == SUBNETS
    assert "ballast.io/node-group-set" not in groups["c-system"].inputs["tags"]
    # Without CI, the configured admins are the way in; view-only users get no Secrets.
    entries = {e.name: e.inputs["principalArn"] for e in run.of_type(ACCESS_ENTRY)}
    assert entries == {"c-admin-platform-admins": "arn:aws:iam::123456789012:role/platform-admins"}


def test_the_bootstrap_admin_is_an_admin_entry_of_its_own_and_only_when_configured():
    admin = "arn:aws:iam::123456789012:role/Administrator"
    run = run_component(component(bootstrap_admin_arn=admin))
    entries = {e.name: e.inputs["principalArn"] for e in run.of_type(ACCESS_ENTRY)}
    assert entries["c-bootstrap-admin"] == admin
    policies = {a.inputs["principalArn"]: a.inputs["policyArn"] for a in run.of_type(ACCESS_POLICY)}
    assert policies[admin].endswith("/AmazonEKSClusterAdminPolicy")
    without = run_component(component())
    assert "c-bootstrap-admin" not in {e.name for e in without.of_type(ACCESS_ENTRY)}


def test_read_only_principals_get_the_view_policy():
    viewer = "arn:aws:iam::123456789012:role/support/Auditors"
    run = run_component(component(read_only_principal_arns=(viewer,)))
    policies = {a.inputs["principalArn"]: a.inputs["policyArn"] for a in run.of_type(ACCESS_POLICY)}
    assert policies[viewer] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # What the config cannot know: the network it is handed (the config refuses the
        # rest earlier).
        ({"availability_zones": ["eu-west-1a"]}, "c: EKS needs subnets in at least two zones"),
    ],
)
def test_unsafe_arguments_are_refused(changes, message):
    from ballast.offline import ProgramError

    with pytest.raises(ProgramError, match=re.escape(message)):
        run_component(component(**changes))


def test_only_passed_role_services_are_trusted_without_source_conditions():
    """EKS, EC2 and CloudTrail (its CloudWatch Logs role) send no aws:SourceAccount, and
    S3's replication trust is documented without one, so their trust carries none; every
    other service trust still must
    (components/iam/trusts.py, PASSED_ROLE_SERVICES)."""
    from components.iam.trusts import PASSED_ROLE_SERVICES, Trust, _check_statement

    assert PASSED_ROLE_SERVICES == (
        "cloudtrail.amazonaws.com",
        "ec2.amazonaws.com",
        "eks.amazonaws.com",
        "s3.amazonaws.com",
    )
    with pytest.raises(ValueError, match="sends aws:SourceAccount"):
        Trust.passed_role("lambda.amazonaws.com")
    for service in PASSED_ROLE_SERVICES:
        assert _check_statement(_unconditioned(service)) == _unconditioned(service)
    with pytest.raises(ValueError, match="needs an aws:SourceAccount condition"):
        _check_statement(_unconditioned("lambda.amazonaws.com"))
    with pytest.raises(ValueError, match="needs an aws:SourceAccount condition"):
        _check_statement(
            {**_unconditioned("eks.amazonaws.com"), "Condition": {"Bool": {"x": "true"}}}
        )


def _unconditioned(service: str) -> dict:
    return {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}


def test_stack_outputs_name_the_cluster(shipped):
    cluster = the_cluster(shipped)
    (provider,) = of_cluster(shipped, OIDC)
    assert shipped.outputs["clusterName"] == cluster.inputs["name"] == f"{name_prefix(shipped)}eks"
    assert shipped.outputs["clusterEndpoint"] == cluster.outputs["endpoint"]
    assert shipped.outputs["clusterOidcProviderArn"] == provider.outputs["arn"]
    assert shipped.outputs["clusterNodeRoleArn"] == role_named(shipped, "-eks-node").outputs["arn"]


def test_nodes_are_fault_injection_targets(shipped):
    """The FIS node experiment only terminates instances tagged as allowed targets."""
    (template,) = shipped.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    launched = {spec["resourceType"]: spec["tags"] for spec in template.inputs["tagSpecifications"]}
    assert launched["instance"]["ballast.io/fault-injection"] == "allowed"
