"""A remote signing service speaking the Cloud Signature Consortium API v1.

The public CSC API v1 (1.0.4.0) methods a signature application needs, on
``http://127.0.0.1:<free port>/csc/v1/``: ``info``, ``auth/login`` (HTTP
Basic → bearer access token), ``credentials/list``, ``credentials/info``
(key status and algorithm OIDs, certificate chain as base64 DER),
``credentials/authorize`` (PIN + hashes → SAD bound to those hashes, SCAL 2)
and ``signatures/signHash`` (raw signature of each authorised hash with the
credential's key: PKCS#1 v1.5 over the DigestInfo for RSA, DER ECDSA for
EC). Errors are HTTP 400/401 with ``{"error", "error_description"}`` as in
the specification.

Test knobs: ``delay`` (seconds before every answer, to exercise client
timeouts), ``corrupt_signatures`` (flip a bit of every signature) and
``calls`` (the methods called, in order).
"""

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

SHA256 = "2.16.840.1.101.3.4.2.1"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
_CURVE_OIDS = {"secp256r1": "1.2.840.10045.3.1.7", "secp384r1": "1.3.132.0.34",
               "secp521r1": "1.3.132.0.35"}

TOKEN_LIFETIME = 3600
SAD_LIFETIME = 300


@dataclass
class CscCredential:
    """One signing credential: ``certificates`` are DER, the signer's first."""

    credential_id: str
    private_key: object  # cryptography RSA or EC private key
    certificates: list
    pin: str

    @property
    def sign_algo(self) -> str:
        return ECDSA_WITH_SHA256 if isinstance(self.private_key, ec.EllipticCurvePrivateKey) \
            else SHA256_WITH_RSA

    def sign_digest(self, digest: bytes) -> bytes:
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return self.private_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return self.private_key.sign(digest, PKCS1v15(), Prehashed(hashes.SHA256()))


