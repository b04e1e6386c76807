"""IAM least privilege: what identity, resource and trust policies may grant.

Documents are read from every place pulumi-aws accepts one: standalone and inline
identity policies, a role's `inlinePolicies` and `assumeRolePolicy`, and the resource
policies of keys, buckets, queues, topics, repositories and secrets.

Permission boundaries are ceilings, not grants: a boundary document allows whole
services on purpose (whatever a role may ever be given) and is never attached as a
permission. So an `aws:iam/policy:Policy` named by the platform convention
(`<namePrefix>-<stack>-permission-boundary` of the stack being analysed, `naming`) is
left out of the grant checks, and
`iam-boundary-not-attached` makes sure such a policy is never attached to a principal,
which would turn the ceiling into a grant.

The KMS key-policy exemption: a key policy statement that allows `kms:*` on `*` to the
key's own account root (`arn:aws:iam::<account>:root`) is the AWS default key policy.
It grants no person anything by itself: it lets IAM policies in that account grant key
access, and those IAM policies are exactly what the rest of this module checks. Without
it the key can only be managed through its key policy (AWS's lockout safety check
exists because a key without it is easily made unmanageable). So that one pattern is not
a least-privilege violation; `kms:*` to any other principal still is. When the provider
pins `allowedAccountIds`, the root must be one of those accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs

from ballast_guardrails import iam_actions
from ballast_guardrails import iam_document as doc
from ballast_guardrails.contract import BOUNDARY_SUFFIX, DATA_EXPOSURE_ACTIONS
from ballast_guardrails.escalation import ESCALATION_ACTIONS, PASS_ROLE, PASS_ROLE_LAUNCHERS
from ballast_guardrails.exemptions import EXEMPTIONS, exempted
from ballast_guardrails.naming import (
    boundary_name_prefix,
    is_boundary_name,
    program_secret_prefix,
)
from ballast_guardrails.spec import (
    CRITICAL,
    HIGH,
    HYGIENE,
    MEDIUM,
    SECURITY,
    Report,
    Settings,
    resource_policy,
)
from ballast_guardrails.values import allowed_accounts, as_list, get

ROLE = "aws:iam/role:Role"
#: Identity policies: one document in `policy`.
IDENTITY_POLICY_TYPES = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
KEY_POLICY_TYPES = frozenset({"aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"})
#: Resource policies: one document in `policy`.
RESOURCE_POLICY_TYPES = KEY_POLICY_TYPES | frozenset(
    {
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "aws:secretsmanager/secretPolicy:SecretPolicy",
    }
)
IDENTITY_TYPES = IDENTITY_POLICY_TYPES | {ROLE}
GRANTING_TYPES = IDENTITY_TYPES | RESOURCE_POLICY_TYPES

#: AWS managed policies that make a principal an administrator.
ADMIN_MANAGED_POLICIES = frozenset({"administratoraccess", "iamfullaccess", "poweruseraccess"})
_AWS_MANAGED_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:.*/)?([^/]+)$", re.IGNORECASE)
_ACCOUNT_ROOT = re.compile(r"^(?:arn:aws[a-z-]*:iam::(\d{12}):root|(\d{12}))$")

#: Condition keys that pin a `*` principal to known accounts, organisations or sources.
PRINCIPAL_RESTRICTING_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
        "kms:calleraccount",
    }
)


ATTACHMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
        "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
        ROLE,
    }
)


def is_boundary_policy(args: ResourceValidationArgs) -> bool:
    """A managed policy named as the platform's permission boundary."""
    if args.resource_type != "aws:iam/policy:Policy":
        return False
    return is_boundary_name(get(args.props, "name") or args.name)


def attached_arns(props) -> list[object]:
    """Every policy ARN an attachment resource or a role attaches."""
    arns = [get(props, "policyArn")]
    return arns + as_list(get(props, "policyArns")) + as_list(get(props, "managedPolicyArns"))


# --- where documents live -----------------------------------------------------------


def identity_documents(args: ResourceValidationArgs) -> Iterator[tuple[str, doc.PolicyDocument]]:
    """(label, document) for each identity policy the resource carries (a permission
    boundary is a ceiling, not a grant: see the module docstring)."""
    props = args.props
    if is_boundary_policy(args):
        return
    if args.resource_type in IDENTITY_POLICY_TYPES:
        text = get(props, "policy")
        if text is not None:
            yield "policy", doc.parse(text)
    elif args.resource_type == ROLE:
        for index, inline in enumerate(as_list(get(props, "inlinePolicies"))):
            text = get(inline, "policy")
            if text is not None:
                name = get(inline, "name") or f"#{index + 1}"
                yield f"inline policy {name}", doc.parse(text)


