"""The tag and label contract: every AWS tag, Kubernetes label and taint that some other
piece of code matches on (an IAM condition, an AWS Backup selection, an FIS target, a
policy in the pack, the Load Balancer Controller's subnet discovery).

A name spelt in two places must be spelt here once and imported. The policy pack cannot
import `components` (the CLI runs it from `policy-pack/` alone), so it keeps its own
copies; `tests/policy/test_tag_contract.py` ties them to this module.

Plain constants only: the config models import this module, and config parsing must stay
free of the Pulumi SDK.
"""

from __future__ import annotations

from typing import Final

# --- Provider default tags: on every AWS resource of an environment -------------------

ENVIRONMENT_TAG: Final = "environment"
PROJECT_TAG: Final = "project"
OWNER_TAG: Final = "owner"
MANAGED_BY_TAG: Final = "managed-by"
#: Set by the providers on every resource; a stack's `ballast:tags` may not override them.
RESERVED_TAG_KEYS: Final = (ENVIRONMENT_TAG, PROJECT_TAG, OWNER_TAG, MANAGED_BY_TAG)
#: The value of `managed-by` on everything Ballast creates.
MANAGED_BY_VALUE: Final = "pulumi"

# --- Per-resource tags: set by each component ------------------------------------------

SERVICE_TAG: Final = "service"
#: The recovery tier (`tier-1`..`tier-3`); AWS Backup picks the plan by it.
TIER_TAG: Final = "tier"
#: Tags every resource must carry, own or inherited from the provider (policy `required-tags`).
REQUIRED_TAG_KEYS: Final = (ENVIRONMENT_TAG, OWNER_TAG, SERVICE_TAG, TIER_TAG)

# --- Tags other code selects on --------------------------------------------------------

#: Audit evidence (trail keys, log groups, buckets): the boundary denies deleting,
#: disabling or untagging what carries it.
AUDIT_EVIDENCE_TAG: Final = "ballast.io/audit-evidence"
#: Opt-in to AWS Backup: the backup selections pick resources carrying `BACKUP_TAG=BACKUP_TAG_VALUE`.
BACKUP_TAG: Final = "ballast.io/backup"
BACKUP_TAG_VALUE: Final = "true"
#: Opt-in to fault injection: FIS experiments only target resources carrying
#: `FAULT_INJECTION_TAG=FAULT_INJECTION_TAG_VALUE`.
FAULT_INJECTION_TAG: Final = "ballast.io/fault-injection"
FAULT_INJECTION_TAG_VALUE: Final = "allowed"
#: On each node group of a `perAz` set, naming the set: the policy `eks-nodegroup-multi-az`
#: checks the members' zone coverage together.
NODE_GROUP_SET_TAG: Final = "ballast.io/node-group-set"
#: On volumes the default StorageClass provisions: the cluster's name.
CLUSTER_TAG: Final = "ballast.io/cluster"
#: On subnets: `public`, `private` or `isolated`.
SUBNET_TIER_TAG: Final = "ballast.io/subnet-tier"
#: Subnet discovery of the AWS Load Balancer Controller (internet-facing / internal).
PUBLIC_ELB_TAG: Final = "kubernetes.io/role/elb"
INTERNAL_ELB_TAG: Final = "kubernetes.io/role/internal-elb"
#: EKS puts this on every managed node group's Auto Scaling group; the autoscaler's IAM
#: policy only acts on groups carrying it for its own cluster.
AUTOSCALER_CLUSTER_TAG: Final = "k8s.io/cluster-autoscaler/{cluster}"

# --- Kubernetes node labels and taints -------------------------------------------------

#: Every managed node carries its group's name under this label.
NODE_GROUP_LABEL: Final = "ballast.io/node-group"
#: Workload tier label on namespaces and pods (`platform`, `tier-1`..`tier-3`).
TIER_LABEL: Final = "ballast.io/tier"
#: The system node group's taint: only platform add-ons tolerate it.
SYSTEM_TAINT_KEY: Final = "CriticalAddonsOnly"
SYSTEM_TAINT_VALUE: Final = "true"
#: The taint of node groups with NVIDIA GPUs: only pods that ask for a GPU (and tolerate
#: it) land on those expensive nodes; the NVIDIA device plugin tolerates it.
GPU_TAINT_KEY: Final = "nvidia.com/gpu"
GPU_TAINT_VALUE: Final = "true"
