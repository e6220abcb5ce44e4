"""Signing methods: PKCS#12, PKCS#11 token, CSC remote service, user's device.

Each method must give the same incremental PAdES result as pades.sign_pdf;
each failure must come out as a SigningError with a stable code and no
secret in its text.
"""

import base64
import hashlib
import json
import logging
import time
import urllib.error
import urllib.request
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from pki_fixtures import der, dummy_timestamper, fingerprint, make_cert, make_pdf, make_pkcs12
from pki_fixtures import make_root, rsa_key

from hscm_doubles.csc_server import (
    SAD_LIFETIME,
    SHA256,
    TOKEN_LIFETIME,
    CscCredential,
    CscTestServer,
)
from hscm_doubles.softhsm import SoftHsmToken
from hscm_tools import pades
from hscm_tools import signing_methods as sm

P12_PASSPHRASE = b"Mat-khau-P12-2026"
TOKEN_PIN = "975310"
CSC_USER = "lan.anh@thcs-demo.edu.vn"
CSC_PASSWORD = "Mat-khau-CSC-77"
CSC_PIN = "135790"
STAMP = pades.StampText(name="Phạm Thị Lan Anh", position="TỔ TRƯỞNG",
                        signed_at="Đã ký: 23/11/2026 08:15")


@pytest.fixture(scope="module")
def pki():
    root, root_key = make_root()
    out = SimpleNamespace(root=root, root_der=der(root), root_key=root_key)
    for tag, cn, key in (("lan", "Phạm Thị Lan Anh", rsa_key()),
                         ("token", "Nguyễn Văn Minh", rsa_key()),
                         ("csc", "Trần Thu Hà", rsa_key()),
                         ("device", "Lê Quốc Bảo", rsa_key()),
                         ("device_ec", "Võ Thị Mai", ec.generate_private_key(ec.SECP256R1()))):
        cert = make_cert(cn, key, root_key)
        setattr(out, tag, SimpleNamespace(key=key, cert=cert, der=der(cert),
                                          sha256=fingerprint(cert)))
    out.p12 = make_pkcs12(b"lan", out.lan.key, out.lan.cert, [root], P12_PASSPHRASE)
    expired = make_cert("Phạm Thị Lan Anh", out.lan.key, root_key, days=(-400, -35))
    out.expired_p12 = make_pkcs12(b"old", out.lan.key, expired, [root], P12_PASSPHRASE)
    out.timestamper = dummy_timestamper(root, root_key)
    return out


@pytest.fixture(scope="module")
def token(pki):
    with SoftHsmToken(pki.token.key, pki.token.der, chain_der=[pki.root_der],
                      token_label="hscm-unit", pin=TOKEN_PIN, key_label="minh") as tok:
        yield tok


@pytest.fixture(scope="module")
def csc_servers(pki):
    """One remote signing service per CSC API version, each speaking only it."""
    credential = CscCredential("cred-ha-01", pki.csc.key, [pki.csc.der, pki.root_der], CSC_PIN)
    with CscTestServer([credential], username=CSC_USER, password=CSC_PASSWORD) as v1, \
            CscTestServer([credential], username=CSC_USER, password=CSC_PASSWORD,
                          versions=("v2",)) as v2:
        yield {"v1": v1, "v2": v2}


@pytest.fixture(scope="module")
def csc_server(csc_servers):
    return csc_servers["v1"]


def _cleaned(server):
    """``server`` with no calls yet, back to normal behaviour after the test."""
    server.calls.clear()
    yield server
    server.delay = 0.0
    server.corrupt_signatures = False
    server.token_lifetime = TOKEN_LIFETIME
    server.sad_lifetime = SAD_LIFETIME
    server.v2_auth_types = ["oauth2client"]


@pytest.fixture()
def csc_clean(csc_servers):
    """The v1 server."""
    yield from _cleaned(csc_servers["v1"])


@pytest.fixture()
def csc_v2(csc_servers):
    """The v2 server."""
    yield from _cleaned(csc_servers["v2"])


@pytest.fixture(params=["v1", "v2"])
def csc_each(request, csc_servers):
    """(server, version) for each API version, for what both must do alike."""
    for server in _cleaned(csc_servers[request.param]):
        yield server, request.param


# What each version calls to log in.
LOGIN = {"v1": ["auth/login"], "v2": ["info", "oauth2/token"]}


def _pdf(pages=2):
    return make_pdf(pages, b"KEHOACHBAIDAY")


