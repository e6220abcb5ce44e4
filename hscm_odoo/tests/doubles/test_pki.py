"""A local public-CA look-alike for tests: root, intermediate, signers, TSA, OCSP, CRLs.

Built with certomancer from a configuration made at start-up (fresh keys,
validity periods around the current time) and served by certomancer's
``Animator`` under Werkzeug on 127.0.0.1, on a free port, in a background
thread. Start-up takes well under a second. No Odoo import, no internet::

    with LocalPki() as pki:
        signer = pades.load_pkcs12_signer(pki.signers["alice"].pkcs12, pki.passphrase)
        pdf = pades.sign_pdf(pdf, signer, field_name="A", stamp=None,
                             timestamper=pki.timestamper())

Signers: ``alice`` and ``bob`` (good), ``revoked`` (revoked one day before
start-up, so reported by both the OCSP responder and the intermediate's CRL).
Signer certificates point to the OCSP responder and the intermediate's CRL;
the intermediate and the TSA point to the root's CRL.
"""

import datetime as dt
import hashlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ARCH = "hscm-test"
SIGNER_NAMES = {
    "alice": "Nguyễn Thị Alice",
    "bob": "Trần Văn Bob",
    "revoked": "Lê Văn Revoked",
}
# The service keys are P-256: loading an RSA key costs OpenSSL 3 ~50 ms and
# certomancer reloads its key for every certificate, CRL, OCSP response and
# timestamp. Signers keep RSA 2048, like the certificates staff really hold.
_SERVICE_KEYS = ("root", "interm", "ocsp", "tsa")
_KEY_LABELS = (*_SERVICE_KEYS, *SIGNER_NAMES)


@dataclass(frozen=True)
class SignerMaterial:
    """One signer: PKCS#12 (key, certificate, chain) and its certificate."""

    common_name: str
    pkcs12: bytes
    cert_der: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.cert_der).hexdigest()


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _validity(start: dt.datetime, end: dt.datetime) -> dict:
    return {"valid-from": _iso(start), "valid-to": _iso(end)}


def _key_usage(*usages: str) -> dict:
    return {"id": "key_usage", "critical": True,
            "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _crl_point(repo: str) -> dict:
    return {"id": "crl_distribution_points",
            "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [repo]}}}


def _config(url_prefix: str, now: dt.datetime) -> dict:
    long_ago = now - dt.timedelta(days=730)
    signer_extensions = [
        _key_usage("digital_signature", "non_repudiation"),
        _crl_point("interm"),
        {"id": "authority_information_access",
         "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": ["interm"]}}},
    ]
    certs = {
        "root": {
            "subject": "root", "subject-key": "root", "issuer": "root", "authority-key": "root",
            "validity": _validity(long_ago, now + dt.timedelta(days=3650)),
            "extensions": [
                {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
            ],
        },
        "interm": {
            "issuer": "root",
            "validity": _validity(long_ago, now + dt.timedelta(days=1825)),
            "extensions": [
                {"id": "basic_constraints", "critical": True,
                 "value": {"ca": True, "path-len-constraint": 0}},
                _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
                _crl_point("root"),
            ],
        },
        "ocsp": {
            "issuer": "interm",
            "validity": _validity(long_ago, now + dt.timedelta(days=1825)),
            "extensions": [
                _key_usage("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"},
            ],
        },
        "tsa": {
            "issuer": "root",
            "validity": _validity(long_ago, now + dt.timedelta(days=1825)),
            "extensions": [
                _key_usage("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                _crl_point("root"),
            ],
        },
    }
    for label in SIGNER_NAMES:
        certs[label] = {
            "issuer": "interm",
            "validity": _validity(now - dt.timedelta(days=365), now + dt.timedelta(days=365)),
            "extensions": signer_extensions,
        }
    certs["revoked"]["revocation"] = {
        "revoked-since": _iso(now - dt.timedelta(days=1)), "reason": "key_compromise",
    }
    entities = {
        "root": {"common-name": "HSCM Test Root CA"},
        "interm": {"common-name": "HSCM Test Intermediate CA"},
        "ocsp": {"common-name": "HSCM Test OCSP Responder"},
        "tsa": {"common-name": "HSCM Test Time Stamping Authority"},
    }
    entities.update({label: {"common-name": cn} for label, cn in SIGNER_NAMES.items()})
    return {
        "external-url-prefix": url_prefix,
        "keysets": {ARCH: {"keys": {label: {"path": f"{label}.key.pem"} for label in _KEY_LABELS}}},
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "VN", "organization-name": "HSCM Test PKI"},
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": {"interm": {"for-issuer": "interm", "responder-cert": "ocsp",
                                        "signing-key": "ocsp"}},
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root",
                                 "simulated-update-schedule": "P7D"},
                        "interm": {"for-issuer": "interm", "signing-key": "interm",
                                   "simulated-update-schedule": "P7D"},
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


def _quiet_handler():
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    return QuietHandler


class LocalPki:
    """The test PKI and its HTTP services; ``start()``/``stop()`` or ``with``."""

    passphrase = b"test-pki"

    def __init__(self):
        self._server = None
        self._thread = None
        self._arch = None
        self.base_url = None
        self.signers: dict[str, SignerMaterial] = {}

    # -- life cycle ---------------------------------------------------------

    def start(self) -> "LocalPki":
        from certomancer.integrations.animator import Animator, AnimatorArchStore
        from certomancer.registry import CertomancerConfig
        from werkzeug.serving import make_server

        if self._server is not None:
            return self
        # Bind first: certificates embed the OCSP/CRL URLs, hence the port.
        server = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=True,
                             request_handler=_quiet_handler())
        try:
            self.base_url = f"http://127.0.0.1:{server.server_port}"
            now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            # certomancer reads keys from files, once, when the config is built.
            with tempfile.TemporaryDirectory(prefix="hscm-test-pki-") as key_dir:
                for label in _KEY_LABELS:
                    if label in _SERVICE_KEYS:
                        key = ec.generate_private_key(ec.SECP256R1())
                    else:
                        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                    (Path(key_dir) / f"{label}.key.pem").write_bytes(key.private_bytes(
                        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ))
                config = CertomancerConfig(_config(self.base_url, now), key_search_dir=key_dir)
            self._arch = config.get_pki_arch(ARCH)
            server.app = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
            self.signers = {
                label: SignerMaterial(
                    common_name=cn,
                    pkcs12=self._arch.package_pkcs12(label, password=self.passphrase),
                    cert_der=self._arch.get_cert(label).dump(),
                )
                for label, cn in SIGNER_NAMES.items()
            }
        except BaseException:
            server.server_close()
            raise
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="hscm-test-pki", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server.server_close()
            self._server = self._thread = None

    def __enter__(self) -> "LocalPki":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- material -----------------------------------------------------------

    def cert_der(self, label: str) -> bytes:
        """DER of a certificate by label: root, interm, ocsp, tsa or a signer."""
        return self._arch.get_cert(label).dump()

    @property
    def root_der(self) -> bytes:
        return self.cert_der("root")

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/{ARCH}/tsa/tsa"

    def crl(self, issuer: str = "interm") -> bytes:
        """The current CRL of ``issuer`` ('interm' or 'root'), DER."""
        return self._arch.service_registry.get_crl(issuer).dump()

    def timestamper(self, timeout: float = 5.0):
        """A pyHanko RFC 3161 client for the test TSA."""
        from pyhanko.sign.timestamps import HTTPTimeStamper

        return HTTPTimeStamper(self.tsa_url, timeout=timeout)
