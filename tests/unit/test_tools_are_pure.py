"""The helpers in hscm_odoo/tools must stay free of the ORM."""

import ast

from conftest import TOOLS


def test_no_tool_imports_odoo():
    offenders = []
    for path in TOOLS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n == "odoo" or n.startswith("odoo.")]
    assert offenders == []
