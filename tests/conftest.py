"""Make the addon's pure helpers importable without Odoo.

``hscm_odoo/tools`` never imports Odoo, but ``hscm_odoo/__init__.py`` does, so
the tools package is loaded on its own under the name ``hscm_tools``.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "hscm_odoo" / "tools"
DOUBLES = ROOT / "hscm_odoo" / "tests" / "doubles"


def _load_package(name: str, folder: Path):
    """Import the package in ``folder`` as ``name``, without its parents."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


_load_package("hscm_tools", TOOLS)
_load_package("hscm_doubles", DOUBLES)


@pytest.fixture
def no_odoo_on_path(tmp_path, monkeypatch):
    """Packages named odoo, hscm_odoo and hscm_tools that refuse to be
    imported come first on the path of any child started now: a child that
    loads the tools by path needs none of them."""
    for name in ("odoo", "hscm_odoo", "hscm_tools"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError('a child must not import {name}')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