class CscError(Exception):
    """An error answer: HTTP status, CSC error code, description."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _invalid(description: str) -> CscError:
    return CscError(400, "invalid_request", description)


def _string(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise _invalid(f"Missing (or invalid type) string parameter {name}")
    return value


def _hashes(body: dict) -> list[str]:
    value = body.get("hash")
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise _invalid("Missing (or invalid type) array parameter hash")
    if not value:
        raise _invalid("Empty hash array")
    for h in value:
        try:
            digest = base64.b64decode(h, validate=True)
        except binascii.Error:
            raise _invalid("Invalid Base64 hash string parameter") from None
        if len(digest) != 32:
            raise _invalid("Invalid digest value length")
    return value


class CscTestServer:
    """The service, for one user (``username``/``password``) owning
    ``credentials`` (a list of :class:`CscCredential`)."""

    def __init__(self, credentials, *, username: str, password: str, delay: float = 0.0):
        self.credentials = {c.credential_id: c for c in credentials}
        self.username = username
        self.password = password
        self.delay = delay
        self.corrupt_signatures = False
        self.calls: list[str] = []
        self._tokens: dict[str, float] = {}
        self._sads: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "CscTestServer":
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                service._handle(self)

            def log_message(self, *args):  # keep test output clean
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request, client_address):
                # A client that timed out has closed its socket: not an error.
                pass

        self._httpd = Server(("127.0.0.1", 0), Handler)
        # A short poll interval keeps stop() quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="csc-test-server")
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, the part before ``/csc/v1/...``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- HTTP --------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler):
        if self.delay:
            time.sleep(self.delay)
        prefix = "/csc/v1/"
        method = request.path[len(prefix):] if request.path.startswith(prefix) else None
        routes = {
            "info": self._info,
            "auth/login": self._login,
            "credentials/list": self._list,
            "credentials/info": self._credential_info,
            "credentials/authorize": self._authorize,
            "signatures/signHash": self._sign_hash,
        }
        try:
            if method not in routes:
                raise CscError(404, "invalid_request", "Unknown API method")
            with self._lock:
                self.calls.append(method)
            length = int(request.headers.get("Content-Length") or 0)
            raw = request.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw)
            except ValueError:
                raise _invalid("The request body is not JSON") from None
            if not isinstance(body, dict):
                raise _invalid("The request body is not a JSON object")
            status, answer = 200, routes[method](request.headers, body)
        except CscError as e:
            status, answer = e.status, {"error": e.error, "error_description": e.description}
        data = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _bearer(self, headers):
        value = headers.get("Authorization", "")
        token = value[7:] if value.startswith("Bearer ") else None
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None or expiry < time.monotonic():
            raise CscError(401, "invalid_token", "The access token is not valid")

    def _credential(self, body) -> CscCredential:
        credential = self.credentials.get(_string(body, "credentialID"))
        if credential is None:
            raise _invalid("Invalid parameter credentialID")
        return credential

    # -- API methods -------------------------------------------------------

    def _info(self, headers, body):
        return {
            "specs": "1.0.4.0",
            "name": "HSCM test signing service",
            "logo": "",
            "region": "VN",
            "lang": "en-US",
            "description": "Local CSC v1 service for tests",
            "authType": ["basic"],
            "methods": ["auth/login", "credentials/list", "credentials/info",
                        "credentials/authorize", "signatures/signHash"],
        }

    def _login(self, headers, body):
        value = headers.get("Authorization", "")
        if not value.startswith("Basic "):
            raise CscError(401, "invalid_request", "Malformed authentication parameter")
        try:
            user, sep, password = base64.b64decode(value[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise CscError(401, "invalid_request", "Malformed authentication parameter") from None
        if not sep:
            raise _invalid("Malformed username-password")
        if not (secrets.compare_digest(user.encode(), self.username.encode())
                and secrets.compare_digest(password.encode(), self.password.encode())):
            raise CscError(400, "authentication_error",
                           "An error occurred during the authentication process")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + TOKEN_LIFETIME
        return {"access_token": token, "expires_in": TOKEN_LIFETIME}

    def _list(self, headers, body):
        self._bearer(headers)
        return {"credentialIDs": list(self.credentials)}

    def _credential_info(self, headers, body):
        self._bearer(headers)
        credential = self._credential(body)
        which = body.get("certificates", "single")
        if which not in ("none", "single", "chain"):
            raise _invalid("Invalid parameter certificates")
        chosen = {"none": [], "single": credential.certificates[:1],
                  "chain": credential.certificates}[which]
        key = credential.private_key
        answer = {
            "key": {"status": "enabled", "algo": [credential.sign_algo], "len": key.key_size},
            "cert": {"status": "valid",
                     "certificates": [base64.b64encode(der).decode() for der in chosen]},
            "authMode": "explicit",
            "PIN": {"presence": "true", "format": "N", "label": "PIN",
                    "description": "Signature PIN"},
            "OTP": {"presence": "false"},
            "multisign": 1,
            "SCAL": "2",
            "lang": "en-US",
        }
        if isinstance(key, ec.EllipticCurvePrivateKey):
            answer["key"]["curve"] = _CURVE_OIDS[key.curve.name]
        if body.get("certInfo"):
            cert = x509.load_der_x509_certificate(credential.certificates[0])
            answer["cert"].update(
                issuerDN=cert.issuer.rfc4514_string(),
                subjectDN=cert.subject.rfc4514_string(),
                serialNumber=format(cert.serial_number, "x"),
                validFrom=cert.not_valid_before_utc.strftime("%Y%m%d%H%M%SZ"),
                validTo=cert.not_valid_after_utc.strftime("%Y%m%d%H%M%SZ"),
            )
        return answer

    def _authorize(self, headers, body):
        self._bearer(headers)
        credential = self._credential(body)
        count = body.get("numSignatures")
        if not isinstance(count, int) or isinstance(count, bool):
            raise _invalid("Missing (or invalid type) integer parameter numSignatures")
        if count < 1:
            raise _invalid("Invalid value for parameter numSignatures")
        if count > 1:  # multisign is 1
            raise _invalid("Numbers of signatures is too high")
        bound = _hashes(body)  # SCAL 2: the SAD is bound to these hashes
        if len(bound) != count:
            raise _invalid("Invalid parameter hash")
        pin = _string(body, "PIN")
        if not secrets.compare_digest(pin.encode(), credential.pin.encode()):
            raise CscError(400, "invalid_pin", "The PIN is invalid")
        sad = secrets.token_urlsafe(24)
        with self._lock:
            self._sads[sad] = {"credential": credential.credential_id, "hashes": set(bound),
                               "left": count, "expiry": time.monotonic() + SAD_LIFETIME}
        return {"SAD": sad, "expiresIn": SAD_LIFETIME}

    def _sign_hash(self, headers, body):
        self._bearer(headers)
        credential = self._credential(body)
        sad = _string(body, "SAD")
        requested = _hashes(body)
        algo = _string(body, "signAlgo")
        if algo != credential.sign_algo:
            raise _invalid("Invalid parameter signAlgo")
        if body.get("hashAlgo", SHA256) != SHA256:
            raise _invalid("Invalid parameter hashAlgo")
        with self._lock:
            grant = self._sads.get(sad)
            if grant is None or grant["credential"] != credential.credential_id:
                raise _invalid("Invalid parameter SAD")
            if grant["expiry"] < time.monotonic():
                del self._sads[sad]
                raise _invalid("SAD expired")
            if not set(requested) <= grant["hashes"] or len(requested) > grant["left"]:
                raise _invalid("Hash is not authorized by the SAD")
            grant["left"] -= len(requested)
            if grant["left"] == 0:
                del self._sads[sad]
        signatures = []
        for h in requested:
            value = credential.sign_digest(base64.b64decode(h))
            if self.corrupt_signatures:
                value = value[:-1] + bytes([value[-1] ^ 1])
            signatures.append(base64.b64encode(value).decode())
        return {"signatures": signatures}

