"""The pages and the CLI talk to the engine through `crew`'s exports, never to its inner modules."""

from __future__ import annotations

import ast
import subprocess
import sys

import crew
from tests.servers import ROOT

FRONTS = [ROOT / "app.py", ROOT / "src" / "crew" / "__main__.py", *sorted((ROOT / "pages").rglob("*.py"))]
INNER = ("crew.engine", "crew.models", "crew.retrieval", "crew.grounding")


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def test_pages_and_cli_import_no_inner_module_of_the_engine():
    offenders = [f"{p.relative_to(ROOT)}: {module}" for p in FRONTS for module, _ in imported_modules(p)
                 if module.startswith(INNER)]
    assert offenders == []
    # and every name they take from `crew` is one it exports
    taken = {name for p in FRONTS for module, names in imported_modules(p) if module == "crew" for name in names}
    assert taken and taken <= set(crew.__all__)


def test_the_exports_load_lazily():
    code = "import sys, crew.settings; print('langgraph' in sys.modules, 'chromadb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
