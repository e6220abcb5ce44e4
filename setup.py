"""Build an installable wheel of the hscm_odoo addon.

The version is read from the addon's manifest. Odoo itself is not a
dependency here: it is installed from Odoo's official source (see README).
"""

import ast
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
MANIFEST = ast.literal_eval((HERE / "hscm_odoo" / "__manifest__.py").read_text(encoding="utf-8"))


def package_files():
    files = []
    for path in (HERE / "hscm_odoo").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            files.append(str(path.relative_to(HERE / "hscm_odoo")))
    return files


setup(
    name="odoo-addon-hscm_odoo",
    version=MANIFEST["version"],
    description=MANIFEST["summary"],
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license=MANIFEST["license"],
    author=MANIFEST["author"],
    python_requires=">=3.10",
    packages=["odoo.addons.hscm_odoo"],
    package_dir={"odoo.addons.hscm_odoo": "hscm_odoo"},
    package_data={"odoo.addons.hscm_odoo": package_files()},
    install_requires=MANIFEST["external_dependencies"]["python"],
    classifiers=[
        "Framework :: Odoo",
        "Framework :: Odoo :: 18.0",
        "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)",
        "Programming Language :: Python :: 3",
    ],
)