def _device_sign(holder, to_sign: bytes) -> bytes:
    """What the user's token/browser does with DeferredRequest.to_sign."""
    if isinstance(holder.key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(holder.key.sign(to_sign, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # raw r||s, as WebCrypto
    return holder.key.sign(to_sign, PKCS1v15(), hashes.SHA256())


class DeferredMethod:
    """prepare → device → finish, shaped like a SigningMethod for the matrix."""

    def __init__(self, pki, holder):
        self.pki, self.holder = pki, holder

    def certificate(self):
        return self.holder.der

    def chain(self):
        return [self.pki.root_der]

    def sign(self, pdf, *, field_name, stamp, page=-1, box=None, timestamper=None, prefix_sha256=None):
        request = sm.prepare_deferred(pdf, self.holder.der, [self.pki.root_der],
                                      field_name=field_name, stamp=stamp, page=page, box=box)
        # Two processes: only the state bytes travel.
        state = bytes(request.state)
        return sm.finish_deferred(state, _device_sign(self.holder, request.to_sign),
                                  timestamper=timestamper)


@pytest.fixture(scope="module")
def methods(pki, token, csc_servers):
    return {
        "pkcs12": (sm.Pkcs12Method(pki.p12, P12_PASSPHRASE), pki.lan),
        "pkcs11": (sm.Pkcs11Method(token.module_path, token.token_label, TOKEN_PIN,
                                   token.key_label), pki.token),
        "csc": (sm.CscMethod(csc_servers["v1"].url, username=CSC_USER, password=CSC_PASSWORD,
                             pin=CSC_PIN, timeout=5), pki.csc),
        "csc_v2": (sm.CscMethod(csc_servers["v2"].url, username=CSC_USER, password=CSC_PASSWORD,
                                pin=CSC_PIN, timeout=5, api_version="v2"), pki.csc),
        "deferred": (DeferredMethod(pki, pki.device), pki.device),
    }


@pytest.fixture(scope="module")
def original():
    return _pdf()


@pytest.fixture(scope="module")
def signed_once(methods, original):
    return {name: method.sign(original, field_name="ToTruong", stamp=STAMP)
            for name, (method, _) in methods.items()}


NAMES = ["pkcs12", "pkcs11", "csc", "csc_v2", "deferred"]


@pytest.mark.parametrize("name", NAMES)
def test_method_signs_incrementally_and_intact(name, methods, original, signed_once, pki):
    method, holder = methods[name]
    once = signed_once[name]
    assert once.startswith(original) and len(once) > len(original)
    (s,) = pades.signature_summary(once)
    assert s["field_name"] == "ToTruong"
    assert s["intact"] is True and s["error"] is None
    assert s["signer_sha256"] == holder.sha256
    assert s["covers_whole_file"]
    assert method.certificate() == holder.der
    assert pki.root_der in method.chain() and holder.der not in method.chain()


@pytest.mark.parametrize("first", NAMES)
def test_second_signature_by_another_method_keeps_first(first, methods, signed_once):
    second = NAMES[(NAMES.index(first) + 1) % len(NAMES)]
    once = signed_once[first]
    twice = methods[second][0].sign(once, field_name="HieuTruong", stamp=None)
    assert twice.startswith(once)
    a, b = pades.signature_summary(twice)
    assert a["intact"] and b["intact"]
    assert a["signer_sha256"] == methods[first][1].sha256
    assert b["signer_sha256"] == methods[second][1].sha256
    assert a["signed_revision_end"] == len(once) and b["covers_whole_file"]


def _assert_no_secret(excinfo, secret, caplog):
    texts, e = [], excinfo.value
    while e is not None:
        texts += [str(e), repr(e), str(getattr(e, "detail", ""))]
        e = e.__cause__ or e.__context__
    texts.append(caplog.text)
    assert all(secret not in t for t in texts), texts


# -- PKCS#12 ---------------------------------------------------------------


def test_pkcs12_wrong_passphrase(pki, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = b"Sai-mat-khau-9"
    with pytest.raises(sm.SigningError) as excinfo:
        sm.Pkcs12Method(pki.p12, wrong)
    assert excinfo.value.code == "wrong_secret"
    _assert_no_secret(excinfo, wrong.decode(), caplog)


def test_pkcs12_expired_certificate_refused(pki, original):
    method = sm.Pkcs12Method(pki.expired_p12, P12_PASSPHRASE.decode())
    with pytest.raises(sm.SigningError) as excinfo:
        method.sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "bad_certificate" and "expired" in str(excinfo.value)


# -- PKCS#11 ---------------------------------------------------------------


def test_pkcs11_wrong_pin(token, original, caplog):
    caplog.set_level(logging.DEBUG)
    method = sm.Pkcs11Method(token.module_path, token.token_label, "864200", token.key_label)
    with pytest.raises(sm.SigningError) as excinfo:
        method.sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "wrong_secret"
    _assert_no_secret(excinfo, "864200", caplog)
    assert "864200" not in repr(method)


def test_pkcs11_missing_token(token, original):
    method = sm.Pkcs11Method(token.module_path, "no-such-token", TOKEN_PIN, token.key_label)
    with pytest.raises(sm.SigningError) as excinfo:
        method.sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "token_unavailable"
    assert TOKEN_PIN not in str(excinfo.value)


def test_pkcs11_one_session_serves_a_batch(token, pki, original):
    method = sm.Pkcs11Method(token.module_path, token.token_label, TOKEN_PIN, token.key_label)
    other = sm.Pkcs11Method(token.module_path, token.token_label, TOKEN_PIN, token.key_label)
    with method:
        one = method.sign(original, field_name="A", stamp=None)
        two = method.sign(one, field_name="B", stamp=None)
        # A second login on the same token while this session is open.
        with pytest.raises(sm.SigningError) as excinfo:
            other.sign(original, field_name="C", stamp=None)
        assert excinfo.value.code == "token_unavailable"
    assert [s["intact"] for s in pades.signature_summary(two)] == [True, True]
    # Once the batch is over, the token is free again.
    assert pades.signature_summary(other.sign(original, field_name="C", stamp=None))[0]["intact"]


# -- CSC remote signing ----------------------------------------------------


def _csc(server, **kw):
    args = dict(username=CSC_USER, password=CSC_PASSWORD, pin=CSC_PIN, timeout=5)
    args.update(kw)
    return sm.CscMethod(server.url, **args)


def test_csc_speaks_the_v1_flow(csc_clean, original, pki):
    signed = _csc(csc_clean).sign(original, field_name="A", stamp=None)
    assert csc_clean.calls == ["auth/login", "credentials/list", "credentials/info",
                               "credentials/authorize", "signatures/signHash"]
    assert pades.signature_summary(signed)[0]["signer_sha256"] == pki.csc.sha256


def test_csc_wrong_password(csc_each, original, caplog):
    server, version = csc_each
    caplog.set_level(logging.DEBUG)
    wrong = "Sai-mat-khau-CSC"
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(server, password=wrong, api_version=version).sign(original, field_name="A",
                                                              stamp=None)
    assert excinfo.value.code == "wrong_secret"
    assert server.calls == LOGIN[version]
    _assert_no_secret(excinfo, wrong, caplog)


def test_csc_wrong_pin(csc_each, original, caplog):
    server, version = csc_each
    caplog.set_level(logging.DEBUG)
    method = _csc(server, pin="112233", api_version=version)
    with pytest.raises(sm.SigningError) as excinfo:
        method.sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "wrong_secret"
    assert excinfo.value.detail == "The PIN is invalid"
    assert "credentials/authorize" in server.calls
    assert "signatures/signHash" not in server.calls
    _assert_no_secret(excinfo, "112233", caplog)
    assert "112233" not in repr(method) and CSC_PASSWORD not in repr(method)


def test_csc_unknown_credential_keeps_server_description(csc_each, original):
    server, version = csc_each
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(server, credential_id="cred-nobody", api_version=version).sign(
            original, field_name="A", stamp=None)
    assert excinfo.value.code == "remote_refused"
    assert excinfo.value.detail == "Invalid parameter credentialID"
    assert "Invalid parameter credentialID" in str(excinfo.value)


@pytest.mark.parametrize("version", ["v1", "v2", "auto"])
def test_csc_server_down(version, original):
    server = CscTestServer([], username=CSC_USER, password=CSC_PASSWORD,
                           versions=("v1", "v2")).start()
    url = server.url
    server.stop()
    method = sm.CscMethod(url, username=CSC_USER, password=CSC_PASSWORD, pin=CSC_PIN,
                          api_version=version)
    with pytest.raises(sm.SigningError) as excinfo:
        method.sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "remote_unreachable"


def test_csc_server_too_slow(csc_each, original):
    server, version = csc_each
    server.delay = 1.5
    started = time.monotonic()
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(server, timeout=0.3, api_version=version).sign(original, field_name="A",
                                                            stamp=None)
    assert excinfo.value.code == "timeout"
    assert time.monotonic() - started < 1.2


def test_csc_signature_not_matching_certificate(csc_each, original):
    server, version = csc_each
    server.corrupt_signatures = True
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(server, api_version=version).sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "bad_response"


def test_csc_other_api_versions_refused(csc_server):
    with pytest.raises(ValueError):
        _csc(csc_server, api_version="v3")


# -- CSC API v2 ------------------------------------------------------------


def test_csc_v2_flow_with_oauth2_client_credentials(csc_v2, original, pki):
    method = _csc(csc_v2, api_version="v2")
    signed = method.sign(original, field_name="A", stamp=None)
    # credentials/list with credentialInfo gives the credential: no credentials/info
    assert csc_v2.calls == ["info", "oauth2/token", "credentials/list",
                            "credentials/authorize", "signatures/signHash"]
    assert method.version_used == "v2" and method.credential_id == "cred-ha-01"
    (s,) = pades.signature_summary(signed)
    assert s["intact"] and s["signer_sha256"] == pki.csc.sha256


def test_csc_v2_known_credential_and_basic_login(csc_v2, original, pki):
    """A service offering only HTTP Basic, and a credential id configured."""
    csc_v2.v2_auth_types = ["basic"]
    method = _csc(csc_v2, api_version="v2", credential_id="cred-ha-01")
    signed = method.sign(original, field_name="A", stamp=None)
    assert csc_v2.calls == ["info", "auth/login", "credentials/info",
                            "credentials/authorize", "signatures/signHash"]
    assert pades.signature_summary(signed)[0]["signer_sha256"] == pki.csc.sha256


def test_csc_v2_service_without_a_usable_login(csc_v2, original):
    csc_v2.v2_auth_types = ["oauth2code"]  # needs a browser
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(csc_v2, api_version="v2").sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "remote_refused"
    assert csc_v2.calls == ["info"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_csc_auto_detects_the_version(version, csc_servers, original, pki):
    server = csc_servers[version]
    server.calls.clear()
    method = _csc(server, api_version="auto")
    signed = method.sign(original, field_name="A", stamp=None)
    assert method.version_used == version
    assert server.calls[:len(LOGIN[version])] == LOGIN[version]
    assert pades.signature_summary(signed)[0]["signer_sha256"] == pki.csc.sha256
    assert method.certificate() == pki.csc.der


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_csc_version_not_spoken_is_refused(version, csc_servers, original):
    other = csc_servers["v2" if version == "v1" else "v1"]
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(other, api_version=version).sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "remote_refused"
    assert "Unknown API method" in str(excinfo.value)


def test_csc_base_url_may_end_with_the_version(csc_v2):
    method = sm.CscMethod(csc_v2.url + "/csc/v2/", username=CSC_USER, password=CSC_PASSWORD,
                          pin=CSC_PIN, api_version="v2", timeout=5)
    assert method.base_url == csc_v2.url
    assert method.chain() and method.version_used == "v2"


def test_csc_v2_expired_access_token(csc_v2, original):
    csc_v2.token_lifetime = 0
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(csc_v2, api_version="v2").sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "remote_refused"
    assert excinfo.value.detail == "The access token is not valid"
    assert csc_v2.calls == ["info", "oauth2/token", "credentials/list"]


# The v2 double itself is strict: a client bug must not pass these tests.


def _post(server, path, body=None, *, token=None, form=None):
    """(HTTP status, JSON answer) of a raw call to ``server``."""
    if form is None:
        data, content_type = json.dumps(body or {}).encode(), "application/json"
    else:
        data, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(server.url + path, data=data, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, json.loads(e.read())


def _token(server):
    status, answer = _post(server, "/csc/v2/oauth2/token", form={
        "grant_type": "client_credentials", "client_id": CSC_USER,
        "client_secret": CSC_PASSWORD})
    assert status == 200 and answer["token_type"] == "Bearer", answer
    return answer["access_token"]


def _hash(text: bytes) -> str:
    return base64.b64encode(hashlib.sha256(text).digest()).decode()


def _authorize(server, token, hashes_b64, *, count=None, pin=CSC_PIN):
    return _post(server, "/csc/v2/credentials/authorize", {
        "credentialID": "cred-ha-01", "numSignatures": count or len(hashes_b64),
        "hashes": hashes_b64, "hashAlgorithmOID": SHA256,
        "authData": [{"id": "PIN", "value": pin}]}, token=token)


def _sign_hash(server, token, sad, hashes_b64):
    return _post(server, "/csc/v2/signatures/signHash", {
        "credentialID": "cred-ha-01", "SAD": sad, "hashes": hashes_b64,
        "hashAlgorithmOID": SHA256, "signAlgo": "1.2.840.113549.1.1.11"}, token=token)


def test_csc_v2_double_signs_what_was_authorized(csc_v2, pki):
    token = _token(csc_v2)
    status, info = _post(csc_v2, "/csc/v2/credentials/info", {
        "credentialID": "cred-ha-01", "certificates": "chain", "authInfo": True}, token=token)
    assert status == 200
    assert info["key"]["algo"] == ["1.2.840.113549.1.1.11"] and info["SCAL"] == "2"
    assert info["multisign"] == 1 and info["auth"]["mode"] == "explicit"
    assert [base64.b64decode(c) for c in info["cert"]["certificates"]] == [pki.csc.der,
                                                                          pki.root_der]
    digest = _hash(b"ke hoach bai day")
    status, granted = _authorize(csc_v2, token, [digest])
    assert status == 200 and granted["expiresIn"] > 0
    status, answer = _sign_hash(csc_v2, token, granted["SAD"], [digest])
    assert status == 200
    (value,) = answer["signatures"]
    pki.csc.key.public_key().verify(base64.b64decode(value), b"ke hoach bai day",
                                    PKCS1v15(), hashes.SHA256())
    # a SAD serves its numSignatures once
    status, answer = _sign_hash(csc_v2, token, granted["SAD"], [digest])
    assert (status, answer["error_description"]) == (400, "Invalid parameter SAD")


def test_csc_v2_double_refusals(csc_v2):
    token = _token(csc_v2)
    one, two = _hash(b"one"), _hash(b"two")
    # no or unknown access token
    assert _post(csc_v2, "/csc/v2/credentials/list", {})[0] == 401
    assert _post(csc_v2, "/csc/v2/credentials/list", {}, token="forged")[1]["error"] \
        == "invalid_token"
    # wrong client secret, token request not form-encoded, other grant
    status, answer = _post(csc_v2, "/csc/v2/oauth2/token", form={
        "grant_type": "client_credentials", "client_id": CSC_USER, "client_secret": "x"})
    assert (status, answer["error"]) == (401, "invalid_client")
    assert _post(csc_v2, "/csc/v2/oauth2/token", {
        "grant_type": "client_credentials", "client_id": CSC_USER,
        "client_secret": CSC_PASSWORD})[0] == 400
    status, answer = _post(csc_v2, "/csc/v2/oauth2/token", form={
        "grant_type": "password", "username": CSC_USER, "password": CSC_PASSWORD})
    assert (status, answer["error"]) == (400, "unsupported_grant_type")
    # wrong hash count, wrong PIN, v1 field names
    status, answer = _authorize(csc_v2, token, [one, two], count=1)
    assert status == 400 and "numSignatures" in answer["error_description"]
    assert _authorize(csc_v2, token, [one], pin="000000")[1]["error"] == "invalid_pin"
    status, answer = _post(csc_v2, "/csc/v2/credentials/authorize", {
        "credentialID": "cred-ha-01", "numSignatures": 1, "hash": [one], "PIN": CSC_PIN},
        token=token)
    assert status == 400 and "hashes" in answer["error_description"]
    # wrong SAD, a hash the SAD is not bound to, wrong hash algorithm
    sad = _authorize(csc_v2, token, [one])[1]["SAD"]
    assert _sign_hash(csc_v2, token, sad + "x", [one])[1]["error_description"] \
        == "Invalid parameter SAD"
    assert _sign_hash(csc_v2, token, sad, [two])[1]["error_description"] \
        == "Hash is not authorized by the SAD"
    assert _sign_hash(csc_v2, token, sad, [one, two])[0] == 400
    status, answer = _post(csc_v2, "/csc/v2/signatures/signHash", {
        "credentialID": "cred-ha-01", "SAD": sad, "hashes": [one],
        "hashAlgorithmOID": "1.3.14.3.2.26", "signAlgo": "1.2.840.113549.1.1.11"},
        token=token)
    assert (status, answer["error_description"]) == (400, "Invalid parameter hashAlgorithmOID")
    assert _sign_hash(csc_v2, token, sad, [one])[0] == 200  # the refusals used nothing up


def test_csc_v2_double_expiries(csc_v2):
    csc_v2.sad_lifetime = 0
    token = _token(csc_v2)
    digest = _hash(b"one")
    sad = _authorize(csc_v2, token, [digest])[1]["SAD"]
    time.sleep(0.01)
    assert _sign_hash(csc_v2, token, sad, [digest])[1]["error_description"] == "SAD expired"
    csc_v2.token_lifetime = 0
    expired = _token(csc_v2)
    time.sleep(0.01)
    status, answer = _post(csc_v2, "/csc/v2/credentials/list", {}, token=expired)
    assert (status, answer["error"]) == (401, "invalid_token")


# -- Deferred (device) signing ---------------------------------------------


@pytest.fixture(scope="module")
def deferred_request(pki, original):
    return sm.prepare_deferred(original, pki.device.der, [pki.root_der],
                               field_name="GiaoVien", stamp=None)


def _edit_state(state: bytes, **changes) -> bytes:
    data = json.loads(state)
    data.update(changes)
    return json.dumps(data).encode()


def test_deferred_request_shape(deferred_request, pki, original):
    assert deferred_request.digest_algorithm == "sha256"
    assert deferred_request.to_sign[:1] == b"\x31"  # DER SET OF signed attributes
    state = json.loads(deferred_request.state)
    assert base64.b64decode(state["document"]).startswith(original)
    # The device may sign the precomputed hash instead of the attributes.
    value = pki.device.key.sign(deferred_request.digest, PKCS1v15(),
                                Prehashed(hashes.SHA256()))
    signed = sm.finish_deferred(deferred_request.state, value)
    assert signed.startswith(original)
    assert pades.signature_summary(signed)[0]["intact"]


def test_deferred_tampered_document_refused(deferred_request, pki):
    data = json.loads(deferred_request.state)
    document = bytearray(base64.b64decode(data["document"]))
    pos = document.index(b"KEHOACHBAIDAY page 1")
    document[pos] ^= 0x01
    state = _edit_state(deferred_request.state,
                        document=base64.b64encode(bytes(document)).decode())
    value = _device_sign(pki.device, deferred_request.to_sign)
    with pytest.raises(sm.SigningError) as excinfo:
        sm.finish_deferred(state, value)
    assert excinfo.value.code == "bad_state"


def test_deferred_swapped_certificate_refused(deferred_request, pki):
    state = _edit_state(deferred_request.state,
                        certificate=base64.b64encode(pki.csc.der).decode())
    value = _device_sign(pki.csc, deferred_request.to_sign)
    with pytest.raises(sm.SigningError) as excinfo:
        sm.finish_deferred(state, value)
    assert excinfo.value.code == "bad_state"


@pytest.mark.parametrize("state", [b"", b"not json", b'{"format": "other"}',
                                   b'{"format": "hscm-deferred-pades/1"}'])
def test_deferred_unreadable_state_refused(state, pki, deferred_request):
    with pytest.raises(sm.SigningError) as excinfo:
        sm.finish_deferred(state, _device_sign(pki.device, deferred_request.to_sign))
    assert excinfo.value.code == "bad_state"


@pytest.mark.parametrize("signer", ["other_key", "other_data", "garbage"])
def test_deferred_wrong_signature_value_refused(signer, deferred_request, pki):
    value = {
        "other_key": lambda: _device_sign(pki.csc, deferred_request.to_sign),
        "other_data": lambda: _device_sign(pki.device, deferred_request.to_sign + b"x"),
        "garbage": lambda: bytes(256),
    }[signer]()
    with pytest.raises(sm.SigningError) as excinfo:
        sm.finish_deferred(deferred_request.state, value)
    assert excinfo.value.code == "bad_response"


def test_deferred_ecdsa_raw_signature_with_timestamp(pki, original):
    request = sm.prepare_deferred(original, pki.device_ec.der, [pki.root_der],
                                  field_name="GiaoVien", stamp=STAMP)
    value = _device_sign(pki.device_ec, request.to_sign)
    assert len(value) == 64  # raw r||s, not DER
    signed = sm.finish_deferred(request.state, value, timestamper=pki.timestamper)
    assert signed.startswith(original)
    (s,) = pades.signature_summary(signed)
    assert s["intact"] and s["signer_sha256"] == pki.device_ec.sha256
    assert s["timestamp_time"] is not None


def test_deferred_refuses_a_ca_certificate(pki, original):
    with pytest.raises(sm.SigningError) as excinfo:
        sm.prepare_deferred(original, pki.root_der, [], field_name="A", stamp=None)
    assert excinfo.value.code == "bad_certificate"


def test_unknown_error_code_is_a_bug():
    with pytest.raises(ValueError):
        sm.SigningError("oops", "message")
