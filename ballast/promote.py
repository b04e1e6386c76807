"""`ballast promote`: move a service's image from one environment's overlay to the next,
by digest, as a reviewable one-file diff (docs/gitops.md).

The overlay of service S in environment E is `gitops/envs/E/S.yaml`, a patch of S's Argo
CD Application whose `spec.source.helm.valuesObject.image` holds `digest`
(`sha256:<64 hex>`) and `gitSha` (the commit the image was built from). Promotion copies
both from the source overlay into the target overlay and changes no other line, so the
target runs exactly the image the source tested: never rebuilt, never a tag. The image
repository line is left alone (each environment may pull from its own registry, which
holds the same digest through replication).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ballast.files import write_text_atomically

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
GIT_SHA = re.compile(r"^[0-9a-f]{40}$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LINE = {
    "digest": re.compile(
        r"^(?P<head>\s*digest:\s*)(?P<q>[\"']?)(?P<value>[^\s\"'#]+)(?P=q)(?P<tail>\s*(#.*)?)$"
    ),
    "gitSha": re.compile(
        r"^(?P<head>\s*gitSha:\s*)(?P<q>[\"']?)(?P<value>[^\s\"'#]+)(?P=q)(?P<tail>\s*(#.*)?)$"
    ),
}


class PromotionError(Exception):
    """A promotion that cannot be made; the message names the input and what is accepted."""


@dataclass(frozen=True)
class Promotion:
    service: str
    source: str
    target: str
    digest: str
    git_sha: str
    previous_digest: str
    previous_git_sha: str
    path: Path

    @property
    def changed(self) -> bool:
        return (self.digest, self.git_sha) != (self.previous_digest, self.previous_git_sha)

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "from": self.source,
            "to": self.target,
            "digest": self.digest,
            "gitSha": self.git_sha,
            "previousDigest": self.previous_digest,
            "previousGitSha": self.previous_git_sha,
            "file": str(self.path),
            "changed": self.changed,
        }


def overlay_path(gitops_dir: Path, environment: str, service: str) -> Path:
    return gitops_dir / "envs" / environment / f"{service}.yaml"


def _image(path: Path, environment: str) -> dict[str, str]:
    if not path.is_file():
        raise PromotionError(
            f"{path} does not exist: {environment} has no overlay for this service "
            "(expected gitops/envs/<env>/<service>.yaml)"
        )
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        image = document["spec"]["source"]["helm"]["valuesObject"]["image"]
    except (yaml.YAMLError, KeyError, TypeError):
        raise PromotionError(
            f"{path} has no spec.source.helm.valuesObject.image: not a service overlay"
        ) from None
    digest, git_sha = str(image.get("digest", "")), str(image.get("gitSha", ""))
    if not DIGEST.fullmatch(digest):
        raise PromotionError(
            f"{path}: image.digest must be sha256:<64 hex digits> (got {digest!r})"
        )
    if not GIT_SHA.fullmatch(git_sha):
        raise PromotionError(f"{path}: image.gitSha must be a 40-hex commit (got {git_sha!r})")
    return {"digest": digest, "gitSha": git_sha}


def _rewrite(text: str, path: Path, values: dict[str, str]) -> str:
    lines = text.splitlines(keepends=True)
    for key, value in values.items():
        hits = [i for i, line in enumerate(lines) if _LINE[key].match(line.rstrip("\n"))]
        if len(hits) != 1:
            raise PromotionError(
                f"{path} must have exactly one `{key}:` line to rewrite (found {len(hits)})"
            )
        (i,) = hits
        ending = lines[i][len(lines[i].rstrip("\n")) :]
        match = _LINE[key].match(lines[i].rstrip("\n"))
        assert match is not None
        quote = match.group("q") or ('"' if key == "gitSha" else "")
        lines[i] = f"{match.group('head')}{quote}{value}{quote}{match.group('tail')}{ending}"
    return "".join(lines)


def promote(
    gitops_dir: Path,
    *,
    service: str,
    source: str,
    target: str,
    digest: str | None = None,
    write: bool = True,
) -> Promotion:
    """Copy `service`'s digest and Git SHA from `source`'s overlay into `target`'s.
    `digest`, when given, must be the one in the source overlay (a digest the source never
    ran is refused). With `write=False` nothing is written."""
    for what, value in (("service", service), ("--from", source), ("--to", target)):
        if not _NAME.fullmatch(value):
            raise PromotionError(
                f"{what} must be a lowercase name such as checkout or prod (got {value!r})"
            )
    if source == target:
        raise PromotionError(f"--from and --to must differ (both are {source!r})")
    source_path = overlay_path(gitops_dir, source, service)
    target_path = overlay_path(gitops_dir, target, service)
    wanted = _image(source_path, source)
    if digest is not None and digest != wanted["digest"]:
        raise PromotionError(
            f"digest {digest} is not the one {source} runs for {service} ({wanted['digest']}): "
            "only a digest the source environment tested can be promoted"
        )
    current = _image(target_path, target)
    text = target_path.read_text(encoding="utf-8")
    rewritten = _rewrite(text, target_path, wanted)
    promotion = Promotion(
        service=service,
        source=source,
        target=target,
        digest=wanted["digest"],
        git_sha=wanted["gitSha"],
        previous_digest=current["digest"],
        previous_git_sha=current["gitSha"],
        path=target_path,
    )
    if write and rewritten != text:
        write_text_atomically(target_path, rewritten)
    return promotion
