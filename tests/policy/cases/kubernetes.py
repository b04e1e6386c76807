"""Kubernetes workloads declared with the Pulumi Kubernetes provider, through the
analyzer protocol."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from tests.policy.casebook import Case

GOOD_IMAGE = "ghcr.io/acme/api:sha-4f2c9e1a7b"
DIGEST = "sha256:" + "ab" * 32


def container(**overrides) -> dict:
    spec = {
        "name": "api",
        "image": GOOD_IMAGE,
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "liveness_probe": {"http_get": {"path": "/healthz", "port": 8080}},
        "readiness_probe": {"http_get": {"path": "/ready", "port": 8080}},
        "security_context": {"allow_privilege_escalation": False, "run_as_non_root": True},
    }
    spec.update(overrides)
    return {k: v for k, v in spec.items() if v is not None}


def deployment(replicas: int = 2, pdb: str | None = "match", **container_overrides):
    def build(env, name):
        labels = {"app": name}
        opts = pulumi.ResourceOptions(provider=env.k8s)
        k8s.apps.v1.Deployment(
            name,
            metadata={"name": name, "namespace": "apps"},
            spec={
                "replicas": replicas,
                "selector": {"match_labels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "security_context": {"run_as_non_root": True, "run_as_user": 10001},
                        "containers": [container(**container_overrides)],
                    },
                },
            },
            opts=opts,
        )
        if pdb:
            selector = labels if pdb == "match" else {"app": "someone-else"}
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata={"name": name, "namespace": "apps"},
                spec={"min_available": 1, "selector": {"match_labels": selector}},
                opts=opts,
            )

    return build


def job(env, name):
    probeless = container(liveness_probe=None, readiness_probe=None)
    k8s.batch.v1.Job(
        name,
        metadata={"name": name, "namespace": "apps"},
        spec={
            "template": {
                "spec": {
                    "restart_policy": "Never",
                    "security_context": {"run_as_non_root": True},
                    "containers": [probeless],
                }
            }
        },
        opts=pulumi.ResourceOptions(provider=env.k8s),
    )


def pod_template(name: str, *, probes: bool = True, pod=None, **container_overrides) -> dict:
    if not probes:
        container_overrides = {
            "liveness_probe": None,
            "readiness_probe": None,
            **container_overrides,
        }
    return {
        "metadata": {"labels": {"app": name}},
        "spec": {
            "security_context": {"run_as_non_root": True, "run_as_user": 10001},
            "containers": [container(**container_overrides)],
            **(pod or {}),
        },
    }


def daemonset(namespace: str = "apps", pod=None, **container_overrides):
    """A node agent, through the older apps/v1beta2 token."""

    def build(env, name):
        k8s.apps.v1beta2.DaemonSet(
            name,
            metadata={"name": name, "namespace": namespace},
            spec={
                "selector": {"match_labels": {"app": name}},
                "template": pod_template(name, pod=pod, **container_overrides),
            },
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


def replication_controller(**container_overrides):
    def build(env, name):
        k8s.core.v1.ReplicationController(
            name,
            metadata={"name": name, "namespace": "apps"},
            spec={
                "replicas": 1,
                "selector": {"app": name},
                "template": pod_template(name, **container_overrides),
            },
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


def cronjob(pod=None, **container_overrides):
    """A batch/v1beta1 CronJob: its pod spec is under jobTemplate."""

    def build(env, name):
        template = pod_template(name, probes=False, **container_overrides)
        template["spec"]["restart_policy"] = "Never"
        template["spec"].update(pod or {})
        k8s.batch.v1beta1.CronJob(
            name,
            metadata={"name": name, "namespace": "apps"},
            spec={"schedule": "0 3 * * *", "job_template": {"spec": {"template": template}}},
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


HOST_PATH = {"volumes": [{"name": "root", "host_path": {"path": "/"}}]}


IMAGE = ("k8s-image-tag-pinned", "k8s-image-immutable")


def service(kind: str):
    def build(env, name):
        k8s.core.v1.Service(
            name,
            metadata={"name": name, "namespace": "apps"},
            spec={"type": kind, "selector": {"app": name}, "ports": [{"port": 8080}]},
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


def ingress(class_name: str | None = None, annotation: str | None = None):
    def build(env, name):
        k8s.networking.v1.Ingress(
            name,
            metadata={
                "name": name,
                "namespace": "apps",
                **(
                    {"annotations": {"kubernetes.io/ingress.class": annotation}}
                    if annotation
                    else {}
                ),
            },
            spec={
                **({"ingress_class_name": class_name} if class_name else {}),
                "default_backend": {"service": {"name": "api", "port": {"number": 8080}}},
            },
            opts=pulumi.ResourceOptions(provider=env.k8s),
        )

    return build


CASES = [
    # --- entry points are Pulumi's ---------------------------------------------------------
    Case(
        "svc-cluster-ip",
        service("ClusterIP"),
        passes=("k8s-no-controller-load-balancers",),
    ),
    Case("svc-load-balancer", service("LoadBalancer"), fails="k8s-no-controller-load-balancers"),
    Case("ingress-alb-class", ingress("alb"), fails="k8s-no-controller-load-balancers"),
    Case(
        "ingress-alb-annotation",
        ingress(annotation="alb"),
        fails="k8s-no-controller-load-balancers",
    ),
    Case(
        "ingress-other-class",
        ingress("nginx"),
        passes=("k8s-no-controller-load-balancers",),
    ),
    Case(
        "api",
        deployment(),
        passes=(
            *IMAGE,
            "k8s-resource-requests",
            "k8s-resource-limits",
            "k8s-liveness-probe",
            "k8s-readiness-probe",
            "k8s-run-as-non-root",
            "k8s-no-privilege-escalation",
            "k8s-no-privileged",
            "k8s-pdb-for-replicated",
        ),
    ),
    Case("digest", deployment(image=f"ghcr.io/acme/api@{DIGEST}"), passes=IMAGE),
    Case("single-replica", deployment(replicas=1, pdb=None), passes=("k8s-pdb-for-replicated",)),
    Case("batch", job, passes=("k8s-liveness-probe", "k8s-readiness-probe")),
    Case(
        "latest",
        deployment(image="ghcr.io/acme/api:latest"),
        fails="k8s-image-tag-pinned",
        also=("k8s-image-immutable",),
    ),
    Case(
        "untagged",
        deployment(image="registry.internal:5000/acme/api"),
        fails="k8s-image-tag-pinned",
        also=("k8s-image-immutable",),
    ),
    Case("semver", deployment(image="ghcr.io/acme/api:1.4.2"), fails="k8s-image-immutable"),
    Case(
        "no-requests",
        deployment(resources={"limits": {"cpu": "1", "memory": "512Mi"}}),
        fails="k8s-resource-requests",
    ),
    Case(
        "no-limits",
        deployment(resources={"requests": {"cpu": "1", "memory": "512Mi"}}),
        fails="k8s-resource-limits",
    ),
    Case("no-liveness", deployment(liveness_probe=None), fails="k8s-liveness-probe"),
    Case("no-readiness", deployment(readiness_probe=None), fails="k8s-readiness-probe"),
    Case(
        "root",
        deployment(
            security_context={"allow_privilege_escalation": False, "run_as_non_root": False}
        ),
        fails="k8s-run-as-non-root",
    ),
    Case(
        "escalates",
        deployment(security_context={"run_as_non_root": True}),
        fails="k8s-no-privilege-escalation",
    ),
    Case(
        "privileged",
        deployment(
            security_context={
                "allow_privilege_escalation": False,
                "run_as_non_root": True,
                "privileged": True,
            }
        ),
        fails="k8s-no-privileged",
    ),
    Case("no-pdb", deployment(replicas=3, pdb=None), fails="k8s-pdb-for-replicated"),
    Case("pdb-elsewhere", deployment(replicas=3, pdb="other"), fails="k8s-pdb-for-replicated"),
    # --- older controllers and apiVersions carry the same pod rules ---------------
    Case(
        "rc-ok",
        replication_controller(),
        passes=("k8s-image-tag-pinned", "k8s-no-privileged", "k8s-no-host-access"),
    ),
    Case(
        "rc-latest",
        replication_controller(image="ghcr.io/acme/api:latest"),
        fails="k8s-image-tag-pinned",
        also=("k8s-image-immutable",),
    ),
    Case("ds-ok-v1beta2", daemonset(), passes=("k8s-run-as-non-root", "k8s-no-host-access")),
    Case(
        "ds-v1beta2-privileged",
        daemonset(
            security_context={
                "allow_privilege_escalation": False,
                "run_as_non_root": True,
                "privileged": True,
            }
        ),
        fails="k8s-no-privileged",
    ),
    Case("cron-ok-v1beta1", cronjob(), passes=("k8s-resource-limits", "k8s-resource-requests")),
    Case(
        "cron-v1beta1-no-limits",
        cronjob(resources={"requests": {"cpu": "1", "memory": "512Mi"}}),
        fails="k8s-resource-limits",
    ),
    # --- host namespaces and host paths ------------------------------------------------
    Case("host-network", daemonset(pod={"host_network": True}), fails="k8s-no-host-access"),
    Case("host-pid-cron", cronjob(pod={"host_pid": True}), fails="k8s-no-host-access"),
    Case("host-path", daemonset(pod=HOST_PATH), fails="k8s-no-host-access"),
    Case(
        # kube-system is allowed by default: node agents (CNI, CSI) live there.
        "host-ok-kube-system",
        daemonset(namespace="kube-system", pod={"host_network": True, **HOST_PATH}),
        passes=("k8s-no-host-access",),
    ),
]
