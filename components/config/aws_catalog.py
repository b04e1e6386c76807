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

#: Families of accelerated instances and the AMI type each needs: NVIDIA GPUs (g*, p*)
#: get the AL2023 NVIDIA AMI (drivers and container toolkit), AWS Inferentia and
#: Trainium (inf*, trn*) the AL2023 Neuron AMI. Graviton GPU types (g5g) take the ARM64
#: NVIDIA AMI.
NVIDIA_FAMILY = re.compile(r"^(g|p)\d")
NEURON_FAMILY = re.compile(r"^(inf|trn)\d")


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
    """`nvidia` or `neuron` for an accelerated instance type, else None."""
    family = instance_type.split(".", 1)[0]
    if NVIDIA_FAMILY.match(family):
        return "nvidia"
    if NEURON_FAMILY.match(family):
        return "neuron"
    return None
