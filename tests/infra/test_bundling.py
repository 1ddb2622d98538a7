"""Assets are built without Docker: the layer from the lock with uv, each function from its own folder."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import DockerImage

from infra import bundling
from shared.domain.languages import LANGUAGES
from tests.infra.conftest import Synthesized


def write(root: Path, relative: str, text: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_repo(root: Path) -> None:
    for relative in (
        "shared/__init__.py",
        "shared/templates/pay.html",
        "shared/locale/babel.cfg",
        "shared/locale/messages.pot",
        "shared/locale/de/LC_MESSAGES/messages.po",
        "shared/locale/de/LC_MESSAGES/messages.mo",
        "shared/__pycache__/config.cpython-313.pyc",
        "functions/__init__.py",
        "functions/checkout/__init__.py",
        "functions/checkout/handler.py",
        "functions/checkout/tests/test_handler.py",
        "functions/checkout/conftest.py",
        "functions/checkout/handler.pyc",
        "functions/webhooks/handler.py",
        "tests/unit/test_money.py",
        "local/api_server.py",
    ):
        write(root, relative, relative)


def test_a_function_asset_holds_shared_and_its_own_folder_only(tmp_path: Path) -> None:
    # Given a repo with tests, caches and other functions around the checkout function
    make_repo(tmp_path)

    # When the checkout asset is bundled
    output = tmp_path / "out"
    bundled = bundling.FunctionSourceBundler("checkout", tmp_path).try_bundle(
        str(output), image=DockerImage.from_registry("never-pulled")
    )

    # Then it holds shared/ and functions/checkout/ code and the compiled catalogs (not their sources), nothing else
    assert bundled is True
    assert sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()) == [
        "functions/__init__.py",
        "functions/checkout/__init__.py",
        "functions/checkout/handler.py",
        "shared/__init__.py",
        "shared/locale/de/LC_MESSAGES/messages.mo",
        "shared/templates/pay.html",
    ]


def test_a_function_asset_changes_hash_when_its_code_or_shared_changes(tmp_path: Path) -> None:
    make_repo(tmp_path)
    before = bundling.function_fingerprint("checkout", tmp_path)

    write(tmp_path, "functions/webhooks/handler.py", "changed elsewhere")
    write(tmp_path, "functions/checkout/tests/test_handler.py", "changed test")
    unchanged = bundling.function_fingerprint("checkout", tmp_path)
    write(tmp_path, "shared/templates/pay.html", "changed template")
    changed = bundling.function_fingerprint("checkout", tmp_path)

    assert unchanged == before
    assert changed != before


def test_the_layer_installs_locked_wheels_for_lambda_arm64_python_3_13() -> None:
    arguments = bundling.layer_install_args("/out/python")

    assert arguments[:2] == ["pip", "install"]
    for flag, value in (
        ("--target", "/out/python"),
        ("--python-platform", "aarch64-manylinux_2_28"),
        ("--python-version", "3.13"),
        ("--only-binary", ":all:"),
        ("-r", "requirements.lock"),
    ):
        assert arguments[arguments.index(flag) + 1] == value
    assert "--require-hashes" in arguments


def test_the_layer_hash_follows_the_lock_file(tmp_path: Path) -> None:
    write(tmp_path, "requirements.lock", "a==1 --hash=sha256:00\n")
    before = bundling.layer_fingerprint(tmp_path)
    write(tmp_path, "requirements.lock", "a==2 --hash=sha256:11\n")

    assert bundling.layer_fingerprint(tmp_path) != before


def test_skipping_bundling_builds_no_asset(synthesized: Synthesized) -> None:
    # Given the stack synthesized with aws:cdk:bundling-stacks = [] (local bundlers included)
    outdir = Path(synthesized.app.outdir)

    # Then nothing was bundled into the cloud assembly
    assert list(outdir.glob("asset.*")) == []
    assert list(outdir.glob("bundling-temp-*")) == []


def test_every_function_ships_the_compiled_catalog_of_every_language() -> None:
    shipped = {path.as_posix() for path in bundling.function_source_files("outbox")}

    assert {f"shared/locale/{lang}/LC_MESSAGES/messages.mo" for lang in LANGUAGES} <= shipped
    assert not [path for path in shipped if path.endswith((".po", ".pot"))]
