"""The layering rules of ARCHITECTURE.md, checked on the source: only app/ui talks Flet, and the
domain talks neither Flet nor HTTP."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("app/workflows", {"flet", "httpx", "sqlite3", "sqlite_utils"}),
        ("app/scan", {"flet"}),
        ("sync", {"flet"}),
    ],
)
def test_layer_does_not_import(folder, forbidden):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & forbidden)
        for path in (ROOT / folder).rglob("*.py")
        if imported_roots(path) & forbidden
    }
    assert offenders == {}


def test_only_connectors_and_the_engine_import_httpx():
    allowed = {ROOT / "sync" / "engine.py"}
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("app", "sync")
        for path in (ROOT / folder).rglob("*.py")
        if "httpx" in imported_roots(path)
        and path not in allowed
        and "erp" not in path.relative_to(ROOT).parts
        and path.parent.name != "commands"
    ]
    assert offenders == []
