"""The template passes the AWS SAM transform, as `sam validate` runs it, offline.

cfn-lint reads a SAM template without translating it, so a template SAM rejects (routes
asking for the IAM authorizer on an API that never enables it, say) passed cfn-lint and failed
at deploy. The transform runs in the template tools' venv (`requirements/checkov.lock`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from programme.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TOOLS_PYTHON = ROOT / ".venv" / "checkov" / "bin" / "python"

pytestmark = pytest.mark.skipif(
    not TOOLS_PYTHON.exists(),
    reason="needs .venv/checkov with aws-sam-translator: `make check-template` builds it",
)


def sam_transform(template: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOLS_PYTHON), "-m", "programme.sam_transform", str(template)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_template_passes_the_sam_transform() -> None:
    # GIVEN / WHEN template.yaml is translated as `sam validate` translates it
    done = sam_transform(ROOT / "template.yaml")
    # THEN SAM makes its CloudFormation resources, every function and route among them
    assert done.returncode == 0, done.stderr
    assert "the SAM transform makes" in done.stdout


def test_a_template_the_transform_rejects_fails_the_check(tmp_path: Path) -> None:
    # GIVEN the template with the HTTP API's IAM authorizer not enabled, as it once was
    template = load_template()
    del template["Resources"]["HttpApi"]["Properties"]["Auth"]
    broken = tmp_path / "template.json"
    broken.write_text(json.dumps(template), encoding="utf-8")
    # WHEN it is translated
    done = sam_transform(broken)
    # THEN the check fails, giving SAM's own reason
    assert done.returncode == 1
    assert "does not define any Authorizers" in done.stderr
