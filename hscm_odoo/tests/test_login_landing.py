import re

from odoo.tests import HttpCase, tagged

from .common import PASSWORD, HscmCase


class LoginMixin:
    def login_redirect(self, login, password):
        """Sign in through the real login form; return where Odoo sends us."""
        self.url_open("/web/session/logout", allow_redirects=True)
        page = self.url_open("/web/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.url_open(
            "/web/login",
            data={"login": login, "password": password, "csrf_token": token},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303, f"{login} could not sign in: {re.findall(r'alert-danger[^<]*<[^<]*', response.text)}")
        return response.headers["Location"]


@tagged("post_install", "-at_install")
class TestLoginLanding(HscmCase, LoginMixin, HttpCase):
    def test_staff_land_on_the_portal_and_managers_in_the_back_office(self):
        for user in (self.teacher, self.head, self.deputy, self.group_leader, self.teacher2):
            self.assertTrue(self.login_redirect(user.login, PASSWORD).endswith("/my"), user.login)
        for user in (self.vp, self.principal, self.school_admin, self.district, self.city, self.specialist):
            self.assertTrue(self.login_redirect(user.login, PASSWORD).endswith("/odoo"), user.login)

    def test_wrong_password_is_refused(self):
        page = self.url_open("/web/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.url_open(
            "/web/login",
            data={"login": self.teacher.login, "password": "wrong", "csrf_token": token},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("alert-danger", response.text, "the login form shows the error")