def resource_documents(args: ResourceValidationArgs) -> Iterator[tuple[str, doc.PolicyDocument]]:
    if args.resource_type in RESOURCE_POLICY_TYPES:
        text = get(args.props, "policy")
        if text is not None:
            yield "resource policy", doc.parse(text)


def trust_document(args: ResourceValidationArgs) -> doc.PolicyDocument | None:
    if args.resource_type != ROLE:
        return None
    text = get(args.props, "assumeRolePolicy")
    return doc.parse(text) if text is not None else None


def granting_documents(args: ResourceValidationArgs) -> Iterator[tuple[str, doc.PolicyDocument]]:
    yield from identity_documents(args)
    yield from resource_documents(args)


def is_key_admin_delegation(args: ResourceValidationArgs, statement: doc.Statement) -> bool:
    """The AWS default key-policy statement: account root, `kms:*`, `*` (module doc)."""
    if args.resource_type not in KEY_POLICY_TYPES or not statement.allows:
        return False
    if statement.uses_not_action or statement.uses_not_resource:
        return False
    if set(statement.principals) != {"AWS"} or len(statement.principals["AWS"]) != 1:
        return False
    root = _ACCOUNT_ROOT.match(statement.principals["AWS"][0].strip())
    if root is None:
        return False
    if [a.strip().lower() for a in statement.actions] != ["kms:*"]:
        return False
    if not statement.resources or not all(doc.is_star(r) for r in statement.resources):
        return False
    accounts = allowed_accounts(args.provider)
    return not accounts or (root.group(1) or root.group(2)) in accounts


_ACCOUNT_KEYS = frozenset(
    {"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "kms:calleraccount"}
)
_ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})


def pinned_value(key: str, value: str) -> bool:
    """Does one value of a principal-restricting key name known accounts or an
    organisation, rather than match any of them? `arn:aws:iam::*:role/ci` (any account's
    role named ci), `o-*` or an account `*` look like a restriction and are none."""
    key = key.lower()
    if key in _ORG_PATH_KEYS:
        # `o-abc/r-root/ou-1/*` (anything under that path) is the documented form.
        org = value.split("/", 1)[0]
        return bool(org) and not doc.has_wildcard(org)
    if key in _ARN_KEYS:
        parts = value.split(":", 5)
        if len(parts) != 6:
            return False
        if parts[4]:
            return not doc.has_wildcard(parts[4])
        # No account in the ARN (S3 buckets: names are global): only an exact resource,
        # since anyone can create `my-bucket-2` to match `my-bucket*`.
        return not doc.has_wildcard(parts[2]) and not doc.has_wildcard(parts[5])
    return bool(value.strip()) and not doc.has_wildcard(value)


def loose_principal_conditions(statement: doc.Statement) -> list[str]:
    """Principal-restricting conditions that restrict nothing: a wildcard that matches any
    account or organisation, or an operator that admits requests outside the values."""
    loose = []
    for operator, block in statement.conditions.items():
        for key, values in block.items():
            if key.lower() not in PRINCIPAL_RESTRICTING_KEYS:
                continue
            if not doc.narrows(operator):
                loose.append(f"{operator} on {key} admits requests outside its values")
            elif not values or not all(pinned_value(key, v) for v in values):
                wide = [v for v in values if not pinned_value(key, v)] or ["(no value)"]
                loose.append(f"{key} {', '.join(wide)} matches any account")
    return loose


def restricts_principal(statement: doc.Statement) -> bool:
    """Does a condition pin the principal to known accounts, organisations or sources?"""
    return any(
        doc.narrows(operator)
        and key.lower() in PRINCIPAL_RESTRICTING_KEYS
        and bool(values)
        and all(pinned_value(key, v) for v in values)
        for operator, block in statement.conditions.items()
        for key, values in block.items()
    )


def _loose_note(statement: doc.Statement) -> str:
    loose = loose_principal_conditions(statement)
    return f" ({'; '.join(loose)})" if loose else ""


