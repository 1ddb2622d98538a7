"""Lambda assets built on this machine, without Docker.

Two kinds of asset:
- the dependency layer: `requirements.lock` (hashed, runtime dependencies only) installed by uv for
  Lambda's platform (Linux arm64, CPython 3.13, wheels only) into `python/`;
- one code asset per function: `shared/`, `functions/__init__.py` and `functions/<name>/`, nothing else.

Both carry a CUSTOM asset hash computed here from their inputs, so CDK reuses an asset already in
`cdk.out` instead of rebuilding it, and skips the work entirely when bundling is turned off
(context `aws:cdk:bundling-stacks` = `[]`, as the infra tests do).

CDK's bundling API requires a Docker image; the local bundlers below never return False (they
either bundle or raise), so that image is never pulled or run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, aws_lambda

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
LOCK_FILE: Final = "requirements.lock"
UV_IN_REPO: Final = Path(".tools/bin/uv")

# Lambda's platform for RUNTIME and ARCHITECTURE (infra/components/lambdas.py); change together.
# Lambda's Python 3.13 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels run there, as do older
# ones (manylinux2014 is 2_17). Pillow (fpdf2's) publishes its arm64 wheels for 2_28 only.
LAYER_PYTHON_PLATFORM: Final = "aarch64-manylinux_2_28"
LAYER_PYTHON_VERSION: Final = "3.13"

SHARED_PACKAGE: Final = "shared"
FUNCTIONS_PACKAGE: Final = "functions"
# Never shipped: tests, caches, editor and OS litter.
EXCLUDED_DIRS: Final = frozenset({"__pycache__", "tests", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"})
# The catalogs' sources (.po, the .pot template, Babel's extraction mapping) stay behind: functions read only
# the compiled .mo beside them (shared.rendering).
EXCLUDED_FILE_SUFFIXES: Final = (".pyc", ".pyo", "_test.py", ".DS_Store", ".po", ".pot")
EXCLUDED_FILE_NAMES: Final = frozenset({"conftest.py", "babel.cfg"})

# Bumped when the recipe below changes in a way the inputs do not show.
_RECIPE_VERSION: Final = "1"


class BundlingError(RuntimeError):
    """An asset could not be built on this machine."""


def uv_binary(root: Path = REPO_ROOT) -> str:
    """The repo's pinned uv (`make` installs it under .tools/), else uv from PATH."""
    pinned = root / UV_IN_REPO
    if pinned.is_file() and os.access(pinned, os.X_OK):
        return str(pinned)
    found = shutil.which("uv")
    if found is None:
        raise BundlingError(f"uv not found: run `make venv` (installs {UV_IN_REPO}) or put uv on PATH")
    return found


def layer_install_args(target: str, lock_file: str = LOCK_FILE) -> list[str]:
    """`uv pip install` arguments that put the locked wheels for Lambda into `target`."""
    return [
        "pip",
        "install",
        "--quiet",
        "--no-progress",
        "--target",
        target,
        "--python-platform",
        LAYER_PYTHON_PLATFORM,
        "--python-version",
        LAYER_PYTHON_VERSION,
        "--only-binary",
        ":all:",
        "--require-hashes",
        "-r",
        lock_file,
    ]


def layer_fingerprint(root: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256(f"layer/{_RECIPE_VERSION}\0".encode())
    digest.update("\0".join(layer_install_args("<out>")).encode())
    digest.update((root / LOCK_FILE).read_bytes())
    return digest.hexdigest()


def _is_shipped(path: Path) -> bool:
    return path.name not in EXCLUDED_FILE_NAMES and not path.name.endswith(EXCLUDED_FILE_SUFFIXES)


def _walk(root: Path, directory: Path) -> Iterator[Path]:
    for current, dirs, files in os.walk(root / directory):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(current, name)
            if _is_shipped(path):
                yield path.relative_to(root)


def function_source_files(name: str, root: Path = REPO_ROOT) -> list[Path]:
    """Paths, relative to `root`, of everything one function's code asset contains."""
    files: list[Path] = []
    files.extend(_walk(root, Path(SHARED_PACKAGE)))
    package_init = Path(FUNCTIONS_PACKAGE, "__init__.py")
    if (root / package_init).is_file():
        files.append(package_init)
    files.extend(_walk(root, Path(FUNCTIONS_PACKAGE, name)))
    return files


def function_fingerprint(name: str, root: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256(f"function/{_RECIPE_VERSION}/{name}\0".encode())
    for relative in function_source_files(name, root):
        digest.update(f"{relative.as_posix()}\0".encode())
        digest.update((root / relative).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class UvLayerBundler:
    """Installs `requirements.lock` for Lambda arm64 / CPython 3.13 with uv: wheels only, hashes required."""

    def __init__(self, root: Path = REPO_ROOT) -> None:
        self._root = root

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: object) -> bool:
        target = Path(output_dir, "python")
        command = [uv_binary(self._root), *layer_install_args(str(target), str(self._root / LOCK_FILE))]
        # A fixed list of arguments, no shell; the only inputs are repo paths.
        completed = subprocess.run(  # noqa: S603
            command, cwd=self._root, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise BundlingError(f"uv could not build the dependency layer:\n{completed.stderr.strip()}")
        # Console scripts are of no use inside a layer.
        shutil.rmtree(target / "bin", ignore_errors=True)
        return True


@jsii.implements(ILocalBundling)
class FunctionSourceBundler:
    """Copies `shared/`, `functions/__init__.py` and `functions/<name>/` into the asset, without tests or caches."""

    def __init__(self, name: str, root: Path = REPO_ROOT) -> None:
        self._name = name
        self._root = root

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: object) -> bool:
        for relative in function_source_files(self._name, self._root):
            destination = Path(output_dir, relative)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self._root / relative, destination)
        return True


def _never_used_image() -> DockerImage:
    # Required by BundlingOptions; the local bundlers always bundle or raise, so Docker never runs.
    return aws_lambda.Runtime.PYTHON_3_13.bundling_image


def dependency_layer_code(root: Path = REPO_ROOT) -> aws_lambda.Code:
    return aws_lambda.Code.from_asset(
        str(root),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=layer_fingerprint(root),
        bundling=BundlingOptions(image=_never_used_image(), local=UvLayerBundler(root)),
    )


def function_code(name: str, root: Path = REPO_ROOT) -> aws_lambda.Code:
    return aws_lambda.Code.from_asset(
        str(root),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=function_fingerprint(name, root),
        bundling=BundlingOptions(image=_never_used_image(), local=FunctionSourceBundler(name, root)),
    )
