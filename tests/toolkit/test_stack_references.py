"""`pulumi.StackReference` offline: a stack reads another stack of the same project, which
runs first (once), and every way that can go wrong is one sentence with exit 2.

Each test builds a tiny project whose one program is driven by its stack config:
`demo:exports` (outputs), `demo:secretExports` (secret outputs), `demo:reads` (references
to read: each output lands, prefixed "got-", in a bucket's name, or is re-exported), and
`demo:fail` (the program raises). Every run appends its stack to `runs.log`, so a test can
count how often each stack ran.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ballast.cli import app
from ballast.offline import (
    MAX_REFERENCES,
    ProgramRun,
    StackReferenceError,
    run_component,
    run_stack,
    run_stack_with_references,
)
from ballast.offline.stack_config import load_project, load_stack_config
from ballast.policy.evaluate import config_file_of
from tests.policy.conftest import PACK_DIR

runner = CliRunner()

BUCKET = "aws:s3/bucket:Bucket"
REFERENCE = "pulumi:pulumi:StackReference"

PROGRAM = """
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
stack = pulumi.get_stack()
with open("runs.log", "a") as log:
    log.write(stack + "\\n")
if config.get("fail"):
    raise ValueError(config.get("fail"))

provider = aws.Provider("aws", region="us-east-1")
opts = pulumi.ResourceOptions(provider=provider)
aws.s3.Bucket("own", opts=opts)

for key, value in (config.get_object("exports") or {}).items():
    pulumi.export(key, value)
for key, value in (config.get_object("secretExports") or {}).items():
    pulumi.export(key, pulumi.Output.secret(value))

references = {}
for index, read in enumerate(config.get_object("reads") or []):
    name = read["ref"].format(org=pulumi.get_organization(), project=pulumi.get_project())
    if name not in references:
        references[name] = pulumi.StackReference(name)
    ref = references[name]
    value = ref.get_output(read["output"]) if read.get("optional") else ref.require_output(
        read["output"]
    )
    if read.get("export"):
        pulumi.export(read["export"], value)
    else:
        aws.s3.Bucket(
            f"read-{index}", bucket=value.apply(lambda v: f"got-{v}"), opts=opts
        )
