"""Load the addon's pure helpers for the benchmarks, without Odoo.

``hscm_odoo/tools`` never imports Odoo, but ``hscm_odoo/__init__.py`` does,
so the tools package is loaded on its own under the name ``hscm_tools``
(as ``tests/conftest.py`` does for the unit tests)::

    from tools_loader import tools
    pades, signing_methods = tools("pades", "signing_methods")
"""

import importlib
import importlib.util
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent / "hscm_odoo" / "tools"


def tools(*names):
    """The modules ``names`` of ``hscm_odoo/tools``, as ``hscm_tools.<name>``."""
    if "hscm_tools" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "hscm_tools", TOOLS / "__init__.py", submodule_search_locations=[str(TOOLS)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["hscm_tools"] = module
        spec.loader.exec_module(module)
    return tuple(importlib.import_module(f"hscm_tools.{name}") for name in names)
