"""The workflows a fork gets (.github/workflows/): lint-clean, every action pinned by
commit SHA, least privilege per job, no static AWS keys, prod gated behind staging, and
each job's OIDC subject accepted by exactly the role it assumes (evaluated against the
roles' trust policies from the offline runs)."""

from __future__ import annotations

import re
import subprocess

import pytest

from ballast.policy.evaluate import config_file_of
from components.iam.actions import GITHUB_OIDC_HOST
from tests.conftest import (
    CLUSTER_STACKS,
    ROOT,
    SHIPPED_STACKS,
    platform_config,
    require_tool,
    stack_run,
)
from tests.delivery.workflows import (
    CREDENTIALS,
    REUSABLE,
    WORKFLOWS,
    action_files,
    all_uses,
    load,
    stack_jobs,
    workflow_files,
)
from tests.iam_eval import trust_allows

ROLE = "aws:iam/role:Role"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
SHA = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def all_stack_jobs():
    return [job for path in workflow_files() for job in stack_jobs(path)]


@pytest.mark.tool
def test_actionlint_passes_on_every_workflow():
    actionlint = require_tool("actionlint")
    # With shellcheck on PATH, actionlint also checks every `run:` script.
    require_tool("shellcheck")
    result = subprocess.run(
        [actionlint, "-no-color"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_expected_workflows_exist():
    names = {path.name for path in workflow_files()}
    assert {"preview.yml", "deploy.yml", "drift.yml", "image.yml", "pulumi-stack.yml"} <= names


def test_every_action_is_pinned_to_a_commit_sha():
    uses = all_uses()
    assert uses
    for where, target in uses:
        if target.startswith("./"):
            assert (ROOT / target).exists(), f"{where}: {target} does not exist"
            continue
        assert SHA.match(target), f"{where}: {target} is not pinned to a 40-character SHA"


def test_the_sha_pins_carry_the_release_they_are():
    """`@<sha> # vX.Y.Z`: a reviewer (and Renovate) sees which release a SHA is."""
    for path in workflow_files() + action_files():
        for line in path.read_text().splitlines():
            if re.search(r"uses: [^.][^@]+@[0-9a-f]{40}", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+(\.\d+)*$", line), f"{path.name}: {line}"


def _jobs():
    for path in workflow_files():
        for name, job in (load(path).get("jobs") or {}).items():
            yield path, name, job


def _assumes_a_role(job) -> bool:
    steps = job.get("steps") or []
    return job.get("uses") == REUSABLE or any(
        str(s.get("uses", "")).startswith(CREDENTIALS) for s in steps
    )


def test_workflows_grant_nothing_by_default():
    for path in workflow_files():
        assert load(path).get("permissions") == {}, f"{path.name}: set `permissions: {{}}`"


def test_every_job_asks_for_its_own_minimal_permissions():
    allowed = {"contents": {"read"}, "id-token": {"write"}, "pull-requests": {"write"}}
    allowed |= {"packages": {"read"}, "attestations": {"write"}, "issues": {"write"}}
    for path, name, job in _jobs():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{path.name}:{name} has no permissions block"
        for scope, level in permissions.items():
            assert level in allowed.get(scope, set()), f"{path.name}:{name}: {scope}: {level}"
        # id-token only where a role is assumed.
        if permissions.get("id-token") == "write":
            assert _assumes_a_role(job), f"{path.name}:{name} has id-token but assumes no role"
        elif _assumes_a_role(job):
            raise AssertionError(f"{path.name}:{name} assumes a role without id-token: write")
        # Writing to pull requests only where the summary comment is posted.
        if permissions.get("pull-requests") == "write":
            assert (path.name, name) == ("preview.yml", "comment")
        # Writing issues only where the nightly drift check opens and closes its issue.
        if permissions.get("issues") == "write":
            assert (path.name, name) == ("drift.yml", "drift")


def test_no_job_writes_the_repository():
    for path in workflow_files():
        assert "contents: write" not in path.read_text(), path.name
        assert "write-all" not in path.read_text(), path.name


def test_no_static_aws_keys_anywhere():
    for path in workflow_files() + action_files():
        text = path.read_text()
        assert not re.search(r"secrets\.AWS_", text), path.name
        assert "aws-access-key-id" not in text and "aws-secret-access-key" not in text, path.name


def test_role_arns_and_regions_come_from_variables_not_literals():
    for path in workflow_files():
        for job in (load(path).get("jobs") or {}).values():
            for step in job.get("steps") or []:
                if str(step.get("uses", "")).startswith(CREDENTIALS):
                    inputs = step["with"]
                    assert "arn:" not in inputs["role-to-assume"]
                    assert re.search(
                        r"vars\.(CI_(PLAN|APPLY)_ROLE_ARN|REGISTRY_PUSH_ROLE_ARNS)\b",
                        inputs["role-to-assume"],
                    )
                    assert re.fullmatch(r"\$\{\{ vars\.AWS_REGION \}\}", inputs["aws-region"])
        assert not re.search(r"arn:aws:iam::\d{12}", path.read_text()), path.name


def test_the_reusable_job_assumes_the_role_its_caller_names():
    steps = load(WORKFLOWS / "pulumi-stack.yml")["jobs"]["stack"]["steps"]
    (assume,) = [s for s in steps if str(s.get("uses", "")).startswith(CREDENTIALS)]
    assert assume["with"]["role-to-assume"] == (
        "${{ inputs.role == 'apply' && vars.CI_APPLY_ROLE_ARN || vars.CI_PLAN_ROLE_ARN }}"
    )
    assert assume["with"]["role-duration-seconds"] == (
        "${{ inputs.role == 'apply' && 7200 || 3600 }}"
    )
    check = steps[0]["run"]
    assert "plan|apply" in check and "it needs role apply" in check


def test_every_stack_job_is_serialised_per_stack():
    reusable = load(WORKFLOWS / "pulumi-stack.yml")["jobs"]["stack"]
    assert reusable["concurrency"]["group"] == "pulumi-${{ inputs.stack }}"
    assert reusable["concurrency"]["cancel-in-progress"] is False
    drift = load(WORKFLOWS / "drift.yml")["jobs"]["drift"]
    assert drift["concurrency"]["group"] == "pulumi-${{ matrix.stack }}"


# --- what runs where ---------------------------------------------------------------------


def _by(workflow: str):
    return [job for job in all_stack_jobs() if job.workflow == workflow]


def test_every_stack_is_previewed_on_pull_requests_with_the_plan_role():
    jobs = _by("preview.yml")
    assert sorted(job.stack for job in jobs) == sorted(SHIPPED_STACKS + CLUSTER_STACKS)
    for job in jobs:
        assert (job.role, job.mode) == ("plan", "preview"), job


def test_every_stack_is_deployed_once_in_its_environment():
    applied = [job for job in _by("deploy.yml") if job.mode.startswith("up")]
    assert sorted(job.stack for job in applied) == sorted(SHIPPED_STACKS + CLUSTER_STACKS)
    for job in applied:
        config = platform_config(job.stack)
        assert job.role == "apply"
        assert job.environment == (config.ci.environment or config.environment), job


def test_cluster_stacks_run_on_the_in_vpc_runner():
    for job in all_stack_jobs():
        assert job.in_vpc is (job.stack in CLUSTER_STACKS), job


def test_each_stack_is_held_to_its_policy_config():
    pack = ROOT / "policy-pack"
    for job in all_stack_jobs():
        if job.policy_config is None:
            continue
        expected = config_file_of(pack, job.stack, platform_config(job.stack).environment)
        assert expected.is_file()
        assert job.policy_config == expected.stem, job


def _needs_closure(jobs: dict, name: str) -> set[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        needs = jobs[todo.pop()].get("needs") or []
        for need in [needs] if isinstance(needs, str) else needs:
            if need not in seen:
                seen.add(need)
                todo.append(need)
    return seen


def test_deploy_runs_dev_then_staging_then_prod_and_prod_waits_for_its_approval():
    jobs = load(WORKFLOWS / "deploy.yml")["jobs"]
    deploy = {job.job: job for job in _by("deploy.yml")}
    prod = deploy["prod"]
    assert (prod.stack, prod.environment, prod.role) == ("prod", "prod", "apply")
    assert "staging" in (jobs["prod"].get("needs") or [])
    # Every job of an environment needs every applying job of the environments before it.
    order = ["dev", "staging", "prod"]
    for name, job in deploy.items():
        before = _needs_closure(jobs, name)
        env = platform_config(job.stack).environment
        for earlier in order[: order.index(env)]:
            earlier_jobs = {
                n
                for n, j in deploy.items()
                if platform_config(j.stack).environment == earlier and j.mode.startswith("up")
            }
            assert earlier_jobs <= before, f"{name} does not wait for {earlier_jobs - before}"


def test_prod_applies_the_plan_made_before_the_approval():
    """prod's plan is saved by a job the approval does not hold up (plan role), and the
    approved job applies that saved plan: what reviewers read is what runs."""
    jobs = load(WORKFLOWS / "deploy.yml")["jobs"]
    deploy = {job.job: job for job in _by("deploy.yml")}
    for name, job in deploy.items():
        if platform_config(job.stack).environment != "prod" or job.role != "apply":
            continue
        assert job.mode == "up-saved-plan", job
        planners = [
            deploy[n]
            for n in _needs_closure(jobs, name)
            if deploy[n].stack == job.stack and deploy[n].mode == "save-plan"
        ]
        assert [p.role for p in planners] == ["plan"], name
    reusable = (WORKFLOWS / "pulumi-stack.yml").read_text()
    assert "--save-plan approved/plan.json" in reusable
    assert "--yes --plan approved/plan.json" in reusable


def test_the_gate_runs_before_every_up():
    steps = load(WORKFLOWS / "pulumi-stack.yml")["jobs"]["stack"]["steps"]
    names = [step.get("name", step.get("uses", "")) for step in steps]
    gate = names.index("ballast gate")
    stop = names.index("Stop on a policy violation or a gate finding")
    up = names.index("pulumi up, exactly the plan above")
    assert gate < stop < up
    assert "if" not in steps[gate] and "if" not in steps[stop]
    assert "--policy-pack policy-pack" in steps[up]["run"]


# --- the OIDC subjects against the roles' trust policies ----------------------------------


def _github_provider(run):
    (provider,) = [p for p in run.of_type(OIDC) if p.inputs["url"] == f"https://{GITHUB_OIDC_HOST}"]
    return provider


def _role(run, output: str):
    (role,) = [r for r in run.of_type(ROLE) if r.outputs.get("arn") == run.outputs[output]]
    return role


def _accepts(run, role_output: str, subject: str) -> bool:
    import json

    claims = {f"{GITHUB_OIDC_HOST}:sub": subject, f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com"}
    return trust_allows(
        json.loads(_role(run, role_output).inputs["assumeRolePolicy"]),
        principal=("Federated", _github_provider(run).outputs["arn"]),
        action="sts:AssumeRoleWithWebIdentity",
        context=claims,
    )


@pytest.mark.parametrize(
    "job", all_stack_jobs(), ids=lambda j: f"{j.workflow}:{j.job}:{j.stack}:{j.role}"
)
def test_the_job_subject_is_trusted_by_its_role_and_not_the_other(job):
    config = platform_config(job.stack)
    # A cluster stack deploys with its platform stack's roles.
    platform = job.stack.removesuffix("-cluster")
    run = stack_run(platform)
    subject = f"repo:{config.ci.repository}:environment:{job.environment}"
    own, other = ("ciPlanRoleArn", "ciApplyRoleArn")
    if job.role == "apply":
        own, other = other, own
    assert _accepts(run, own, subject), f"{own} of {platform} does not trust {subject}"
    plan_env = config.ci.plan_environment or config.ci.environment or config.environment
    apply_env = config.ci.environment or config.environment
    if plan_env != apply_env:
        assert not _accepts(run, other, subject), f"{other} of {platform} also trusts {subject}"
    # Another environment's subject gets neither role.
    for stranger in ("dev", "staging", "prod", "prod-preview"):
        if stranger in (plan_env, apply_env):
            continue
        foreign = f"repo:{config.ci.repository}:environment:{stranger}"
        assert not _accepts(run, own, foreign)


# --- images ----------------------------------------------------------------------------


def test_the_image_job_pushes_with_a_role_that_trusts_it():
    """The job's default environment is the push environment of the stack that holds the
    registry, and that stack's push roles accept the job's subject."""
    import json

    image = load(WORKFLOWS / "image.yml")
    environment = image["on"]["workflow_call"]["inputs"]["environment"]["default"]
    assert image["jobs"]["build"]["environment"] == "${{ inputs.environment }}"
    holders = [s for s in SHIPPED_STACKS if platform_config(s).registry is not None]
    assert holders, "no shipped stack holds the registry the image workflow pushes to"
    for stack in holders:
        config, run = platform_config(stack), stack_run(stack)
        push_env = config.registry.push_environment or config.ci.environment or config.environment
        assert push_env == environment
        subject = f"repo:{config.ci.repository}:environment:{environment}"
        claims = {
            f"{GITHUB_OIDC_HOST}:sub": subject,
            f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
        }
        for arn in run.outputs["registryPushRoleArns"].values():
            (role,) = [r for r in run.of_type(ROLE) if r.outputs.get("arn") == arn]
            assert trust_allows(
                json.loads(role.inputs["assumeRolePolicy"]),
                principal=("Federated", _github_provider(run).outputs["arn"]),
                action="sts:AssumeRoleWithWebIdentity",
                context=claims,
            )


def test_the_image_is_tagged_with_the_sha_pushed_once_signed_and_attested():
    steps = load(WORKFLOWS / "image.yml")["jobs"]["build"]["steps"]
    by_name = {step.get("name", step.get("uses", "")): step for step in steps}
    build = by_name["Build (multi-stage, distroless) and push once, tagged with the Git SHA"]
    assert build["with"]["tags"].endswith(":${{ github.sha }}")
    assert build["if"] == "steps.existing.outputs.digest == ''"
    assert "cosign sign --yes" in by_name["Sign the image (keyless)"]["run"]
    sbom = by_name["Generate the SPDX SBOM (syft)"]
    assert sbom["uses"].startswith("anchore/sbom-action@")
    assert sbom["with"]["format"] == "spdx-json"
    attest = by_name["Attach the SBOM as a signed attestation"]["run"]
    assert "cosign attest --yes --type spdxjson --predicate sbom.spdx.json" in attest
    verify = by_name["Verify the signature and the attestation as a deployment would"]["run"]
    assert "cosign verify " in verify and "cosign verify-attestation" in verify
    outputs = load(WORKFLOWS / "image.yml")["on"]["workflow_call"]["outputs"]
    assert outputs["digest"]["value"] == "${{ jobs.build.outputs.digest }}"
