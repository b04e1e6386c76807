"""What AWS accepts, from the data the installed botocore ships (no hand-kept lists): the
region names of its partition data, the EC2 instance types of its EC2 model
(`InstanceType`) and the EKS AMI types of its EKS model (`AMITypes`).

So a typo (`eu-west-9`, `g5.2xlarg`) fails when the config is parsed, with the closest
valid name, instead of minutes into an apply. A name newer than the installed botocore
is refused too: upgrade boto3 (its pin in requirements.txt brings botocore) to use it. Each catalogue
is loaded once per process, on first use (the EC2 model costs ~0.5 s).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable

from botocore.loaders import Loader, create_loader  # type: ignore[import-untyped]

#: Families of accelerated instances and the AMI type each needs: NVIDIA GPUs (g*, gr*,
#: p*) get the AL2023 NVIDIA AMI (drivers and container toolkit), AWS Inferentia and
#: Trainium (inf*, trn*) the AL2023 Neuron AMI; Graviton GPU types (g5g, and the Grace
#: CPUs of p6e-gb200) the ARM64 NVIDIA AMI. Source: the EKS User Guide's table of
#: accelerated AMI variants ("Use EKS-optimized accelerated AMIs for GPU instances").
NVIDIA_FAMILY = re.compile(r"^(g|gr|p)\d")
NEURON_FAMILY = re.compile(r"^(inf|trn)\d")
#: Families the patterns above match that no EKS AL2023 AMI drives, and why: refused in a
#: node group rather than given an AMI without their drivers. Absent from the EKS table
#: of accelerated AMI variants (its oldest NVIDIA families are g4dn and p3).
UNSUPPORTED_ACCELERATED_FAMILIES = {
    "g4ad": "its AMD Radeon GPUs have no driver in any EKS-optimized AMI",
    "g2": "the AL2023 NVIDIA drivers no longer support its GPU generation",
    "g3": "the AL2023 NVIDIA drivers no longer support its GPU generation",
    "g3s": "the AL2023 NVIDIA drivers no longer support its GPU generation",
    "p2": "the AL2023 NVIDIA drivers no longer support its GPU generation",
}
#: The AMI family every node group runs: the launch template (root device /dev/xvda,
#: no AMI ID) and the node configuration assume Amazon Linux 2023.
AMI_FAMILY_PREFIX = "AL2023_"


@functools.cache
def _loader() -> Loader:
    return create_loader()


@functools.cache
def region_partitions() -> dict[str, str]:
    """Every region botocore knows -> its partition (`eu-west-1` -> `aws`); the
    partitions' `*-global` pseudo-regions are not regions."""
    data = _loader().load_data("partitions")
    return {
        region: partition["id"]
        for partition in data["partitions"]
        for region in partition["regions"]
        if not region.endswith("-global")
    }


@functools.cache
def instance_types() -> frozenset[str]:
    """Every EC2 instance type botocore's EC2 model lists."""
    model = _loader().load_service_model("ec2", "service-2")
    return frozenset(model["shapes"]["InstanceType"]["enum"])


@functools.cache
def eks_ami_types() -> tuple[str, ...]:
    """Every AMI type of an EKS managed node group botocore's EKS model lists."""
    model = _loader().load_service_model("eks", "service-2")
    return tuple(model["shapes"]["AMITypes"]["enum"])


def node_ami_types() -> tuple[str, ...]:
    """The AMI types a Ballast node group may run: botocore's EKS AMI types of the
    Amazon Linux 2023 family (standard, NVIDIA, Neuron; x86_64 and ARM64)."""
    return tuple(t for t in eks_ami_types() if t.startswith(AMI_FAMILY_PREFIX))


def ami_type_for(kind: str | None, architecture: str) -> str:
    """The AL2023 AMI type for an accelerator (`nvidia`, `neuron` or None) on an
    architecture (`x86_64` or `arm64`), e.g. `AL2023_ARM_64_NVIDIA`. Raises ValueError,
    naming what exists, when botocore lists no such type (there is no ARM64 Neuron AMI)."""
    arch = "ARM_64" if architecture == "arm64" else "x86_64"
    name = f"{AMI_FAMILY_PREFIX}{arch}_{(kind or 'standard').upper()}"
    if name not in node_ami_types():
        raise ValueError(
            f"has no EKS AMI type for {kind or 'standard'} {architecture} instances "
            f"(botocore lists {', '.join(node_ami_types())})"
        )
    return name


def _closest(value: str, known: Iterable[str]) -> str:
    guess = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.7)
    return f"; did you mean {guess[0]}?" if guess else ""


def region_problem(region: str) -> str | None:
    """Why `region` is not an AWS region (None when it is)."""
    if region in region_partitions():
        return None
    return (
        "must be an AWS region the installed botocore knows, such as us-east-1 or "
        f"eu-central-1 (got {region!r}){_closest(region, region_partitions())}"
    )


def instance_type_problem(instance_type: str) -> str | None:
    """Why `instance_type` is not an EC2 instance type (None when it is)."""
    if instance_type in instance_types():
        return None
    return (
        "must list EC2 instance types the installed botocore knows, such as m7i.large "
        f"(got {instance_type!r}){_closest(instance_type, instance_types())}"
    )


def accelerator(instance_type: str) -> str | None:
    """`nvidia` or `neuron` for an accelerated instance type, else None (see
    `unsupported_accelerator` for the accelerated families no AMI drives)."""
    family = instance_type.split(".", 1)[0]
    if NVIDIA_FAMILY.match(family):
        return "nvidia"
    if NEURON_FAMILY.match(family):
        return "neuron"
    return None


def unsupported_accelerator(instance_type: str) -> str | None:
    """Why no EKS AL2023 AMI drives an accelerated instance type's accelerator (None when
    one does, or the type is not accelerated)."""
    reason = UNSUPPORTED_ACCELERATED_FAMILIES.get(instance_type.split(".", 1)[0])
    return None if reason is None else f"{instance_type}: {reason}"
