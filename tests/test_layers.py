"""One-way layers (DESIGN.md, "Layout"): the import contract of pyproject.toml holds, and every
module of the apps sits in one of its layers, so a new module cannot slip past it."""

import re
import subprocess
import sys
from pathlib import Path

import grimp
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parents[1]


def layers_contract() -> dict:
    config = read_configuration(str(ROOT / "pyproject.toml"))
    (contract,) = [c for c in config["contracts_options"] if c["type"] == "layers"]
    return {"root_packages": config["session_options"]["root_packages"], **contract}


def test_no_module_imports_a_higher_layer_or_closes_a_cycle():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_of_the_apps_sits_in_a_layer():
    contract = layers_contract()
    placed = {name.strip() for layer in contract["layers"] for name in re.split(r"[:|]", layer)}
    graph = grimp.build_graph(*contract["root_packages"], cache_dir=None)

    def in_a_layer(module: str) -> bool:
        parts = module.split(".")
        return any(".".join(parts[:n]) in placed for n in range(1, len(parts) + 1))

    def package_of_layers(module: str) -> bool:
        """A package whose modules are placed, which itself imports nothing (its __init__)."""
        holds_layers = any(name.startswith(f"{module}.") for name in placed)
        return holds_layers and not graph.find_modules_directly_imported_by(module)

    unplaced = sorted(
        module
        for module in graph.modules
        if ".migrations" not in module and not in_a_layer(module) and not package_of_layers(module)
    )
    assert unplaced == [], f"add these modules to a layer in pyproject.toml: {unplaced}"
