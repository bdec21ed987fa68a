"""The import graph follows the layers of ARCHITECTURE.md: geo -> optimizer -> records ->
webmap -> rescue, nothing imports backwards; optimizer.vrp stands alone; webmap computes no
route."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("geo", "optimizer", "records", "webmap", "rescue")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module named by an import in ``path`` (relative imports made absolute)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _project_imports(path: Path) -> set[str]:
    return {name for name in _imports(path) if name.split(".")[0] in LAYERS}


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_later_one(layer: str) -> None:
    later = LAYERS[LAYERS.index(layer) + 1 :]
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(layer)
        for name in _project_imports(path)
        if name.split(".")[0] in later
    }
    assert not wrong


def test_vrp_imports_nothing_else_of_the_project() -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules("optimizer/vrp")
        for name in _project_imports(path)
        if not name.startswith("optimizer.vrp")
    }
    assert not wrong


def test_webmap_computes_no_route() -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules("webmap")
        for name in _project_imports(path)
        if name.startswith("geo.router")
    }
    assert not wrong
    uses = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in _modules("webmap")
        for line in path.read_text(encoding="utf-8").splitlines()
        if ".router." in line
    ]
    assert not uses


def test_the_checks_see_imports() -> None:
    """The reader finds what it must: a known import of a known module."""
    names = _project_imports(ROOT / "webmap" / "center.py")
    assert "optimizer.dispatch.board.DispatchBoard" in names
