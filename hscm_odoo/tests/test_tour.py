from odoo.tests import HttpCase, tagged

from .common import HscmCase


@tagged("post_install", "-at_install")
class TestBackOfficeTour(HscmCase, HttpCase):
    """In a real headless Chromium (Debian's chromium)."""

    def test_vice_principal_tour(self):
        self.start_tour("/odoo", "hscm_backoffice_vice_principal", login=self.vp.login)