# --- checks -------------------------------------------------------------------------


@resource_policy(
    name="iam-policy-document-valid",
    types=GRANTING_TYPES,
    description="IAM policy documents must be well-formed JSON in a shape AWS accepts.",
    severity=MEDIUM,
    profile=SECURITY,
    remediation="Fix the reported element; build documents with "
    "pulumi.Output.json_dumps or aws.iam.get_policy_document.",
)
def _valid(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    found = list(granting_documents(args))
    if is_boundary_policy(args) and get(args.props, "policy") is not None:
        found.append(("boundary policy", doc.parse(get(args.props, "policy"))))
    trust = trust_document(args)
    if trust is not None:
        found.append(("trust policy", trust))
    for label, document in found:
        problems = [*document.errors, *unknown_actions(document)]
        if problems:
            shown = "; ".join(problems[:3])
            more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
            report(f"{label}: {shown}{more}")


def unknown_actions(document: doc.PolicyDocument) -> list[str]:
    """Action and NotAction entries that name no action AWS defines (`iam_actions`): a
    typo grants nothing in an Allow and, worse, denies nothing in a Deny."""
    return [
        f"{statement.label}: {pattern!r} is not an AWS action"
        for statement in document.statements
        for pattern in (*statement.actions, *statement.not_actions)
        if not iam_actions.exists(pattern)
    ]


@resource_policy(
    name="iam-no-admin-wildcard",
    types=GRANTING_TYPES,
    description='No policy may allow Action "*" on Resource "*".',
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_62", "CKV_AWS_1", "AVD-AWS-0057"),
    remediation="Replace the statement with the specific actions and resource "
    "ARNs the workload uses.",
)
def _no_admin_wildcard(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, document in granting_documents(args):
        for statement in document.star_on_star():
            if not is_key_admin_delegation(args, statement):
                report(f"{label}: {statement.label} allows every action on every resource")


@resource_policy(
    name="iam-no-wildcard-actions",
    types=GRANTING_TYPES,
    description='No policy may allow "*" or a whole service ("s3:*").',
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_63", "AVD-AWS-0057"),
    remediation="List the actions the workload calls (CloudTrail or IAM Access "
    "Analyzer policy generation shows them).",
)
def _no_wildcard_actions(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, document in granting_documents(args):
        for statement in document.allow_statements:
            if is_key_admin_delegation(args, statement):
                continue
            broad = [a for a in statement.actions if doc.is_service_wildcard(a)]
            if broad:
                report(
                    f"{label}: {statement.label} allows whole services: {', '.join(broad)}; "
                    "list the actions it needs"
                )


@resource_policy(
    name="iam-scoped-resources",
    types=IDENTITY_TYPES,
    description='Actions that support resource ARNs must not be granted on Resource "*".',
    severity=MEDIUM,
    profile=HYGIENE,
    refs=("CKV_AWS_355", "CKV_AWS_111"),
    remediation='Name the resource ARNs (or an ARN prefix); keep "*" only for '
    "actions without resource-level permissions.",
    config={
        "extraUnscopableActions": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": 'Further actions accepted on Resource "*" (the pack\'s '
            "table, iam_actions.tsv, already knows which AWS actions cannot be scoped).",
        }
    },
)
def _scoped_resources(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    extra = tuple(settings.get("extraUnscopableActions", ()))
    for label, document in identity_documents(args):
        for statement in document.allow_statements:
            if statement.uses_not_action or not any(doc.is_star(r) for r in statement.resources):
                continue
            scopable = [
                a
                for a in statement.actions
                # Every action the pattern covers must lack resource-level permissions
                # (`iam_actions`): `sqs:ListQueues` does, `ec2:*` (which includes
                # ec2:TerminateInstances) not. An unknown action is iam-policy-document-valid's.
                if iam_actions.exists(a)
                and not iam_actions.wildcard_only(a)
                # Or, read literally, it falls inside a configured unscopable pattern.
                and not any(doc.action_matches(u, a) for u in extra)
            ]
            if scopable:
                report(
                    f"{label}: {statement.label} allows {', '.join(scopable)} on "
                    'Resource "*"; these actions support resource ARNs'
                )


@resource_policy(
    name="iam-no-allow-not-action",
    types=GRANTING_TYPES,
    description="No Allow statement may use NotAction.",
    severity=HIGH,
    profile=SECURITY,
    remediation="Allow the listed actions instead; NotAction grants every action AWS ever adds.",
)
def _no_not_action(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, document in granting_documents(args):
        for statement in document.allow_statements:
            if statement.uses_not_action:
                report(
                    f"{label}: {statement.label} allows everything except "
                    f"{', '.join(statement.not_actions) or 'nothing'} (NotAction)"
                )


@resource_policy(
    name="iam-no-allow-not-resource",
    types=GRANTING_TYPES,
    description="No Allow statement may use NotResource.",
    severity=HIGH,
    profile=SECURITY,
    remediation="Allow on the listed resource ARNs instead; NotResource covers "
    "every resource ever created.",
)
def _no_not_resource(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, document in granting_documents(args):
        for statement in document.allow_statements:
            if statement.uses_not_resource:
                report(
                    f"{label}: {statement.label} applies to every resource except "
                    f"{', '.join(statement.not_resources) or 'none'} (NotResource)"
                )


def _managed_policy_name(arn: object) -> str | None:
    match = _AWS_MANAGED_ARN.match(arn.strip()) if isinstance(arn, str) else None
    return match.group(1) if match else None


@resource_policy(
    name="iam-no-admin-managed-policies",
    types=ATTACHMENT_TYPES,
    description="AdministratorAccess, IAMFullAccess and PowerUserAccess must not be attached.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_274",),
    remediation="Attach a customer managed policy with the actions the principal needs.",
)
def _no_admin_managed(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for arn in attached_arns(args.props):
        name = _managed_policy_name(arn)
        if name and name.lower() in ADMIN_MANAGED_POLICIES:
            report(f"attaches the AWS managed policy {name} ({arn})")


@resource_policy(
    name="iam-boundary-not-attached",
    types=ATTACHMENT_TYPES,
    description="A permission boundary policy is never attached as a permission policy.",
    severity=CRITICAL,
    profile=SECURITY,
    remediation="Reference the boundary in permissionsBoundary only; attach a "
    "least-privilege policy for the permissions.",
)
def _boundary_not_attached(
    args: ResourceValidationArgs, report: Report, settings: Settings
) -> None:
    for arn in attached_arns(args.props):
        if isinstance(arn, str) and is_boundary_name(arn.rsplit("/", 1)[-1]):
            report(f"attaches the permission boundary {arn} as a permission policy")


@resource_policy(
    name="iam-no-privilege-escalation",
    types=IDENTITY_TYPES,
    description="Policies must not grant privilege-escalation actions "
    "(CreatePolicyVersion, Attach*Policy, Put*Policy, PassRole with RunInstances "
    "or CreateFunction).",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_110", "CKV_AWS_286"),
    remediation="Remove the IAM write actions; manage IAM through Pulumi, not from workloads.",
)
def _no_escalation(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    for label, document in identity_documents(args):
        risky = [a for a in ESCALATION_ACTIONS if document.granting(a)]
        if risky:
            report(
                f"{label}: grants {', '.join(risky)}, which let a principal raise its own access"
            )
        if document.granting(PASS_ROLE):
            launchers = [a for a in PASS_ROLE_LAUNCHERS if document.granting(a)]
            if launchers:
                report(
                    f"{label}: grants iam:PassRole with {', '.join(launchers)}: it can start "
                    "compute that runs as any role it may pass"
                )


#: A secret ARN pattern: partition, region (or a pattern of regions), account, name.
_SECRET_ARN = re.compile(
    r"arn:(aws[a-z-]*):secretsmanager:([a-z0-9*?-]+):([^:]*):secret:(.*)", re.DOTALL
)


def own_secrets_only(arn: str, prefix: str, accounts: list[str]) -> bool:
    """Does the ARN pattern `arn` match only secrets this stack's program writes: a literal
    12-digit account (one of the provider's `allowedAccountIds` when it sets them) and a
    name that starts with `prefix` (`naming.program_secret_prefix`) literally? The region
    may be any pattern: the permission boundary fences regions."""
    match = _SECRET_ARN.fullmatch(arn)
    if match is None or not prefix:
        return False
    _, _, account, name = match.groups()
    if not re.fullmatch(r"\d{12}", account) or (accounts and account not in accounts):
        return False
    return name.startswith(prefix)


@resource_policy(
    name="iam-no-data-exposure",
    types=IDENTITY_TYPES,
    description="No identity policy may allow reading secrets or parameters, sharing "
    'snapshots with other accounts, or commands and sessions on nodes on Resource "*"; '
    "a Deny may leave out only the secrets the stack's program writes.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_108", "CKV_AWS_288", "CKV_AWS_289"),
    remediation="Name the secret, parameter or instance ARNs the workload reads, or add an "
    'unconditional Deny of these actions on "*" to a policy that must stay service-wide '
    "(the CI apply role's deploy policy does); its NotResource may name only "
    "arn:<partition>:secretsmanager:<region>:<account>:secret:<namePrefix>-<stack>/*.",
)
def _no_data_exposure(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    """Its own exemptions only: excusing a policy's broad deploy rights
    (`iam-no-wildcard-actions`, `iam-no-privilege-escalation`) does not excuse reading data
    through them. A grant through a wildcard (`ssm:*`, `secretsmanager:Get*`, NotAction)
    counts; an unconditional Deny on every resource in the same document takes it away,
    and so does one whose NotResource leaves out only secrets this stack's program writes
    (`own_secrets_only`: the provider reads a secret version back after writing it and on
    refresh, and the value is in the stack's state already)."""
    prefix = program_secret_prefix()
    accounts = allowed_accounts(args.provider)
    own = "arn:<partition>:secretsmanager:<region>:<account>:secret:" + (
        prefix or "<namePrefix>-<stack>/"
    )
    for label, document in identity_documents(args):
        exposed: list[str] = []
        # action -> the NotResource entries of its Deny that are broader than own secrets
        carved: dict[str, set[str]] = {}
        for action in DATA_EXPOSURE_ACTIONS:
            if not any(s.on_any_resource for s in document.granting(action)):
                continue
            carve_outs = document.denies_all_but(action)
            if not carve_outs:
                exposed.append(action)
                continue
            broader = [
                {r for r in s.not_resources if not own_secrets_only(r, prefix, accounts)}
                for s in carve_outs
            ]
            if not all(broader):
                continue  # one Deny leaves out only the program's own secrets
            carved[action] = set().union(*broader)
        if exposed:
            report(
                f"{label}: allows {', '.join(exposed)} on every resource: whoever holds it "
                "can read or share data without changing a resource"
            )
        if carved:
            left_out = sorted(set().union(*carved.values()))
            report(
                f"{label}: allows {', '.join(carved)} on every resource except what its "
                f"Deny leaves out ({', '.join(left_out)}), which is more than the secrets "
                f"this stack's program writes ({own}*, in this account)"
            )


@resource_policy(
    name="iam-passrole-requires-approval",
    types=IDENTITY_TYPES,
    description="A policy granting iam:PassRole needs an approval in the stack's policy "
    'config; PassRole on Resource "*" is never approved.',
    severity=HIGH,
    profile=SECURITY,
    remediation="Scope PassRole to the role ARNs (and iam:PassedToService), then add the "
    "policy to this policy's exemptions (its approvals) in a reviewed change to the "
    "policy config.",
    config={
        "exemptions": {
            **EXEMPTIONS,
            "description": "Approved PassRole grants on named roles: {type, name, reason} "
            "or {urn, reason}; a grant on every role is never approved.",
        }
    },
    # Its exemptions are the approvals, and "*" must stay unapprovable: it applies them
    # itself, to grants on named roles only.
    exemptable=False,
)
def _pass_role_approval(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    approved = exempted(settings.get("exemptions"), args.urn)
    for label, document in identity_documents(args):
        statements = document.granting(PASS_ROLE)
        if not statements:
            continue
        anywhere = [s for s in statements if s.on_any_resource]
        if anywhere:
            report(
                f"{label}: {anywhere[0].label} grants iam:PassRole on every role "
                '(Resource "*" or NotResource); name the role ARNs. This is never approvable'
            )
        elif not approved:
            roles = sorted({r for s in statements for r in s.resources})
            report(
                f"{label}: grants iam:PassRole on {', '.join(roles)}; after review, approve "
                "it with an entry in this policy's exemptions in the stack's policy config"
            )


@resource_policy(
    name="iam-trust-no-open-principal",
    types={ROLE},
    description="A role's trust policy must not let any principal assume it.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_60",),
    remediation="Name the trusted principals, or pin aws:PrincipalOrgID or "
    "aws:PrincipalAccount in a condition.",
)
def _trust_not_open(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    trust = trust_document(args)
    if trust is None:
        return
    for statement in trust.allow_statements:
        if statement.not_principals:
            report(f"trust policy: {statement.label} uses NotPrincipal with Allow")
        elif statement.any_principal and not restricts_principal(statement):
            report(
                f"trust policy: {statement.label} lets any principal assume the role"
                f"{_loose_note(statement)}; name the principals or pin "
                "aws:PrincipalOrgID/aws:PrincipalAccount"
            )


@resource_policy(
    name="iam-oidc-trust-conditions",
    types={ROLE},
    description="OIDC (IRSA, CI) trust statements must pin both the sub and the aud claims "
    "to exact values.",
    severity=HIGH,
    profile=SECURITY,
    refs=("CKV_AWS_358",),
    remediation='Add StringEquals on "<issuer>:sub" (the service account or '
    'repository) and "<issuer>:aud" (sts.amazonaws.com).',
)
def _oidc_conditions(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    trust = trust_document(args)
    if trust is None:
        return
    for statement in trust.allow_statements:
        federated = [
            p
            for kind, values in statement.principals.items()
            if kind.lower() == "federated"
            for p in values
            if ":oidc-provider/" in p
        ]
        if not federated:
            continue
        # Only a narrowing operator pins a claim: StringNotEquals, ...IfExists or
        # ForAllValues on sub admit subjects outside the listed values.
        missing = [
            k for k in ("sub", "aud") if not statement.condition_values(f":{k}", narrowing=True)
        ]
        if missing:
            report(
                f"trust policy: {statement.label} trusts {federated[0]} without a "
                f"{' or '.join(missing)} condition that pins it: any identity of that "
                "issuer could assume the role"
            )
            continue
        for claim in ("sub", "aud"):
            values = statement.condition_values(f":{claim}", narrowing=True)
            wide = [v for v in values if doc.has_wildcard(v)]
            if wide:
                report(
                    f"trust policy: {statement.label} accepts any {claim} matching "
                    f"{', '.join(wide)} (any repository, branch or service account that "
                    "fits); list the exact subjects"
                )


@resource_policy(
    name="iam-no-user-policies",
    types={
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
        "aws:iam/userPoliciesExclusive:UserPoliciesExclusive",
        "aws:iam/policyAttachment:PolicyAttachment",
    },
    description="Policies must not be attached to IAM users.",
    severity=MEDIUM,
    profile=SECURITY,
    refs=("CKV_AWS_40", "AVD-AWS-0143"),
    remediation="Attach the policy to a group or a role the user assumes.",
)
def _no_user_policies(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    kind = args.resource_type
    if kind == "aws:iam/policyAttachment:PolicyAttachment":
        users = as_list(get(args.props, "users"))
        if users:
            report(f"attaches a policy directly to users {', '.join(map(str, users))}")
        return
    user = get(args.props, "user") or get(args.props, "userName")
    report(f"attaches a policy directly to user {user}; grant it through a group or a role")


def _boundary_ok(value: str, settings) -> bool:
    if value in settings.get("boundaryArns", ()):
        return True
    name = value.rsplit("/", 1)[-1]
    prefix = settings["namePrefix"] or boundary_name_prefix()
    return name.startswith(prefix) and name.endswith(settings["nameSuffix"])


@resource_policy(
    name="iam-role-permission-boundary",
    types={ROLE},
    description="Every IAM role must carry the platform permissions boundary.",
    severity=HIGH,
    profile=SECURITY,
    remediation="Set permissionsBoundary to the ARN of the platform boundary "
    "policy (components/identity.py creates it).",
    config={
        "namePrefix": {
            "type": "string",
            "default": "",
            "description": "Start of an accepted boundary name; empty: the analysed "
            "stack's own <namePrefix>-<stack>- (ballast:namePrefix, else the project).",
        },
        "nameSuffix": {"type": "string", "default": BOUNDARY_SUFFIX},
        "boundaryArns": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Boundary policy ARNs accepted whatever their name.",
        },
    },
)
def _permission_boundary(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    value = get(args.props, "permissionsBoundary")
    if not value:
        report(
            "has no permissions boundary; set permissionsBoundary to the platform boundary "
            f"({settings['namePrefix'] or boundary_name_prefix()}...{settings['nameSuffix']})"
        )
    elif not isinstance(value, str) or not _boundary_ok(value, settings):
        report(f"its permissions boundary {value} is not the platform boundary")


#: Every resource whose arguments carry a resource-based policy (a document with
#: principals), declared on the resource itself or as a resource of its own, with the
#: input that holds it (pulumi-aws 7). Not here: S3 buckets and `s3/bucketPolicy`
#: (`s3-no-public-policy` in data, with the public testing-bucket exception); identity
#: and session policies (no principals); VPC endpoint policies (they limit what passes
#: through an endpoint: `Principal "*"` there is the norm, not an exposure);
#: `ecrpublic` (public by design); documents of other grammars (data protection, IoT,
#: OpenSearch Serverless, Verified Access, lifecycle and resiliency policies).
PUBLIC_POLICY_INPUTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "aws:kms/key:Key",
            "aws:kms/keyPolicy:KeyPolicy",
            "aws:kms/externalKey:ExternalKey",
            "aws:kms/replicaKey:ReplicaKey",
            "aws:kms/replicaExternalKey:ReplicaExternalKey",
            "aws:sqs/queue:Queue",
            "aws:sqs/queuePolicy:QueuePolicy",
            "aws:sns/topic:Topic",
            "aws:sns/topicPolicy:TopicPolicy",
            "aws:secretsmanager/secret:Secret",
            "aws:secretsmanager/secretPolicy:SecretPolicy",
            "aws:ecr/repositoryPolicy:RepositoryPolicy",
            "aws:ecr/registryPolicy:RegistryPolicy",
            "aws:acmpca/policy:Policy",
            "aws:apigateway/restApi:RestApi",
            "aws:apigateway/restApiPolicy:RestApiPolicy",
            "aws:apigateway/domainName:DomainName",
            "aws:backup/vaultPolicy:VaultPolicy",
            "aws:bedrock/agentcoreResourcePolicy:AgentcoreResourcePolicy",
            "aws:cloudwatch/eventBusPolicy:EventBusPolicy",
            "aws:codebuild/resourcePolicy:ResourcePolicy",
            "aws:dsql/clusterPolicy:ClusterPolicy",
            "aws:dynamodb/resourcePolicy:ResourcePolicy",
            "aws:efs/fileSystemPolicy:FileSystemPolicy",
            "aws:glacier/vaultLock:VaultLock",
            "aws:glue/resourcePolicy:ResourcePolicy",
            "aws:kinesis/resourcePolicy:ResourcePolicy",
            "aws:lambda/resourcePolicy:ResourcePolicy",
            "aws:mediastore/containerPolicy:ContainerPolicy",
            "aws:msk/clusterPolicy:ClusterPolicy",
            "aws:networkfirewall/resourcePolicy:ResourcePolicy",
            "aws:oam/sinkPolicy:SinkPolicy",
            "aws:opensearchingest/resourcePolicy:ResourcePolicy",
            "aws:pinpoint/smsvoicev2ResourcePolicy:Smsvoicev2ResourcePolicy",
            "aws:redshift/resourcePolicy:ResourcePolicy",
            "aws:redshiftserverless/resourcePolicy:ResourcePolicy",
            "aws:s3/accessPoint:AccessPoint",
            "aws:s3/filesFileSystemPolicy:FilesFileSystemPolicy",
            "aws:s3/vectorsVectorBucketPolicy:VectorsVectorBucketPolicy",
            "aws:s3control/accessGrantsInstanceResourcePolicy:AccessGrantsInstanceResourcePolicy",
            "aws:s3control/accessPointPolicy:AccessPointPolicy",
            "aws:s3control/bucketPolicy:BucketPolicy",
            "aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy",
            "aws:schemas/registryPolicy:RegistryPolicy",
            "aws:ses/identityPolicy:IdentityPolicy",
            "aws:sesv2/emailIdentityPolicy:EmailIdentityPolicy",
            "aws:vpclattice/authPolicy:AuthPolicy",
            "aws:vpclattice/resourcePolicy:ResourcePolicy",
        ),
        "policy",
    ),
    **dict.fromkeys(
        (
            "aws:amp/resourcePolicy:ResourcePolicy",
            "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
            "aws:codeartifact/domainPermissions:DomainPermissions",
            "aws:codeartifact/repositoryPermissionsPolicy:RepositoryPermissionsPolicy",
            "aws:xray/resourcePolicy:ResourcePolicy",
        ),
        "policyDocument",
    ),
    **dict.fromkeys(
        (
            "aws:cloudsearch/domainServiceAccessPolicy:DomainServiceAccessPolicy",
            "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy",
            "aws:glacier/vault:Vault",
        ),
        "accessPolicy",
    ),
    **dict.fromkeys(
        (
            "aws:elasticsearch/domain:Domain",
            "aws:elasticsearch/domainPolicy:DomainPolicy",
            "aws:opensearch/domain:Domain",
            "aws:opensearch/domainPolicy:DomainPolicy",
        ),
        "accessPolicies",
    ),
    **dict.fromkeys(
        (
            "aws:s3tables/tableBucketPolicy:TableBucketPolicy",
            "aws:s3tables/tablePolicy:TablePolicy",
            "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
        ),
        "resourcePolicy",
    ),
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": "repositoryPolicy",
}
#: Grants to one principal, without a document: the principal and the inputs that
#: narrow it (each one, if set, to an account, an organisation or a source ARN).
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
LAYER_PERMISSION = "aws:lambda/layerVersionPermission:LayerVersionPermission"
PRINCIPAL_GRANT_NARROWING: dict[str, dict[str, str]] = {
    LAMBDA_PERMISSION: {
        "sourceAccount": "aws:SourceAccount",
        "sourceArn": "aws:SourceArn",
        "principalOrgId": "aws:PrincipalOrgID",
    },
    LAYER_PERMISSION: {"organizationId": "aws:PrincipalOrgID"},
}


def _public_grant(args: ResourceValidationArgs) -> str | None:
    """Why a principal grant (Lambda permission) is open to anyone, or None."""
    principal = get(args.props, "principal")
    if not isinstance(principal, str) or not doc.is_star(principal):
        return None
    narrowing = PRINCIPAL_GRANT_NARROWING[args.resource_type]
    for prop, key in narrowing.items():
        value = get(args.props, prop)
        if isinstance(value, str) and pinned_value(key, value):
            return None
    loose = [f"{p} {get(args.props, p)}" for p in narrowing if get(args.props, p) is not None]
    note = f" ({', '.join(loose)} matches any account)" if loose else ""
    return f'grants principal "*"{note}; set {" or ".join(narrowing)}'


@resource_policy(
    name="resource-policy-no-public-principal",
    types=frozenset(PUBLIC_POLICY_INPUTS) | frozenset(PRINCIPAL_GRANT_NARROWING),
    description="Resource policies (on the resource or beside it: keys, queues, topics, "
    "secrets, repositories, Lambda permissions, ...) must not allow any principal "
    "without an account or organisation condition.",
    severity=CRITICAL,
    profile=SECURITY,
    refs=("CKV_AWS_33", "CKV_AWS_168", "CKV_AWS_301"),
    remediation="Name the principals, or add kms:CallerAccount / aws:PrincipalOrgID / "
    "aws:SourceArn conditions (sourceArn, sourceAccount or principalOrgId on a permission).",
)
def _key_policy_principal(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    if args.resource_type in PRINCIPAL_GRANT_NARROWING:
        reason = _public_grant(args)
        if reason:
            report(reason)
        return
    prop = PUBLIC_POLICY_INPUTS[args.resource_type]
    text = get(args.props, prop)
    if text is None or text == "":
        return
    for statement in doc.parse(text).allow_statements:
        if statement.any_principal and not restricts_principal(statement):
            report(
                f"{prop}: {statement.label} allows any principal{_loose_note(statement)}; "
                "add a kms:CallerAccount or aws:PrincipalOrgID condition, or name the "
                "principals"
            )


@resource_policy(
    name="iam-no-user-access-keys",
    types={"aws:iam/accessKey:AccessKey"},
    description="IAM users get no long-lived access keys.",
    severity=HIGH,
    profile=SECURITY,
    remediation="Let the caller assume a role (IRSA, OIDC federation from CI, IAM Identity "
    "Center); exempt the key by URN, with the reason, only where nothing can assume one.",
)
def _no_user_access_keys(args: ResourceValidationArgs, report: Report, settings: Settings) -> None:
    user = get(args.props, "user") or "(unknown user)"
    status = get(args.props, "status") or "Active"
    report(f"creates a long-lived access key ({status}) for user {user}")
