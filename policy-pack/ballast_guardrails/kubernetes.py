"""Kubernetes workloads declared through the Pulumi Kubernetes provider: image pinning,
resources, probes, a non-root and unprivileged security context, and disruption budgets.

Helm releases are opaque to a policy (their manifests are rendered by the provider), so
these rules cover the objects Ballast declares itself; charts are checked through the
values Ballast passes them (tests of the components).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from ballast_guardrails.graph import of_type
from ballast_guardrails.spec import (
    HIGH,
    HYGIENE,
    LOW,
    MEDIUM,
    PRODUCTION_ONLY,
    SECURITY,
    Report,
    Settings,
    resource_policy,
    stack_policy,
)
from ballast_guardrails.values import as_list, get, number, truthy

_TEMPLATE = ("spec", "template", "spec")
_JOB_TEMPLATE = ("spec", "jobTemplate", "spec", "template", "spec")
#: Every kind that carries a pod (or a pod template), in every apiVersion token
#: pulumi-kubernetes 4.x registers for it (older tokens stay registered and are still
#: accepted by clusters that serve them; admission tools cover them all), with where the
#: pod spec lives. The `...Patch` resources are partial objects and are not covered.
_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Pod": (("core/v1",), ("spec",)),
    "ReplicationController": (("core/v1",), _TEMPLATE),
    "Deployment": (("apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"), _TEMPLATE),
    "StatefulSet": (("apps/v1", "apps/v1beta1", "apps/v1beta2"), _TEMPLATE),
    "DaemonSet": (("apps/v1", "apps/v1beta2", "extensions/v1beta1"), _TEMPLATE),
    "ReplicaSet": (("apps/v1", "apps/v1beta2", "extensions/v1beta1"), _TEMPLATE),
    "Job": (("batch/v1",), _TEMPLATE),
    "CronJob": (("batch/v1", "batch/v1beta1", "batch/v2alpha1"), _JOB_TEMPLATE),
}


#: Entry points the AWS Load Balancer Controller (or EKS's in-tree cloud provider) would
#: create outside Pulumi: Services of type LoadBalancer, Ingresses of the ALB class.
SERVICES = frozenset({"kubernetes:core/v1:Service"})
INGRESSES = frozenset(
    {
        "kubernetes:networking.k8s.io/v1:Ingress",
        "kubernetes:networking.k8s.io/v1beta1:Ingress",
        "kubernetes:extensions/v1beta1:Ingress",
    }
)
#: The class names by which an Ingress asks the controller for an ALB.
ALB_INGRESS_CLASSES = frozenset({"alb"})


def tokens(*kinds: str) -> frozenset[str]:
    """The type tokens of `kinds` in every registered apiVersion."""
    return frozenset(f"kubernetes:{v}:{kind}" for kind in kinds for v in _KINDS[kind][0])


#: Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    token: path for kind, (_, path) in _KINDS.items() for token in tokens(kind)
}
WORKLOADS = frozenset(POD_SPEC_PATHS)
#: Kinds whose pods run until replaced: probes apply to them, not to Jobs.
LONG_RUNNING = WORKLOADS - tokens("Job", "CronJob")
REPLICATED = tuple(
    sorted(tokens("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"))
)
PDB_TYPES = (
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:policy/v1beta1:PodDisruptionBudget",
)

#: A tag that carries a commit: optional prefix ending in - _ . (or sha-/g), then 7-40
#: hex digits including at least one letter (so dates and build numbers do not pass).
GIT_SHA_TAG = re.compile(r"^(?:[\w.-]*[-_.])?(?:sha-|g)?(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}$")


def pod_spec(args) -> Any:
    return get(args.props, *POD_SPEC_PATHS[args.resource_type])


def containers(spec: Any, *, init: bool = True) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container) for each container, then each init container."""
    kinds = ("containers", "initContainers") if init else ("containers",)
    for kind in kinds:
        for index, container in enumerate(as_list(get(spec, kind))):
            name = get(container, "name") or f"#{index + 1}"
            label = "container" if kind == "containers" else "init container"
            yield f"{label} {name}", container


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """`registry:5000/app:1.2@sha256:...` -> ("registry:5000/app", "1.2", "sha256:...")."""
    name, _, digest = image.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest or None
    return name, None, digest or None


