"""Convert an offline plan (`ProgramRun`) into a Terraform JSON configuration for the AWS
provider.

Mapping rules (each has a unit test in tests/toolkit/test_verify_convert.py):

- Resource type: `aws:<module>/<name>:<Name>` becomes the irregular type of `TOKEN_TYPES`
  (`aws:cloudtrail/trail:Trail` -> `aws_cloudtrail`) if listed, else
  `aws_<prefix>_<snake name>` for a module whose Terraform prefix differs
  (`MODULE_PREFIXES`: `rds` -> `db`), else `aws_<module>_<snake name>` when the provider
  has that type, else `aws_<snake name>`; always checked against the provider schema.
- Property names: camelCase to snake_case, then, when the schema has no such name, the
  singular of a pluralised Pulumi name (`rules` -> `rule`, `policies` -> `policy`) and
  the renames in `PROPERTY_RENAMES`. Nested blocks are written as JSON objects or arrays
  of objects per the schema; map attributes keep their keys; a JSON document (a dict
  given to a string attribute) is written as a string.
- Arguments that exist only in the provider major version pulumi-aws is generated from
  are dropped with a note (`ballast.verify.skew`), never silently.
- Providers: one aliased `provider "aws"` per `pulumi:providers:aws` (region, default
  tags) plus emulator settings when an endpoint is given.
- References (`linked` mode): a value that came from another resource (the engine's
  recorded `propertyDependencies`) becomes `${aws_x.name.attr}` where the value equals
  (or, inside a document, contains) one of that resource's identifying attributes;
  a dependency that matches no value becomes `depends_on`, so Terraform orders creates
  exactly as the graph says. `literal` mode writes the resolved values instead.
- Not converted: component resources, the stack, reads, and resources of other
  packages (Kubernetes, random, tls); they are counted by kind in `Conversion.skipped`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from ballast.offline import ProgramRun, ResourceRecord
from ballast.verify.schema import ProviderSchema
from ballast.verify.skew import dropped_argument, skewed_value

Mode = Literal["literal", "linked"]

#: Pulumi module -> Terraform type prefix where the two differ.
MODULE_PREFIXES: dict[str, str] = {"rds": "db"}
#: Tokens whose Terraform type follows no rule (checked against the schema all the same).
TOKEN_TYPES: dict[str, str] = {
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
}
#: (Terraform type, Pulumi property) -> Terraform argument, where neither snake_case nor
#: singularising gives the name.
PROPERTY_RENAMES: dict[tuple[str, str], str] = {
    ("aws_cloudwatch_metric_alarm", "name"): "alarm_name",
}
#: Terraform type prefixes whose service endpoint key is not the type's second word
#: (longest prefix wins; a prefix matches whole words: `aws_route` matches `aws_route`
#: and `aws_route_table`, not `aws_route53_zone`); every other type uses
#: `aws_<service>_...`.
SERVICE_PREFIXES: dict[str, str] = {
    "aws_lb": "elbv2",
    "aws_db_": "rds",
    "aws_cloudwatch_log_": "logs",
    "aws_cloudwatch_event_": "events",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_cloudtrail": "cloudtrail",
    "aws_vpc_endpoint": "ec2",
    "aws_vpc_security_group_": "ec2",
    "aws_vpc": "ec2",
    "aws_subnet": "ec2",
    "aws_route_table": "ec2",
    "aws_route": "ec2",
    "aws_internet_gateway": "ec2",
    "aws_nat_gateway": "ec2",
    "aws_eip": "ec2",
    "aws_flow_log": "ec2",
    "aws_launch_template": "ec2",
    "aws_security_group": "ec2",
    "aws_default_security_group": "ec2",
}
#: Services the provider itself calls (account and caller lookups).
PROVIDER_SERVICES = ("iam", "sts")
#: Attributes a reference may point at, besides `id` and any `*_id`, `*_arn`, `*_name`.
REFERENCE_ATTRIBUTES = frozenset({"id", "arn", "name", "bucket", "address", "endpoint"})
#: Shorter values are never rewritten as references (they would match by accident).
MIN_REFERENCE_LENGTH = 6
_PROVIDER_TOKEN = "pulumi:providers:aws"


class ConversionError(ValueError):
    """A resource type the provider schema does not know."""


def snake(name: str) -> str:
    """`enableDnsSupport` -> `enable_dns_support`, `kmsKeyId` -> `kms_key_id`."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return name.lower()


