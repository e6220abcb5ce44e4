"""Signing methods: PKCS#12, PKCS#11 token, CSC remote service, user's device.

Each method must give the same incremental PAdES result as pades.sign_pdf;
each failure must come out as a SigningError with a stable code and no
secret in its text.
"""

import base64
import datetime as dt
import io
import json
import logging
import time
from types import SimpleNamespace

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.general import load_private_key_from_pemder_data
from pyhanko.sign.timestamps import DummyTimeStamper
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from hscm_doubles.csc_server import CscCredential, CscTestServer
from hscm_doubles.softhsm import SoftHsmToken
from hscm_tools import pades
from hscm_tools import signing_methods as sm

NOW = dt.datetime.now(dt.timezone.utc)
P12_PASSPHRASE = b"Mat-khau-P12-2026"
TOKEN_PIN = "975310"
CSC_USER = "lan.anh@thcs-demo.edu.vn"
CSC_PASSWORD = "Mat-khau-CSC-77"
CSC_PIN = "135790"
STAMP = pades.StampText(name="Phạm Thị Lan Anh", position="TỔ TRƯỞNG",
                        signed_at="Đã ký: 23/11/2026 08:15")


def _name(cn):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "THCS Demo"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _cert(cn, key, issuer_key, *, ca=False, eku=None, days=(-1, 365)):
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name("Demo Root CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                crl_sign=ca, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def _der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def _rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pki():
    root_key = _rsa()
    root = _cert("Demo Root CA", root_key, root_key, ca=True)
    out = SimpleNamespace(root=root, root_der=_der(root), root_key=root_key)
    for tag, cn, key in (("lan", "Phạm Thị Lan Anh", _rsa()),
                         ("token", "Nguyễn Văn Minh", _rsa()),
                         ("csc", "Trần Thu Hà", _rsa()),
                         ("device", "Lê Quốc Bảo", _rsa()),
                         ("device_ec", "Võ Thị Mai", ec.generate_private_key(ec.SECP256R1()))):
        cert = _cert(cn, key, root_key)
        setattr(out, tag, SimpleNamespace(key=key, cert=cert, der=_der(cert),
                                          sha256=cert.fingerprint(hashes.SHA256()).hex()))
    out.p12 = pkcs12.serialize_key_and_certificates(
        b"lan", out.lan.key, out.lan.cert, [root],
        serialization.BestAvailableEncryption(P12_PASSPHRASE))
    expired = _cert("Phạm Thị Lan Anh", out.lan.key, root_key, days=(-400, -35))
    out.expired_p12 = pkcs12.serialize_key_and_certificates(
        b"old", out.lan.key, expired, [root],
        serialization.BestAvailableEncryption(P12_PASSPHRASE))
    tsa_key = _rsa()
    tsa = _cert("Demo TSA", tsa_key, root_key, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    out.timestamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(_der(tsa)),
        tsa_key=load_private_key_from_pemder_data(
            tsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()), passphrase=None),
        certs_to_embed=[asn1_x509.Certificate.load(out.root_der)],
    )
    return out


@pytest.fixture(scope="module")
def token(pki):
    with SoftHsmToken(pki.token.key, pki.token.der, chain_der=[pki.root_der],
                      token_label="hscm-unit", pin=TOKEN_PIN, key_label="minh") as tok:
        yield tok


@pytest.fixture(scope="module")
def csc_server(pki):
    credential = CscCredential("cred-ha-01", pki.csc.key, [pki.csc.der, pki.root_der], CSC_PIN)
    with CscTestServer([credential], username=CSC_USER, password=CSC_PASSWORD) as server:
        yield server


@pytest.fixture()
def csc_clean(csc_server):
    """The shared server, back to normal behaviour after the test."""
    csc_server.calls.clear()
    yield csc_server
    csc_server.delay = 0.0
    csc_server.corrupt_signatures = False


