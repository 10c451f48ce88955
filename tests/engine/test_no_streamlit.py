"""The engine stays UI-free: nothing under src/crew imports streamlit."""

import ast
import subprocess
import sys

from tests.servers import ROOT

SRC = ROOT / "src" / "crew"


def test_no_module_imports_streamlit():
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert not offenders
    assert len(list(SRC.rglob("*.py"))) > 10  # the walk really saw the package


def test_importing_every_module_loads_no_streamlit():
    modules = [
        "crew." + ".".join(p.relative_to(SRC).with_suffix("").parts)
        for p in SRC.rglob("*.py")
        # alembic loads the schema's env.py and revisions by path, inside a migration, never by import
        if p.name != "__init__.py" and (SRC / "storage" / "schema") not in p.parents
    ]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
