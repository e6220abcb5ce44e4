"""Test doubles that speak the real public protocols of services that cannot
exist here (a CA's remote-signing API, a token), and the local test PKI.

No Odoo import: the pure-Python tests in ``tests/unit`` load this package on
its own as ``hscm_doubles`` (see ``tests/conftest.py``), the Odoo tests
import it as ``odoo.addons.hscm_odoo.tests.doubles``.
"""