def _pdf(pages=2):
    w = PdfWriter()
    for i in range(pages):
        page = w.add_blank_page(width=595, height=842)
        stream = DecodedStreamObject()
        stream.set_data(b"0 0 1 rg 72 700 200 60 re f %% KEHOACHBAIDAY page %d" % (i + 1))
        page[NameObject("/Contents")] = w._add_object(stream)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


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

    def sign(self, pdf, *, field_name, stamp, page=-1, box=None, timestamper=None):
        request = sm.prepare_deferred(pdf, self.holder.der, [self.pki.root_der],
                                      field_name=field_name, stamp=stamp, page=page, box=box)
        # Two processes: only the state bytes travel.
        state = bytes(request.state)
        return sm.finish_deferred(state, _device_sign(self.holder, request.to_sign),
                                  timestamper=timestamper)


@pytest.fixture(scope="module")
def methods(pki, token, csc_server):
    return {
        "pkcs12": (sm.Pkcs12Method(pki.p12, P12_PASSPHRASE), pki.lan),
        "pkcs11": (sm.Pkcs11Method(token.module_path, token.token_label, TOKEN_PIN,
                                   token.key_label), pki.token),
        "csc": (sm.CscMethod(csc_server.url, username=CSC_USER, password=CSC_PASSWORD,
                             pin=CSC_PIN, timeout=5), pki.csc),
        "deferred": (DeferredMethod(pki, pki.device), pki.device),
    }


@pytest.fixture(scope="module")
def original():
    return _pdf()


@pytest.fixture(scope="module")
def signed_once(methods, original):
    return {name: method.sign(original, field_name="ToTruong", stamp=STAMP)
            for name, (method, _) in methods.items()}


NAMES = ["pkcs12", "pkcs11", "csc", "deferred"]


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


def test_csc_wrong_password(csc_clean, original, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "Sai-mat-khau-CSC"
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(csc_clean, password=wrong).sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "wrong_secret"
    assert csc_clean.calls == ["auth/login"]
    _assert_no_secret(excinfo, wrong, caplog)


def test_csc_wrong_pin(csc_clean, original, caplog):
    caplog.set_level(logging.DEBUG)
    method = _csc(csc_clean, pin="112233")
    with pytest.raises(sm.SigningError) as excinfo:
        method.sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "wrong_secret"
    assert excinfo.value.detail == "The PIN is invalid"
    assert "signatures/signHash" not in csc_clean.calls
    _assert_no_secret(excinfo, "112233", caplog)
    assert "112233" not in repr(method) and CSC_PASSWORD not in repr(method)


def test_csc_unknown_credential_keeps_server_description(csc_clean, original):
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(csc_clean, credential_id="cred-nobody").sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "remote_refused"
    assert excinfo.value.detail == "Invalid parameter credentialID"
    assert "Invalid parameter credentialID" in str(excinfo.value)


def test_csc_server_down(pki, original):
    server = CscTestServer([], username=CSC_USER, password=CSC_PASSWORD).start()
    url = server.url
    server.stop()
    method = sm.CscMethod(url, username=CSC_USER, password=CSC_PASSWORD, pin=CSC_PIN)
    with pytest.raises(sm.SigningError) as excinfo:
        method.sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "remote_unreachable"


def test_csc_server_too_slow(csc_clean, original):
    csc_clean.delay = 1.5
    started = time.monotonic()
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(csc_clean, timeout=0.3).sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "timeout"
    assert time.monotonic() - started < 1.2


def test_csc_signature_not_matching_certificate(csc_clean, original):
    csc_clean.corrupt_signatures = True
    with pytest.raises(sm.SigningError) as excinfo:
        _csc(csc_clean).sign(original, field_name="A", stamp=None)
    assert excinfo.value.code == "bad_response"


def test_csc_other_api_versions_refused(csc_server):
    with pytest.raises(ValueError):
        _csc(csc_server, api_version="v2")


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
