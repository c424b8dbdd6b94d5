"""`sam validate`, offline: the AWS SAM transform (aws-sam-translator) run on `template.yaml`.

The SAM CLI's `sam validate` translates the template with this same library after replacing
each local `CodeUri`/`DefinitionUri`/`ContentUri` with an S3 placeholder (what `sam package`
puts there); a template the transform rejects cannot deploy, whatever cfn-lint says. Run by
`make check-template` in the template tools' venv (`requirements/checkov.lock`: the translator
pins pydantic 2.13, older than the Lambda lock's), where only PyYAML and the translator exist:

    .venv/checkov/bin/python -m programme.sam_transform template.yaml

Exit 0 and the number of CloudFormation resources it makes, or 1 and each reason it gave.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from programme.template import Template, load_template

LOCAL_URIS = ("CodeUri", "DefinitionUri", "ContentUri")
PLACEHOLDER = "s3://sam-validate/placeholder"
REGION = "eu-north-1"  # the transform needs one for ARNs; any region gives the same verdict


class _NoManagedPolicyNames:
    """The transform asks IAM for the managed policies' ARNs only for a policy named bare."""

    def load(self) -> dict[str, str]:
        raise RuntimeError("a policy is named without its ARN: offline, name it by ARN")


def with_placeholder_uris(template: Template) -> Template:
    """The template as `sam validate` translates it: local artifact paths made S3 URIs."""
    for resource in template.get("Resources", {}).values():
        properties: dict[str, Any] = resource.get("Properties") or {}
        for key in LOCAL_URIS:
            value = properties.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                properties[key] = PLACEHOLDER
    return template


def transform(template: Template) -> dict[str, Any]:
    """The CloudFormation template SAM makes; raises the translator's own errors."""
    from samtranslator.translator.transform import (  # type: ignore[import-not-found]
        transform as sam_transform,
    )

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    translated: dict[str, Any] = sam_transform(
        with_placeholder_uris(template), {}, _NoManagedPolicyNames()
    )
    return translated


def main(argv: Sequence[str] | None = None) -> int:
    from samtranslator.model.exceptions import (  # type: ignore[import-not-found]
        InvalidDocumentException,
    )

    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else Path("template.yaml")
    try:
        translated = transform(load_template(path))
    except InvalidDocumentException as invalid:
        print(f"{path}: the SAM transform rejects it:", file=sys.stderr)
        for cause in invalid.causes:
            print(f"  - {cause.message}", file=sys.stderr)
        return 1
    print(f"{path}: the SAM transform makes {len(translated['Resources'])} resources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
