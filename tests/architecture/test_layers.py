"""The layers hold (docs/architecture.md): the domain imports the standard library only, and no shell module
grows past what one can read in a sitting. import-linter (``make lint``) checks the one-way contracts."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 420  # "about 400 lines": a module one can read in a sitting


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "neuroblastoma").glob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_the_standard_library_only(path: Path) -> None:
    outside = _imported_top_levels(path) - set(sys.stdlib_module_names) - {"neuroblastoma", "__future__"}
    assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize("package", ["neuroblastoma", "fhir_mappings", "cds_service", "fhir_package"])
def test_no_module_is_over_about_400_lines(package: str) -> None:
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / package).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split these modules by job: {long}"
