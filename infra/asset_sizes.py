"""Print the size of every Lambda asset `cdk synth` built (`python -m infra.asset_sizes [cdk.out]`).

For each function: its code asset and the dependency layer it carries, unzipped (what Lambda's 250 MB
limit counts, code and layers together) and zipped (what is uploaded). Exits non-zero when a function
would not fit, so the build fails before the deploy does.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024  # function code plus all its layers


@dataclass(frozen=True, slots=True)
class AssetSize:
    path: Path
    files: int
    unzipped: int
    zipped: int


def measure(directory: Path) -> AssetSize:
    files = [p for p in sorted(directory.rglob("*")) if p.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(directory))
    return AssetSize(directory, len(files), sum(p.stat().st_size for p in files), buffer.tell())


def _asset_dir(out: Path, resource: dict[str, Any]) -> Path | None:
    asset = (resource.get("Metadata") or {}).get("aws:asset:path")
    return out / asset if asset and (out / asset).is_dir() else None


def report(out: Path) -> tuple[list[str], bool]:
    """Lines to print, and whether every function fits."""
    lines, fits = [], True
    for template_path in sorted(out.glob("*.template.json")):
        resources: dict[str, Any] = json.loads(template_path.read_text())["Resources"]
        sizes: dict[str, AssetSize] = {}
        for logical_id, resource in resources.items():
            if resource["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion"):
                directory = _asset_dir(out, resource)
                if directory is not None:
                    sizes[logical_id] = measure(directory)
        lines.append(f"{template_path.name}: Lambda assets (unzipped / zipped, files)")
        for logical_id, resource in sorted(resources.items()):
            if resource["Type"] != "AWS::Lambda::Function" or logical_id not in sizes:
                continue
            code = sizes[logical_id]
            layers = [ref["Ref"] for ref in resource["Properties"].get("Layers", []) if isinstance(ref, dict)]
            total = code.unzipped + sum(sizes[layer].unzipped for layer in layers if layer in sizes)
            fits &= total <= UNZIPPED_LIMIT_BYTES
            flag = "" if total <= UNZIPPED_LIMIT_BYTES else "  OVER LAMBDA'S 250 MB LIMIT"
            lines.append(
                f"  {logical_id:<44} code {_mb(code.unzipped):>8} / {_mb(code.zipped):>8} ({code.files} files)"
                f"   with layers {_mb(total):>8}{flag}"
            )
        for logical_id, size in sorted(sizes.items()):
            if resources[logical_id]["Type"] == "AWS::Lambda::LayerVersion":
                lines.append(
                    f"  {logical_id:<44} layer {_mb(size.unzipped):>7} / {_mb(size.zipped):>8} ({size.files} files)"
                )
    return lines, fits


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.2f} MB"


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "cdk.out")
    if not out.is_dir():
        print(f"{out} does not exist: run `make synth` first", file=sys.stderr)
        return 2
    lines, fits = report(out)
    print("\n".join(lines) if lines else f"no templates in {out}")
    return 0 if fits else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