def singulars(name: str) -> list[str]:
    """Candidate singulars of a snake_case plural, most likely first."""
    out = []
    if name.endswith("ies"):
        out.append(name[:-3] + "y")
    if name.endswith("ses") or name.endswith("xes"):
        out.append(name[:-2])
    if name.endswith("s"):
        out.append(name[:-1])
    return out


def terraform_type(token: str, schema: ProviderSchema) -> str:
    """The Terraform resource type of a pulumi-aws token (see the module docstring)."""
    _, _, rest = token.partition(":")
    module, _, name = rest.partition(":")[0].partition("/")
    base = snake(name)
    candidates = [f"aws_{module}_{base}", f"aws_{base}"]
    if module in MODULE_PREFIXES:
        candidates.insert(0, f"aws_{MODULE_PREFIXES[module]}_{base}")
    if token in TOKEN_TYPES:
        candidates.insert(0, TOKEN_TYPES[token])
    types = schema.resource_types
    for candidate in candidates:
        if candidate in types:
            return candidate
    raise ConversionError(
        f"{token} matches no resource type of the AWS provider {schema.version} "
        f"(tried {', '.join(candidates)})"
    )


def _escape(text: str) -> str:
    """A literal string as Terraform JSON syntax reads it: `${` and `%{` escaped."""
    return text.replace("${", "$${").replace("%{", "%%{")


@dataclass(frozen=True)
class Note:
    """Something the converter left out or changed, with the reason."""

    address: str
    argument: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"address": self.address, "argument": self.argument, "reason": self.reason}


@dataclass
class Conversion:
    config: dict[str, Any]
    addresses: dict[str, str] = field(default_factory=dict)
    """URN -> Terraform address of every converted resource."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Not converted, by kind (`component`, `kubernetes`, `random`, `read`, ...)."""
    notes: list[Note] = field(default_factory=list)
    references: int = 0
    """How many values became reference expressions (linked mode)."""

    @property
    def urns(self) -> dict[str, str]:
        return {address: urn for urn, address in self.addresses.items()}


