"""The project's own checks: what make runs, what mypy covers, what the package depends on."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")
# A distribution whose import name is not its own name.
IMPORT_NAMES = {"pyside6-essentials": "PySide6"}


def make_recipe(target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", MAKEFILE, flags=re.MULTILINE)
    assert match, f"the Makefile has no recipe for {target}"
    return match.group(1)


def imported_top_modules() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "explorer").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_every_dependency_is_imported_by_the_app() -> None:
    imported = imported_top_modules()
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        module = IMPORT_NAMES.get(name.lower(), name)
        assert module in imported, f"{name} is declared but explorer/ never imports {module}"


def test_mypy_covers_every_package_and_fails_on_unused_ignores() -> None:
    mypy = PYPROJECT["tool"]["mypy"]
    assert mypy["strict"] is True and mypy["warn_unused_ignores"] is True
    packages = {f"explorer/{path.parent.name}" for path in (REPO / "explorer").glob("*/__init__.py")}
    assert packages <= set(mypy["files"])
    assert "$(BIN)/mypy" in make_recipe("lint")
    assert re.search(r"^test:.*\blint\b", MAKEFILE, flags=re.MULTILINE)


def test_the_fast_target_leaves_out_the_slow_and_x_server_tests() -> None:
    recipe = make_recipe("test-fast")
    assert "pytest" in recipe and '-m "not slow and not xvfb"' in recipe
    assert re.search(r"^test:.*\bpytest\b", MAKEFILE, flags=re.MULTILINE)  # make test still runs them all


def test_no_benchmark_script_shadows_a_standard_library_module() -> None:
    # A script's folder comes first on sys.path: a benchmarks/profile.py would stand in for
    # the standard library's profile, which torch imports through cProfile.
    scripts = REPO / "benchmarks"
    shadowing = sorted(path.name for path in scripts.glob("*.py") if path.stem in sys.stdlib_module_names)
    assert not shadowing
