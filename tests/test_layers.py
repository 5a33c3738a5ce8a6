"""The layering rules of ARCHITECTURE.md, checked on the source: only app/ui talks Flet, the domain
talks neither Flet nor HTTP, ``sync`` knows nothing of ``app``, and ``sync/common`` (the code the
station and the ERP module both run) is plain Python.

Imports are read with ``ast``: every ``import``/``from … import`` anywhere in a file (inside
functions and ``if TYPE_CHECKING:`` too), relative ones resolved to the package they name, and
``importlib.import_module("…")`` / ``__import__("…")`` with a literal name.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONNECTORS = "sync.erp.tryton"
# (folder or file, packages or modules no file there may import, with everything under them)
RULES = [
    ("sync", {"app", "flet"}),
    ("sync/common", {"app", "trytond", "flet", "httpx"}),
    ("app/workflows", {"flet", "httpx", "sqlite3", "sqlite_utils", CONNECTORS}),
    ("app/scan", {"flet"}),
    ("app/runtime.py", {"flet"}),  # what the views stand on holds no UI
    # Views reach the ERP only through the session and the sync engine the runtime gives them.
    ("app/ui", {"httpx", CONNECTORS, "sync.engine", "sync.outbox"}),
]


def _package_of(path: Path, root: Path) -> list[str]:
    """The package a file's relative imports start from: its folder, as name parts."""
    return list(path.relative_to(root).parent.parts)


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module name ``path`` imports, written absolute (``sync.erp.protocol``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                package = _package_of(path, root)
                package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join(package + ([node.module] if node.module else []))
            names.add(base)
            if node.module is None:  # `from . import x`: x is a module of the package
                names.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id in ("__import__", "import_module"))
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            names.add(node.args[0].value)
    return names


def imported_roots(path: Path, root: Path = ROOT) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path, root) if name}


def offenders(folder: str, forbidden: set[str], root: Path = ROOT) -> dict[str, list[str]]:
    """{file: the forbidden packages it imports} for every Python file under ``folder`` (or that
    one file)."""
    found = {}
    where = root / folder
    for path in [where] if where.is_file() else sorted(where.rglob("*.py")):
        bad = {
            rule
            for name in imported_modules(path, root)
            for rule in forbidden
            if name == rule or name.startswith(rule + ".")
        }
        if bad:
            found[str(path.relative_to(root))] = sorted(bad)
    return found


@pytest.mark.parametrize("folder, forbidden", RULES, ids=[folder for folder, _ in RULES])
def test_layer_does_not_import(folder, forbidden):
    assert offenders(folder, forbidden) == {}


def test_only_connectors_and_the_engine_import_httpx():
    allowed = {ROOT / "sync" / "engine.py"}
    found = [
        str(path.relative_to(ROOT))
        for folder in ("app", "sync")
        for path in (ROOT / folder).rglob("*.py")
        if "httpx" in imported_roots(path)
        and path not in allowed
        and "erp" not in path.relative_to(ROOT).parts
        and path.parent.name != "commands"
    ]
    assert found == []


def test_the_layer_check_sees_imports_hidden_in_functions_relative_imports_and_import_module(tmp_path):
    files = {
        "sync/__init__.py": "",
        "sync/common/__init__.py": "",
        "sync/common/ok.py": "import biip\nfrom sync.common import vocabulary\nfrom . import gtin\n",
        "sync/common/late.py": "def f():\n    from app.config import Settings\n    return Settings\n",
        "sync/common/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import trytond\n",
        "sync/common/dynamic.py": "import importlib\nhttpx = importlib.import_module('httpx')\n",
        "sync/erp/__init__.py": "",
        "sync/erp/relative.py": "from ...app import config\n",
        "sync/erp/fine.py": "from ..common import ok\nfrom trytond.wsgi import app\n",
        "sync/erp/tryton/__init__.py": "",
        "sync/erp/tryton/rpc.py": "",
        "sync/store.py": "from sync.erp.tryton import rpc\nimport sync.erp.trytonish\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    assert offenders("sync/common", {"app", "trytond", "flet", "httpx"}, tmp_path) == {
        "sync/common/dynamic.py": ["httpx"],
        "sync/common/late.py": ["app"],
        "sync/common/typed.py": ["trytond"],
    }
    assert offenders("sync", {"app"}, tmp_path) == {
        "sync/common/late.py": ["app"],
        "sync/erp/relative.py": ["app"],
    }
    assert offenders("sync", {"sync.erp.tryton"}, tmp_path) == {"sync/store.py": ["sync.erp.tryton"]}