@resource_policy(
    name="k8s-image-tag-pinned",
    types=WORKLOADS,
    description="Container images name a tag other than latest (or a digest).",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_K8S_14", "kyverno:disallow-latest-tag"),
    remediation="Pin the image to a released version tag or a digest.",
)
def _image_pinned(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, container in containers(pod_spec(args)):
        image = str(get(container, "image", default=""))
        _, tag, digest = split_image(image)
        if digest:
            continue
        if tag is None:
            report(f"{label}: image {image or '(none)'} has no tag (it means :latest)")
        elif tag.lower() == "latest":
            report(f"{label}: image {image} uses the latest tag")


@resource_policy(
    name="k8s-image-immutable",
    types=WORKLOADS,
    description="Production images are pinned by digest or by a git-SHA tag.",
    severity=MEDIUM,
    profile=PRODUCTION_ONLY,
    refs=("CKV_K8S_43",),
    remediation="Reference image@sha256:<digest>, or the tag CI builds from the commit SHA.",
)
def _image_immutable(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, container in containers(pod_spec(args)):
        image = str(get(container, "image", default=""))
        _, tag, digest = split_image(image)
        if digest or (tag and GIT_SHA_TAG.match(tag)):
            continue
        report(f"{label}: image {image} is pinned neither by digest nor by a git-SHA tag")


@resource_policy(
    name="k8s-resource-requests",
    types=WORKLOADS,
    description="Every container requests CPU and memory.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_K8S_10", "CKV_K8S_12", "kyverno:require-requests-limits"),
    remediation="Set resources.requests.cpu and resources.requests.memory.",
)
def _requests(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, container in containers(pod_spec(args)):
        requests = get(container, "resources", "requests") or {}
        missing = [r for r in ("cpu", "memory") if get(requests, r) is None]
        if missing:
            report(f"{label}: no {' or '.join(missing)} request")


@resource_policy(
    name="k8s-resource-limits",
    types=WORKLOADS,
    description="Every container sets the configured limits (CPU and memory by default).",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_K8S_11", "CKV_K8S_13", "kyverno:require-requests-limits"),
    remediation="Set resources.limits for each configured resource.",
    config={
        "resources": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["cpu", "memory"],
            "description": "Limits every container must set.",
        }
    },
)
def _limits(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, container in containers(pod_spec(args)):
        limits = get(container, "resources", "limits") or {}
        missing = [r for r in settings["resources"] if get(limits, r) is None]
        if missing:
            report(f"{label}: no {' or '.join(missing)} limit")


def _missing_probe(args: ResourceValidationArgs, report: Report, kind: str) -> None:
    """Report every long-running container without the probe `kind`."""
    if args.resource_type not in LONG_RUNNING:
        return
    for label, container in containers(pod_spec(args), init=False):
        if get(container, kind) is None:
            report(f"{label}: no {kind}")


@resource_policy(
    name="k8s-liveness-probe",
    types=WORKLOADS,
    description="Long-running containers have a liveness probe.",
    severity=LOW,
    profile=HYGIENE,
    refs=("CKV_K8S_8", "kyverno:require-pod-probes"),
    remediation="Add a livenessProbe (an HTTP or TCP check of the process).",
)
def _liveness_probe(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    _missing_probe(args, report, "livenessProbe")


@resource_policy(
    name="k8s-readiness-probe",
    types=WORKLOADS,
    description="Long-running containers have a readiness probe.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_K8S_9", "kyverno:require-pod-probes"),
    remediation="Add a readinessProbe so traffic waits until the pod can serve it.",
)
def _readiness_probe(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    _missing_probe(args, report, "readinessProbe")


@resource_policy(
    name="k8s-run-as-non-root",
    types=WORKLOADS,
    description="Containers run as non-root (runAsNonRoot).",
    severity=HIGH,
    profile=HYGIENE,
    refs=("CKV_K8S_23", "kyverno:require-run-as-nonroot"),
    remediation="Set securityContext.runAsNonRoot=True (pod or container) and a "
    "non-zero runAsUser.",
)
def _run_as_non_root(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    spec = pod_spec(args)
    pod_level = get(spec, "securityContext", "runAsNonRoot")
    for label, container in containers(spec):
        own = get(container, "securityContext", "runAsNonRoot")
        if not truthy(own if own is not None else pod_level):
            report(f"{label}: runAsNonRoot is not true (pod or container securityContext)")


@resource_policy(
    name="k8s-no-privilege-escalation",
    types=WORKLOADS,
    description="Containers set allowPrivilegeEscalation to false.",
    severity=HIGH,
    profile=HYGIENE,
    refs=("CKV_K8S_20", "kyverno:disallow-privilege-escalation"),
    remediation="Set securityContext.allowPrivilegeEscalation=False on every container.",
)
def _no_privilege_escalation(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    for label, container in containers(pod_spec(args)):
        value = get(container, "securityContext", "allowPrivilegeEscalation")
        if value is None or truthy(value):
            report(f"{label}: securityContext.allowPrivilegeEscalation is not false")


@resource_policy(
    name="k8s-no-privileged",
    types=WORKLOADS,
    description="Containers do not run privileged.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_K8S_16", "kyverno:disallow-privileged-containers"),
    remediation="Remove securityContext.privileged; grant specific capabilities if needed.",
)
def _not_privileged(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, container in containers(pod_spec(args)):
        if truthy(get(container, "securityContext", "privileged")):
            report(f"{label}: runs privileged")


HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


@resource_policy(
    name="k8s-no-host-access",
    types=WORKLOADS,
    description="Pods do not share the node's network, PID or IPC namespace or mount "
    "hostPath volumes, outside the allowed namespaces.",
    severity=HIGH,
    profile=SECURITY,
    refs=(
        "CKV_K8S_17",
        "CKV_K8S_18",
        "CKV_K8S_19",
        "kyverno:disallow-host-namespaces",
        "kyverno:disallow-host-path",
    ),
    remediation="Drop hostNetwork/hostPID/hostIPC and hostPath volumes (use a Service, "
    "a PersistentVolumeClaim or a CSI volume), or run the workload in an allowed namespace.",
    config={
        "allowedNamespaces": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["kube-system"],
            "description": "Namespaces whose node agents legitimately need host access.",
        }
    },
)
def _no_host_access(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if _namespace(args) in settings["allowedNamespaces"]:
        return
    spec = pod_spec(args)
    for field_name in HOST_NAMESPACES:
        if truthy(get(spec, field_name)):
            report(f"pod spec sets {field_name}")
    for index, volume in enumerate(as_list(get(spec, "volumes"))):
        path = get(volume, "hostPath", "path")
        if get(volume, "hostPath") is not None:
            name = get(volume, "name") or f"#{index + 1}"
            report(f"volume {name} mounts the host path {path or '(unknown)'}")


def _namespace(resource) -> str:
    return str(get(resource.props, "metadata", "namespace") or "default")


def _expression_holds(key: Any, operator: str, values: set[str], labels: Mapping[str, str]) -> bool:
    """One `matchExpressions` entry against a pod's labels (an unknown operator: no)."""
    return {
        "In": key in labels and labels[key] in values,
        "NotIn": key not in labels or labels[key] not in values,
        "Exists": key in labels,
        "DoesNotExist": key not in labels,
    }.get(operator, False)


class Selector:
    """A label selector read from a resource's properties once, with Kubernetes
    semantics: a missing selector selects nothing and an empty one everything
    (policy/v1). `matchLabels` is read when first matched against, `matchExpressions`
    only once some labels pass `matchLabels`; a value unknown in a preview is therefore
    read at the first match the policy needs, and the SDK skips the policy then."""

    def __init__(self, selector: Any) -> None:
        self._selector = selector
        self._match: dict[str, str] | None = None
        self._expressions: list[tuple[Any, str, set[str]]] | None = None

    @property
    def match_labels(self) -> dict[str, str] | None:
        """`matchLabels` as strings (read now if not yet); None for a missing selector."""
        if self._selector is None:
            return None
        if self._match is None:
            raw = get(self._selector, "matchLabels") or {}
            self._match = {str(k): str(v) for k, v in raw.items()}
        return self._match

    def _read_expressions(self) -> list[tuple[Any, str, set[str]]]:
        if self._expressions is None:
            self._expressions = [
                (
                    get(expression, "key"),
                    str(get(expression, "operator", default="")),
                    {str(v) for v in as_list(get(expression, "values"))},
                )
                for expression in as_list(get(self._selector, "matchExpressions"))
            ]
        return self._expressions

    def read(self) -> None:
        """Read everything now (`matchLabels`, then `matchExpressions`)."""
        if self.match_labels is not None:
            self._read_expressions()

    def selects(self, labels: Mapping[str, str]) -> bool:
        match = self.match_labels
        if match is None:
            return False
        if any(labels.get(k) != v for k, v in match.items()):
            return False
        return all(
            _expression_holds(key, operator, values, labels)
            for key, operator, values in self._read_expressions()
        )


class _Budget:
    """A PodDisruptionBudget whose namespace and selector are read from its proxied
    properties once, when first needed: every replicated workload is checked against
    every budget, and those reads dominated the stack policies' cost."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource

    @functools.cached_property
    def namespace(self) -> str:
        return _namespace(self._resource)

    @functools.cached_property
    def selector(self) -> Selector:
        return Selector(get(self._resource.props, "spec", "selector"))

    def covers(self, namespace: str, labels: Mapping[str, str]) -> bool:
        return self.namespace == namespace and self.selector.selects(labels)


class _Budgets:
    """Whether some budget of the stack covers a workload's pods: the answer of the scan
    over every budget in stack order (`_Budget.covers`), found through an index.

    The scan reads a budget only when it reaches it, so the first value unknown during
    a preview, or the first malformed selector, is met where the scan meets it. The
    index reads every budget, so it is built only when every one of those reads
    succeeds; otherwise the scan runs, as before, and raises where it did. With every
    value read, the order no longer matters and the two give the same answer: the
    index only skips budgets whose `matchLabels` cannot match the pod's labels."""

    def __init__(self, resources: list[Any]) -> None:
        self._budgets = [_Budget(b) for b in resources]
        self._index: dict[str, tuple[list[_Budget], dict[tuple[str, str], list[_Budget]]]]
        self._indexed: bool | None = None  # None: not tried yet

    def __bool__(self) -> bool:
        return bool(self._budgets)

    def _build(self) -> bool:
        index: dict[str, tuple[list[_Budget], dict[tuple[str, str], list[_Budget]]]] = {}
        try:
            for budget in self._budgets:
                namespace = budget.namespace
                budget.selector.read()
                match = budget.selector.match_labels
                if match is None:
                    continue  # selects nothing
                unkeyed, keyed = index.setdefault(namespace, ([], {}))
                if match:
                    keyed.setdefault(next(iter(match.items())), []).append(budget)
                else:
                    unkeyed.append(budget)
        except Exception:  # the scan meets it again, where it did before
            return False
        self._index = index
        return True

    def cover(self, namespace: str, labels: Mapping[str, str]) -> bool:
        if self._indexed is None:
            self._indexed = self._build()
        if not self._indexed:
            return any(b.covers(namespace, labels) for b in self._budgets)
        unkeyed, keyed = self._index.get(namespace, ([], {}))
        candidates = [*unkeyed, *(b for item in labels.items() for b in keyed.get(item, ()))]
        return any(b.covers(namespace, labels) for b in candidates)


@stack_policy(
    name="k8s-pdb-for-replicated",
    description="Every Deployment, StatefulSet, ReplicaSet or ReplicationController with "
    "more than one replica has a PodDisruptionBudget selecting its pods.",
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("kyverno:require-pdb",),
    remediation="Add a policy/v1 PodDisruptionBudget in the same namespace whose "
    "selector matches the pod template labels.",
)
def _pdb_coverage(args: StackValidationArgs, report: Report, settings: Settings) -> None:
    budgets = _Budgets(of_type(args.resources, *PDB_TYPES))

    for workload in of_type(args.resources, *REPLICATED):
        replicas = number(get(workload.props, "spec", "replicas"))
        if replicas is None or replicas <= 1:
            continue
        raw = get(workload.props, "spec", "template", "metadata", "labels") or {}
        labels = {str(k): str(v) for k, v in raw.items()}
        if not (budgets and budgets.cover(_namespace(workload), labels)):
            report(
                f"{workload.name} runs {replicas:g} replicas without a PodDisruptionBudget "
                "selecting its pods",
                workload.urn,
            )


@resource_policy(
    name="k8s-no-controller-load-balancers",
    types=SERVICES | INGRESSES,
    description="No Service of type LoadBalancer and no Ingress of the ALB class: entry "
    "points are Pulumi-owned load balancers, joined through TargetGroupBindings.",
    severity=HIGH,
    profile=SECURITY,
    remediation="Use a ClusterIP Service and opt it in with ballast:services[].ingress "
    "(or Ingress.route for a platform UI): Pulumi makes the target group, listener rule "
    "and record, and the controller binds the Service (docs/ingress.md).",
)
def _no_controller_load_balancers(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    if args.resource_type in SERVICES:
        kind = get(args.props, "spec", "type")
        if str(kind) == "LoadBalancer":
            report(
                "is a Service of type LoadBalancer: the load balancer it asks for would be "
                "invisible to Pulumi and the guardrails"
            )
        return
    annotations = get(args.props, "metadata", "annotations") or {}
    names = {
        get(args.props, "spec", "ingressClassName"),
        annotations.get("kubernetes.io/ingress.class")
        if isinstance(annotations, Mapping)
        else None,
    }
    if names & ALB_INGRESS_CLASSES:
        report(
            "is an Ingress of the ALB class: the load balancer the controller would make "
            "for it is invisible to Pulumi and the guardrails"
        )