class _Values:
    """Converts one resource's values against its schema block."""

    def __init__(self, tf_type: str, address: str, notes: list[Note]):
        self.tf_type = tf_type
        self.address = address
        self.notes = notes

    def block(self, values: dict[str, Any], block: dict[str, Any], path: str) -> dict[str, Any]:
        attributes = block.get("attributes", {})
        blocks = block.get("block_types", {})
        out: dict[str, Any] = {}
        for key, value in values.items():
            name = self._name(key, attributes, blocks)
            where = f"{path}{name}"
            if name is None:
                reason = dropped_argument(self.tf_type, snake(key))
                if reason is not None:
                    self.notes.append(Note(self.address, f"{path}{snake(key)}", reason))
                    continue
                # Unknown here: pass it through so `terraform validate` names it.
                out[snake(key)] = value
                continue
            if value is None:
                continue
            if name in attributes:
                attr = attributes[name]
                if attr.get("computed") and not attr.get("optional") and not attr.get("required"):
                    self.notes.append(
                        Note(self.address, where, "computed by the provider: not an argument")
                    )
                    continue
                if "nested_type" in attr:
                    out[name] = self.nested(value, attr["nested_type"], f"{where}.")
                else:
                    out[name] = self.attribute(value, attr["type"])
            else:
                out[name] = self.nested_block(value, blocks[name], f"{where}.")
        return out

    def _name(self, key: str, attributes: dict, blocks: dict) -> str | None:
        if (self.tf_type, key) in PROPERTY_RENAMES:
            return PROPERTY_RENAMES[(self.tf_type, key)]
        name = snake(key)
        if name in attributes or name in blocks:
            return name
        for candidate in singulars(name):
            if candidate in blocks or candidate in attributes:
                return candidate
        return None

    def nested_block(self, value: Any, spec: dict[str, Any], path: str) -> Any:
        inner = spec["block"]
        if spec.get("nesting_mode") in ("single", "group"):
            items = value if isinstance(value, list) else [value]
            return self.block(items[0], inner, path) if items else None
        if spec.get("nesting_mode") == "map":
            return {k: self.block(v, inner, path) for k, v in value.items()}
        items = value if isinstance(value, list) else [value]
        return [self.block(item, inner, path) for item in items]

    def nested(self, value: Any, nested: dict[str, Any], path: str) -> Any:
        block = {"attributes": nested.get("attributes", {})}
        mode = nested.get("nesting_mode")
        if mode in ("list", "set"):
            return [self.block(item, block, path) for item in value]
        if mode == "map":
            return {k: self.block(v, block, path) for k, v in value.items()}
        return self.block(value, block, path)

    def attribute(self, value: Any, type_: Any) -> Any:
        if type_ == "string":
            if isinstance(value, (dict, list)):
                return _escape(json.dumps(value))
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, str):
                return _escape(value)
            return str(value)
        if type_ == "number" or type_ == "bool" or type_ == "dynamic":
            return value
        kind, inner = type_[0], type_[1]
        if kind in ("list", "set"):
            return [
                self.attribute(v, inner) for v in (value if isinstance(value, list) else [value])
            ]
        if kind == "map":
            return {k: self.attribute(v, inner) for k, v in value.items()}
        if kind == "object":
            out = {}
            for key, item in value.items():
                name = snake(key) if snake(key) in inner else key
                out[name] = self.attribute(item, inner.get(name, "dynamic"))
            return out
        return value