"""


def make_project(
    root: Path, stacks: dict[str, dict[str, Any]], *, name: str = "demo", pack: bool = False
) -> Path:
    """A project `name` with one stack file per entry of `stacks` (its `demo:` config)."""
    (root / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\nstackConfigDir: stacks\n")
    (root / "__main__.py").write_text(PROGRAM)
    (root / "stacks").mkdir()
    for stack, settings in stacks.items():
        config: dict[str, Any] = {f"{name}:{key}": value for key, value in settings.items()}
        config["pulumi:disable-default-providers"] = ["*"]
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    if pack:
        shutil.copytree(
            PACK_DIR, root / "policy-pack", ignore=shutil.ignore_patterns("venv", "__pycache__")
        )
    return root


def runs_of(root: Path) -> list[str]:
    return (root / "runs.log").read_text().split()


def read(ref: str, output: str, **extra: Any) -> dict[str, Any]:
    return {"ref": ref, "output": output, **extra}


def preview(root: Path, stack: str, *options: str):
    return runner.invoke(app, ["preview", stack, *options, "--project-dir", str(root)])


def bucket_names(run: ProgramRun) -> dict[str, Any]:
    return {r.name: r.inputs.get("bucket") for r in run.of_type(BUCKET)}


PRODUCER = {"exports": {"clusterName": "ballast-dev", "vpcId": "vpc-0abc"}}


# --- the value arrives ---------------------------------------------------------------


def test_a_consumer_gets_the_producers_output_in_a_resource_input(tmp_path):
    root = make_project(
        tmp_path,
        {
            "dev": PRODUCER,
            "dev-cluster": {"reads": [read("{org}/{project}/dev", "clusterName")]},
        },
    )
    run = run_stack_with_references(root, "dev-cluster")

    assert bucket_names(run)["read-0"] == "got-ballast-dev"
    assert sorted(run.references) == ["dev"]
    assert run.references["dev"].outputs == PRODUCER["exports"]
    reference = run.one(REFERENCE, "organization/demo/dev")
    assert reference.read and reference.id == "organization/demo/dev"
    assert reference.outputs["outputs"] == PRODUCER["exports"]
    # A read is not something to create.
    assert run.summary()["reads"] == 1
    assert run.summary()["resources"] == 2  # own bucket + read-0


@pytest.mark.parametrize("form", ["dev", "demo/dev", "{org}/demo/dev"])
def test_every_reference_form_of_this_project_is_accepted(tmp_path, form):
    root = make_project(
        tmp_path, {"dev": PRODUCER, "dev-cluster": {"reads": [read(form, "vpcId")]}}
    )
    run = run_stack_with_references(root, "dev-cluster")
    assert bucket_names(run)["read-0"] == "got-vpc-0abc"


def test_a_missing_output_read_with_get_output_is_none_not_an_error(tmp_path):
    root = make_project(
        tmp_path,
        {"dev": PRODUCER, "dev-cluster": {"reads": [read("dev", "nope", optional=True)]}},
    )
    run = run_stack_with_references(root, "dev-cluster")
    assert bucket_names(run)["read-0"] == "got-None"


def test_a_stack_without_references_runs_as_before(tmp_path):
    root = make_project(tmp_path, {"dev": PRODUCER})
    run = run_stack(load_stack_config(load_project(root), "dev"))
    assert run.references == {}
    assert run.outputs == PRODUCER["exports"]
    assert runs_of(root) == ["dev"]


# --- secrets -------------------------------------------------------------------------


def secret_project(root: Path) -> Path:
    return make_project(
        root,
        {
            "dev": {**PRODUCER, "secretExports": {"adminToken": "s3cr3t-value"}},
            "dev-cluster": {
                "reads": [read("dev", "adminToken"), read("dev", "clusterName")],
                "exports": {"environment": "dev"},
            },
        },
    )


def test_a_secret_output_stays_secret_in_the_consumer(tmp_path):
    run = run_stack_with_references(secret_project(tmp_path), "dev-cluster")

    producer = run.references["dev"]
    assert producer.secret_outputs == ("adminToken",)
    assert producer.outputs["adminToken"] == "[secret]"
    # The apply ran on a secret Output: its result is secret too, so the record shows
    # "[secret]" rather than "got-[secret]"; the plain output next to it is not secret.
    assert bucket_names(run)["read-0"] == "[secret]"
    assert bucket_names(run)["read-1"] == "got-ballast-dev"
    assert run.one(REFERENCE, "dev").outputs["secretOutputNames"] == ["adminToken"]


def test_a_secret_output_never_appears_in_the_plan_json(tmp_path):
    root = secret_project(tmp_path)
    result = preview(root, "dev-cluster", "--json")
    assert result.exit_code == 0, result.output
    assert "s3cr3t" not in result.stdout
    document = json.loads(result.stdout)
    assert document["references"] == ["dev"]
    buckets = {r["name"]: r["inputs"].get("bucket") for r in document["resources"]}
    assert buckets["read-0"] == "[secret]"


def test_the_human_view_says_which_stacks_ran_first(tmp_path):
    result = preview(secret_project(tmp_path), "dev-cluster")
    assert result.exit_code == 0, result.output
    assert "reads stack dev (ran offline first)" in result.stdout
    assert "s3cr3t" not in result.output


# --- each stack runs once ------------------------------------------------------------


def test_a_stack_referenced_twice_runs_once(tmp_path):
    root = make_project(
        tmp_path,
        {
            "dev": PRODUCER,
            "mid": {"reads": [read("dev", "vpcId", export="vpcId")]},
            # Two references to dev (two names), and one through mid: a diamond.
            "top": {
                "reads": [
                    read("dev", "clusterName"),
                    read("{org}/{project}/dev", "vpcId"),
                    read("mid", "vpcId"),
                ]
            },
        },
    )
    run = run_stack_with_references(root, "top")

    assert runs_of(root).count("dev") == 1
    assert runs_of(root).count("mid") == 1
    assert sorted(run.references) == ["dev", "mid"]
    assert run.references["mid"].references["dev"] is run.references["dev"]
    assert bucket_names(run) == {
        "own": None,
        "read-0": "got-ballast-dev",
        "read-1": "got-vpc-0abc",
        "read-2": "got-vpc-0abc",
    }


def test_runs_passed_in_are_not_run_again(tmp_path):
    root = make_project(
        tmp_path, {"dev": PRODUCER, "dev-cluster": {"reads": [read("dev", "vpcId")]}}
    )
    project = load_project(root)
    dev = run_stack(load_stack_config(project, "dev"))
    run = run_stack_with_references(project, "dev-cluster", references={"dev": dev})
    assert run.references["dev"] is dev
    assert runs_of(root).count("dev") == 1


# --- one sentence, exit 2 -------------------------------------------------------------


def assert_error(root: Path, stack: str, sentence: str) -> None:
    result = preview(root, stack, "--violations-only")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == f"error: {sentence}"
    # With --json the same sentence is the JSON error document, alone on stdout.
    as_json = preview(root, stack, "--json")
    assert as_json.exit_code == 2, as_json.output
    assert json.loads(as_json.stdout)["error"]["message"] == sentence


def test_a_referenced_stack_without_config_file(tmp_path):
    root = make_project(
        tmp_path, {"dev": PRODUCER, "dev-cluster": {"reads": [read("qa", "clusterName")]}}
    )
    assert_error(
        root,
        "dev-cluster",
        "stack dev-cluster references stack qa, which has no stacks/Pulumi.qa.yaml "
        "(stacks: dev, dev-cluster)",
    )


@pytest.mark.parametrize("use", [{}, {"export": "endpoint"}], ids=["into-input", "exported"])
def test_a_missing_output(tmp_path, use):
    root = make_project(
        tmp_path,
        {"dev": PRODUCER, "dev-cluster": {"reads": [read("dev", "clusterEndpoint", **use)]}},
    )
    assert_error(
        root,
        "dev-cluster",
        "stack dev-cluster reads output clusterEndpoint, which stack dev does not export "
        "(it exports: clusterName, vpcId)",
    )


def test_a_missing_output_names_the_right_stack_among_several(tmp_path):
    root = make_project(
        tmp_path,
        {
            "dev": PRODUCER,
            "net": {"exports": {"subnetIds": ["a", "b"]}},
            "dev-cluster": {
                "reads": [read("dev", "clusterName"), read("net", "clusterName")],
            },
        },
    )
    assert_error(
        root,
        "dev-cluster",
        "stack dev-cluster reads output clusterName, which stack net does not export "
        "(it exports: subnetIds)",
    )


def test_a_stack_of_another_project(tmp_path):
    root = make_project(
        tmp_path, {"dev": PRODUCER, "dev-cluster": {"reads": [read("{org}/other/dev", "vpcId")]}}
    )
    assert_error(
        root,
        "dev-cluster",
        "stack dev-cluster references stack dev of project other, but the offline engine "
        "can only run stacks of project demo, the one being previewed",
    )


def test_a_reference_that_is_no_stack_name(tmp_path):
    root = make_project(tmp_path, {"dev-cluster": {"reads": [read("a/demo/dev/x", "vpcId")]}})
    assert_error(
        root,
        "dev-cluster",
        "stack dev-cluster references 'a/demo/dev/x', which is not a stack name "
        "(expected stack, project/stack or organization/project/stack)",
    )


def test_a_cycle(tmp_path):
    root = make_project(
        tmp_path,
        {"a": {"reads": [read("b", "x")]}, "b": {"reads": [read("a", "y")]}},
    )
    assert_error(
        root,
        "a",
        "stack b references stack a, which closes a reference cycle (a -> b -> a) "
        "that no order of deployments can satisfy",
    )


def test_a_stack_that_reads_itself(tmp_path):
    root = make_project(tmp_path, {"a": {"reads": [read("a", "x")]}})
    assert_error(
        root,
        "a",
        "stack a references stack a, which closes a reference cycle (a -> a) "
        "that no order of deployments can satisfy",
    )


def test_more_referenced_stacks_than_the_limit(tmp_path):
    chain = [f"s{i}" for i in range(MAX_REFERENCES + 2)]
    stacks: dict[str, dict[str, Any]] = {
        stack: {"reads": [read(after, "out", export="out")]}
        for stack, after in itertools.pairwise(chain)
    }
    stacks[chain[-1]] = {"exports": {"out": "end"}}
    root = make_project(tmp_path, stacks)
    assert_error(
        root,
        "s0",
        f"stack s{MAX_REFERENCES} references stack s{MAX_REFERENCES + 1}, but one preview "
        f"runs at most {MAX_REFERENCES} referenced stacks offline and this one needs more "
        f"({', '.join(chain[1:])})",
    )
    # Within the limit the same chain resolves, end to end.
    run = run_stack_with_references(root, "s1")
    assert run.outputs == {"out": "end"}


def test_a_referenced_stack_that_fails(tmp_path):
    root = make_project(
        tmp_path,
        {
            "dev": {"fail": "the platform config is invalid"},
            "dev-cluster": {"reads": [read("dev", "vpcId")]},
        },
    )
    assert_error(
        root,
        "dev-cluster",
        "stack dev-cluster references stack dev, which failed: "
        "ValueError: the platform config is invalid",
    )


def test_a_failure_two_references_down_names_the_whole_path(tmp_path):
    root = make_project(
        tmp_path,
        {
            "top": {"reads": [read("mid", "x")]},
            "mid": {"reads": [read("qa", "x", export="x")]},
        },
    )
    assert_error(
        root,
        "top",
        "stack top references stack mid, which failed: stack mid references stack qa, "
        "which has no stacks/Pulumi.qa.yaml (stacks: mid, top)",
    )


def test_a_referenced_stack_whose_file_is_not_yaml(tmp_path):
    root = make_project(tmp_path, {"dev-cluster": {"reads": [read("dev", "vpcId")]}})
    (root / "stacks" / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    result = preview(root, "dev-cluster", "--json")
    assert result.exit_code == 2, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith(
        "stack dev-cluster references stack dev, whose config cannot be read: "
    )
    assert "stacks/Pulumi.dev.yaml is not valid YAML at line" in message


def test_errors_are_typed_for_library_callers(tmp_path):
    root = make_project(tmp_path, {"dev-cluster": {"reads": [read("qa", "x")]}})
    with pytest.raises(StackReferenceError, match="references stack qa, which has no"):
        run_stack_with_references(root, "dev-cluster")


# --- run_component -------------------------------------------------------------------


def test_run_component_answers_references_it_is_given():
    import pulumi

    producer = ProgramRun(project="ballast", stack="dev", outputs={"vpcId": "vpc-1"})
    seen: list[Any] = []

    def build() -> None:
        ref = pulumi.StackReference("organization/ballast/dev")
        pulumi.export("vpc", ref.require_output("vpcId"))
        seen.append(ref)

    run = run_component(build, stack="dev-cluster", references={"dev": producer})
    assert run.outputs == {"vpc": "vpc-1"}
    assert run.references == {"dev": producer}

    with pytest.raises(StackReferenceError, match="which run_component was not given"):
        run_component(build, stack="dev-cluster")


# --- which policy config a cluster stack gets ----------------------------------------


def test_config_file_falls_back_to_the_environment(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "dev.json").write_text("{}")
    (tmp_path / "config" / "prod-cluster.json").write_text("{}")
    config = tmp_path / "config"
    assert config_file_of(tmp_path, "dev-cluster", "dev") == config / "dev.json"
    assert config_file_of(tmp_path, "prod-cluster", "prod") == config / "prod-cluster.json"
    assert config_file_of(tmp_path, "dev") == config / "dev.json"
    # No environment file, or an environment that is no plain name: the stack's own path
    # (which does not exist: the pack defaults).
    assert config_file_of(tmp_path, "qa-cluster", "qa") == config / "qa-cluster.json"
    for bad in ("../dev", "[secret]", "", None):
        assert config_file_of(tmp_path, "x-cluster", bad) == config / "x-cluster.json"


def test_a_cluster_stack_is_evaluated_with_its_environments_policy_config(tmp_path):
    root = make_project(
        tmp_path,
        {
            "dev": {**PRODUCER, "exports": {**PRODUCER["exports"], "environment": "dev"}},
            "dev-cluster": {"reads": [read("dev", "environment", export="environment")]},
        },
        pack=True,
    )
    result = preview(root, "dev-cluster", "--json")
    assert result.exit_code in (0, 1), result.output  # 1: the toy buckets break rules
    document = json.loads(result.stdout)
    assert document["references"] == ["dev"]
    assert document["outputs"]["environment"] == "dev"
    assert document["policyConfig"] == "policy-pack/config/dev.json"
    assert "no policy config" not in result.stderr
