"""End-to-end: the server the run command starts, driven over real HTTP.

Run by ``bin/hscm test`` against a freshly built demo database; it sets
HSCM_E2E_URL. Run alone, point HSCM_E2E_URL at a served demo database.
"""

import os
import re

import pytest
import requests

LOGINS = [
    ("demo.teacher", "/my"),
    ("demo.teacher2", "/my"),
    ("demo.head", "/my"),
    ("demo.deputy", "/my"),
    ("demo.vp", "/odoo"),
    ("demo.principal", "/odoo"),
    ("demo.admin", "/odoo"),
    ("demo.district", "/odoo"),
    ("demo.city", "/odoo"),
    ("demo.specialist", "/odoo"),
]


@pytest.fixture(scope="module")
def base_url():
    url = os.environ.get("HSCM_E2E_URL")
    if not url:
        pytest.fail("HSCM_E2E_URL is not set: run these through `bin/hscm test`")
    return url.rstrip("/")


def sign_in(base_url, login, password="demo"):
    session = requests.Session()
    page = session.get(f"{base_url}/web/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base_url}/web/login",
        data={"login": login, "password": password, "csrf_token": token},
        timeout=60,
    )
    return session, response


@pytest.mark.parametrize("login, landing", LOGINS)
def test_demo_login_lands_on_its_screen(base_url, login, landing):
    session, response = sign_in(base_url, login)
    assert response.status_code == 200
    assert response.url.endswith(landing), f"{login} landed on {response.url}"
    if landing == "/my":
        # staff work in Vietnamese through the portal
        assert "Kết nối &amp; Bảo mật" in response.text or "Tài khoản của tôi" in response.text
    info = session.post(
        f"{base_url}/web/session/get_session_info", json={"jsonrpc": "2.0", "params": {}}, timeout=30
    ).json()["result"]
    assert info["username"] == login
    assert info["user_context"]["lang"] == "vi_VN"


def test_wrong_password_is_refused(base_url):
    _session, response = sign_in(base_url, "demo.teacher", "not-the-password")
    assert response.url.endswith("/web/login")
    assert "alert-danger" in response.text


def test_teacher_reads_only_own_records_over_json_rpc(base_url):
    session, _response = sign_in(base_url, "demo.teacher")
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {
            "model": "hscm.school",
            "method": "search_read",
            "args": [[], ["name"]],
            "kwargs": {},
        },
    }
    result = session.post(f"{base_url}/web/dataset/call_kw", json=payload, timeout=30).json()["result"]
    assert [school["name"] for school in result] == ["Trường THCS Hoa Sen"]
