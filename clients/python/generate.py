"""Generates `payportal_client` from the operator API's OpenAPI document with openapi-python-client (`make client`).

    python clients/python/generate.py [--output DIR]

The generator (pinned in the dev lock) and its ruff hooks run with this configuration (generator.yaml)
wherever they run, so a test can generate into a temporary folder and compare it with the committed package.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOCUMENT = ROOT / "docs" / "openapi.json"
PACKAGE = HERE / "payportal_client"


def generate(output: Path) -> None:
    shutil.rmtree(output, ignore_errors=True)  # nothing left over from an earlier document
    tools = Path(sys.executable).parent  # the virtual environment's: openapi-python-client and ruff
    command = [str(tools / "openapi-python-client"), "generate", "--path", str(DOCUMENT), "--meta", "none",
               "--config", str(HERE / "generator.yaml"), "--output-path", str(output), "--overwrite",
               "--fail-on-warning"]  # fmt: skip
    env = os.environ | {"PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)  # noqa: S603 (our own tools)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=PACKAGE)
    generate(parser.parse_args().output)
