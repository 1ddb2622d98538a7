"""`make synth` prints each Lambda asset's size and fails when a function would exceed Lambda's limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import asset_sizes


def fake_cdk_out(tmp_path: Path, layer_bytes: int) -> Path:
    (tmp_path / "asset.code").mkdir()
    (tmp_path / "asset.code" / "handler.py").write_text("x = 1\n" * 100)
    (tmp_path / "asset.layer" / "python").mkdir(parents=True)
    (tmp_path / "asset.layer" / "python" / "big.bin").write_bytes(b"\0" * layer_bytes)
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Layers": [{"Ref": "Layer"}]},
                "Metadata": {"aws:asset:path": "asset.code"},
            },
            "Layer": {"Type": "AWS::Lambda::LayerVersion", "Metadata": {"aws:asset:path": "asset.layer"}},
            "Queue": {"Type": "AWS::SQS::Queue"},
        }
    }
    (tmp_path / "payportal-dev.template.json").write_text(json.dumps(template))
    return tmp_path


def test_each_function_and_layer_is_listed_with_its_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = fake_cdk_out(tmp_path, layer_bytes=2 * 1024 * 1024)

    assert asset_sizes.main([str(out)]) == 0

    printed = capsys.readouterr().out
    [function] = [line for line in printed.splitlines() if line.strip().startswith("Fn ")]
    assert "(1 files)" in function and function.endswith("with layers  2.00 MB")
    [layer] = [line for line in printed.splitlines() if line.strip().startswith("Layer ")]
    assert "layer 2.00 MB /" in layer and "(1 files)" in layer


def test_a_function_over_the_limit_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(asset_sizes, "UNZIPPED_LIMIT_BYTES", 1024 * 1024)
    out = fake_cdk_out(tmp_path, layer_bytes=2 * 1024 * 1024)

    assert asset_sizes.main([str(out)]) == 1
    assert "OVER LAMBDA'S 250 MB LIMIT" in capsys.readouterr().out


def test_no_cdk_out_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert asset_sizes.main([str(tmp_path / "missing")]) == 2
    assert "make synth" in capsys.readouterr().err