def _identifier(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    return text if text[:1].isalpha() or text[:1] == "_" else f"r_{text}"


def endpoint_service(tf_type: str, schema: ProviderSchema) -> str:
    """The `endpoints` key of the service a Terraform resource type talks to."""
    for prefix in sorted(SERVICE_PREFIXES, key=len, reverse=True):
        stem = prefix.rstrip("_")
        if tf_type == stem or tf_type.startswith(f"{stem}_"):
            return SERVICE_PREFIXES[prefix]
    service = tf_type.split("_")[1]
    if service not in schema.endpoint_services():
        raise ConversionError(
            f"{tf_type}: no endpoint key for its service; add its prefix to SERVICE_PREFIXES"
        )
    return service


def _provider_block(
    record: ResourceRecord,
    alias: str,
    schema: ProviderSchema,
    endpoint: str | None,
    services: set[str],
    account_lookup: bool,
) -> dict[str, Any]:
    inputs = record.inputs
    block: dict[str, Any] = {"alias": alias}
    if inputs.get("region"):
        block["region"] = inputs["region"]
    tags = inputs.get("defaultTags")
    if isinstance(tags, str):
        tags = json.loads(tags)
    if isinstance(tags, dict) and tags.get("tags"):
        block["default_tags"] = {"tags": tags["tags"]}
    if endpoint is not None:
        block.update(
            access_key="ballast-verify",
            secret_key="ballast-verify",
            skip_credentials_validation=True,
            skip_metadata_api_check=True,
            skip_region_validation=True,
            skip_requesting_account_id=not account_lookup,
            s3_use_path_style=True,
            max_retries=2,
            endpoints=[{service: endpoint for service in sorted(services)}],
        )
    return block


class _References:
    """Rewrites values that came from other resources as reference expressions."""

    def __init__(self, run: ProgramRun, addresses: dict[str, str], schema: ProviderSchema):
        self.by_urn = run.by_urn()
        self.addresses = addresses
        self.schema = schema
        self.count = 0

    def candidates(self, urn: str) -> list[tuple[str, str]]:
        """(value, expression) pairs a dependency offers, longest value first."""
        record = self.by_urn.get(urn)
        address = self.addresses.get(urn)
        if record is None or address is None:
            return []
        tf_type = address.split(".", 1)[0]
        values = dict(record.outputs)
        if record.id:
            values["id"] = record.id
        pairs: list[tuple[int, str, str]] = []
        for path, name, value in _leaves(values, self.schema.resource(tf_type), ""):
            if len(value) < MIN_REFERENCE_LENGTH:
                continue
            if not (name in REFERENCE_ATTRIBUTES or name.endswith(("_id", "_arn", "_name"))):
                continue
            rank = 0 if path == "id" else 1 if path == "arn" else 2 + path.count(".")
            pairs.append((rank, value, f"${{{address}.{path}}}"))
        pairs.sort(key=lambda p: (-len(p[1]), p[0]))
        seen: set[str] = set()
        out = []
        for _, value, expression in pairs:
            if value not in seen:
                seen.add(value)
                out.append((value, expression))
        return out

    def rewrite(self, value: Any, pairs: list[tuple[str, str]], used: set[str]) -> Any:
        if isinstance(value, dict):
            return {k: self.rewrite(v, pairs, used) for k, v in value.items()}
        if isinstance(value, list):
            return [self.rewrite(v, pairs, used) for v in value]
        if not isinstance(value, str):
            return value
        for literal, expression in pairs:
            if value == _escape(literal):
                used.add(expression)
                self.count += 1
                return expression
        pattern = "|".join(re.escape(_escape(lit)) for lit, _ in pairs)
        if not pattern:
            return value
        lookup = {_escape(lit): expr for lit, expr in pairs}

        def swap(match: re.Match[str]) -> str:
            used.add(lookup[match.group(0)])
            self.count += 1
            return lookup[match.group(0)]

        return re.sub(rf"(?<![\w-])(?:{pattern})(?![\w-])", swap, value)


#: How deep a reference may reach into nested blocks (`vpc_config[0].x` is depth 1).
MAX_REFERENCE_DEPTH = 2


def _leaves(values: dict[str, Any], block: dict[str, Any], prefix: str, depth: int = 0):
    """(path, attribute name, value) of every string attribute of a resource's outputs
    the schema knows, through list and single nested blocks of one item
    (`vpc_config[0].cluster_security_group_id`); set blocks cannot be indexed."""
    attributes = block.get("attributes", {})
    blocks = block.get("block_types", {})
    for key, value in values.items():
        name = snake(key)
        if isinstance(value, str) and (name in attributes or (not prefix and name == "id")):
            yield f"{prefix}{name}", name, value
        elif name in blocks and depth < MAX_REFERENCE_DEPTH:
            spec = blocks[name]
            items = value if isinstance(value, list) else [value]
            if len(items) != 1 or not isinstance(items[0], dict):
                continue
            mode = spec.get("nesting_mode")
            if mode == "list":
                path = f"{prefix}{name}[0]."
            elif mode in ("single", "group"):
                path = f"{prefix}{name}."
            else:
                continue
            yield from _leaves(items[0], spec["block"], path, depth + 1)


def _merge(offers) -> list[tuple[str, str]]:
    """Every dependency's (value, expression) pairs in one list, longest value first (so
    an ARN is replaced whole, not the name inside it), one expression per value."""
    pairs: dict[str, str] = {}
    for offer in offers:
        for value, expression in offer:
            pairs.setdefault(value, expression)
    return sorted(pairs.items(), key=lambda p: -len(p[0]))


def _descendants(run: ProgramRun, urn: str) -> list[str]:
    out, stack = [], [urn]
    while stack:
        for child in run.children(stack.pop()):
            out.append(child.urn)
            stack.append(child.urn)
    return out


def _skip_kind(record: ResourceRecord) -> str | None:
    if record.type == "pulumi:pulumi:Stack":
        return "stack"
    if record.read:
        return "read"
    if not record.custom:
        return "component"
    if record.is_provider:
        return None if record.type == _PROVIDER_TOKEN else f"provider ({record.package})"
    if record.package != "aws":
        return record.package
    return None


def convert(
    run: ProgramRun,
    schema: ProviderSchema,
    *,
    mode: Mode = "literal",
    endpoint: str | None = None,
    account_lookup: bool = False,
) -> Conversion:
    """The Terraform JSON configuration of `run`'s AWS resources (see the module
    docstring). `endpoint`, when given, points every provider at it for every service
    the resources use (with fake credentials): the emulator, or a local listener that
    proves no calls. `account_lookup` (default off) lets the provider ask STS for the
    account ID, as it must against the emulator."""
    from ballast.verify.terraform import required_providers

    conversion = Conversion(config={"terraform": required_providers(schema.version)})
    providers: dict[str, str] = {}
    provider_records: list[tuple[ResourceRecord, str]] = []
    names: Counter[str] = Counter()
    pending: list[tuple[ResourceRecord, str, str]] = []
    for record in run.resources:
        kind = _skip_kind(record)
        if kind is not None:
            conversion.skipped[kind] += 1
            continue
        if record.is_provider:
            alias = _identifier(record.name)
            providers[record.urn] = f"aws.{alias}"
            provider_records.append((record, alias))
            continue
        tf_type = terraform_type(record.type, schema)
        name = _identifier(record.name)
        names[f"{tf_type}.{name}"] += 1
        if names[f"{tf_type}.{name}"] > 1:
            name = f"{name}_{names[f'{tf_type}.{name}']}"
        address = f"{tf_type}.{name}"
        conversion.addresses[record.urn] = address
        pending.append((record, tf_type, name))

    bodies = []
    for record, tf_type, name in pending:
        address = f"{tf_type}.{name}"
        values = _Values(tf_type, address, conversion.notes)
        body = values.block(record.inputs, schema.resource(tf_type), "")
        skew = skewed_value(tf_type, body)
        if skew is not None:
            conversion.notes.append(Note(address, "(resource)", f"not converted: {skew}"))
            conversion.skipped["provider skew"] += 1
            del conversion.addresses[record.urn]
            continue
        bodies.append((record, tf_type, name, values, body))

    references = _References(run, conversion.addresses, schema)
    resources: dict[str, dict[str, Any]] = {}
    for record, tf_type, name, values, body in bodies:
        address = f"{tf_type}.{name}"
        depends: set[str] = set()
        for urn in record.depends_on:
            targets = [urn] if urn in conversion.addresses else _descendants(run, urn)
            depends.update(conversion.addresses[t] for t in targets if t in conversion.addresses)
        if mode == "linked":
            for key, urns in record.property_dependencies.items():
                argument = values._name(key, *_top(schema, tf_type))
                if argument is None or argument not in body:
                    continue
                targets = [
                    target
                    for urn in urns
                    for target in ([urn] if urn in conversion.addresses else _descendants(run, urn))
                    if target in conversion.addresses
                ]
                offered = {target: references.candidates(target) for target in targets}
                pairs = _merge(offered.values())
                used: set[str] = set()
                body[argument] = references.rewrite(body[argument], pairs, used)
                for target, candidates in offered.items():
                    if not used & {expression for _, expression in candidates}:
                        depends.add(conversion.addresses[target])
        depends.discard(address)
        if record.provider in providers:
            body["provider"] = providers[record.provider]
        if depends:
            body["depends_on"] = sorted(depends)
        resources.setdefault(tf_type, {})[name] = body
    conversion.references = references.count
    services = set(PROVIDER_SERVICES) | {endpoint_service(t, schema) for t in resources}
    if provider_records:
        conversion.config["provider"] = {
            "aws": [
                _provider_block(record, alias, schema, endpoint, services, account_lookup)
                for record, alias in provider_records
            ]
        }
    conversion.config["resource"] = resources
    return conversion


def _top(schema: ProviderSchema, tf_type: str) -> tuple[dict, dict]:
    block = schema.resource(tf_type)
    return block.get("attributes", {}), block.get("block_types", {})
