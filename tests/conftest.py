"""Make the addon's pure helpers importable without Odoo.

``hscm_odoo/tools`` never imports Odoo, but ``hscm_odoo/__init__.py`` does, so
the tools package is loaded on its own under the name ``hscm_tools``.
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "hscm_odoo" / "tools"

if "hscm_tools" not in sys.modules:
    spec = importlib.util.spec_from_file_location(
        "hscm_tools", TOOLS / "__init__.py", submodule_search_locations=[str(TOOLS)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["hscm_tools"] = module
    spec.loader.exec_module(module)

DOUBLES = ROOT / "hscm_odoo" / "tests" / "doubles"

if "hscm_doubles" not in sys.modules:
    spec = importlib.util.spec_from_file_location(
        "hscm_doubles", DOUBLES / "__init__.py", submodule_search_locations=[str(DOUBLES)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["hscm_doubles"] = module
    spec.loader.exec_module(module)
