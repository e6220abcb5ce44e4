"""A remote signing service speaking the Cloud Signature Consortium API v1
and/or v2.

The public CSC API methods a signature application needs, on
``http://127.0.0.1:<free port>/csc/<version>/`` for each of ``versions``:

v1 (1.0.4.0)
    ``info``, ``auth/login`` (HTTP Basic → bearer access token),
    ``credentials/list``, ``credentials/info`` (key status and algorithm
    OIDs, certificate chain as base64 DER), ``credentials/authorize`` (``PIN``
    + ``hash`` → SAD bound to those hashes, SCAL 2) and
    ``signatures/signHash`` (``hash``, ``hashAlgo``).
v2 (2.0.0.2)
    ``info`` (``specs`` 2.0.0.2, ``authType`` = ``v2_auth_types``, ``oauth2``
    = the base of ``oauth2/token``), ``oauth2/token`` (form-encoded client
    credentials grant: client id/secret = ``username``/``password``),
    ``auth/login`` when ``basic`` is offered, ``credentials/list`` (with
    ``credentialInfo``/``certificates``/``certInfo``/``authInfo``),
    ``credentials/info`` (``key``, ``cert``, ``auth`` {``mode``, ``objects``},
    ``SCAL``, ``multisign``), ``credentials/authorize`` (``numSignatures``,
    ``hashes``, ``hashAlgorithmOID``, PIN in ``authData``) and
    ``signatures/signHash`` (``credentialID``, ``SAD``, ``hashes``,
    ``hashAlgorithmOID``, ``signAlgo`` → ``signatures``).

Signatures are raw, with the credential's key: PKCS#1 v1.5 over the
DigestInfo for RSA, DER ECDSA for EC. The service is strict: a missing,
unknown or expired access token, a SAD that is wrong, expired or used up, a
hash count that differs from ``numSignatures``, a hash the SAD was not
bound to and a v1 field name sent to v2 (or the reverse) are refused. Errors
are HTTP 400/401 with ``{"error", "error_description"}`` as in the
specification (and RFC 6749 §5.2 for ``oauth2/token``).

Test knobs: ``delay`` (seconds before every answer, to exercise client
timeouts), ``corrupt_signatures`` (flip a bit of every signature),
``token_lifetime`` / ``sad_lifetime`` (seconds) and ``calls`` (the methods
called, in order, without the version).
"""

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

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


def _hashes(body: dict, name: str = "hash") -> list[str]:
    value = body.get(name)
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise _invalid(f"Missing (or invalid type) array parameter {name}")
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


def _bound_hashes(body: dict, name: str) -> list[str]:
    """The hashes a SAD is to be bound to (SCAL 2): exactly ``numSignatures``."""
    count = _count(body)
    bound = _hashes(body, name)
    if len(bound) != count:
        raise _invalid("The number of hashes differs from numSignatures")
    return bound


def _count(body: dict) -> int:
    count = body.get("numSignatures")
    if not isinstance(count, int) or isinstance(count, bool):
        raise _invalid("Missing (or invalid type) integer parameter numSignatures")
    if count < 1:
        raise _invalid("Invalid value for parameter numSignatures")
    if count > 1:  # multisign is 1
        raise _invalid("Numbers of signatures is too high")
    return count


def _v1_names_refused(body: dict):
    """v2 renamed ``hash`` and ``hashAlgo``; a v1 body sent to v2 is an error."""
    for old, new in (("hash", "hashes"), ("hashAlgo", "hashAlgorithmOID"), ("PIN", "authData")):
        if old in body:
            raise _invalid(f"Unknown parameter {old} (CSC API v2 calls it {new})")


class CscTestServer:
    """The service, for one user (``username``/``password``, also its OAuth
    2.0 client id and secret) owning ``credentials`` (a list of
    :class:`CscCredential`), speaking the API ``versions`` (``v1``, ``v2``)."""

    def __init__(self, credentials, *, username: str, password: str, delay: float = 0.0,
                 versions=("v1",), v2_auth_types=("oauth2client",)):
        self.credentials = {c.credential_id: c for c in credentials}
        self.username = username
        self.password = password
        self.delay = delay
        self.versions = tuple(versions)
        self.v2_auth_types = list(v2_auth_types)
        self.token_lifetime = TOKEN_LIFETIME
        self.sad_lifetime = SAD_LIFETIME
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

    def _routes(self, version: str) -> dict:
        if version not in self.versions:
            return {}
        if version == "v1":
            return {
                "info": self._info,
                "auth/login": self._login,
                "credentials/list": self._list,
                "credentials/info": self._credential_info,
                "credentials/authorize": self._authorize,
                "signatures/signHash": self._sign_hash,
            }
        routes = {
            "info": self._info_v2,
            "oauth2/token": self._oauth2_token,
            "credentials/list": self._list_v2,
            "credentials/info": self._credential_info_v2,
            "credentials/authorize": self._authorize_v2,
            "signatures/signHash": self._sign_hash_v2,
        }
        if "basic" in self.v2_auth_types:
            routes["auth/login"] = self._login
        return routes

    @staticmethod
    def _body(request, method: str) -> dict:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        if method == "oauth2/token":  # RFC 6749: form-encoded, not JSON
            if request.headers.get_content_type() != "application/x-www-form-urlencoded":
                raise _invalid("The token request must be application/x-www-form-urlencoded")
            try:
                fields = parse_qs(raw.decode("ascii"), strict_parsing=bool(raw))
            except (UnicodeDecodeError, ValueError):
                raise _invalid("The token request is not form-encoded") from None
            if any(len(v) != 1 for v in fields.values()):
                raise _invalid("A token request parameter is repeated")
            return {k: v[0] for k, v in fields.items()}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise _invalid("The request body is not JSON") from None
        if not isinstance(body, dict):
            raise _invalid("The request body is not a JSON object")
        return body

    def _handle(self, request: BaseHTTPRequestHandler):
        if self.delay:
            time.sleep(self.delay)
        _empty, csc, version, method = (request.path.split("/", 3) + ["", "", ""])[:4]
        routes = self._routes(version) if (_empty, csc) == ("", "csc") else {}
        try:
            if method not in routes:
                raise CscError(404, "invalid_request", "Unknown API method")
            with self._lock:
                self.calls.append(method)
            body = self._body(request, method)
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
        if not self._is_user(user, password):
            raise CscError(400, "authentication_error",
                           "An error occurred during the authentication process")
        return self._new_token()

    def _is_user(self, user: str, password: str) -> bool:
        return (secrets.compare_digest(user.encode(), self.username.encode())
                and secrets.compare_digest(password.encode(), self.password.encode()))

    def _new_token(self) -> dict:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}

    def _list(self, headers, body):
        self._bearer(headers)
        return {"credentialIDs": list(self.credentials)}

    @staticmethod
    def _describe(credential: CscCredential, body: dict) -> dict:
        """``key`` and ``cert`` of ``credential`` as ``body`` asks
        (``certificates``, ``certInfo``): the same in v1 and v2."""
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

    def _credential_info(self, headers, body):
        self._bearer(headers)
        answer = self._describe(self._credential(body), body)
        answer.update({
            "authMode": "explicit",
            "PIN": {"presence": "true", "format": "N", "label": "PIN",
                    "description": "Signature PIN"},
            "OTP": {"presence": "false"},
        })
        return answer

    def _check_pin(self, credential: CscCredential, pin: str):
        if not secrets.compare_digest(pin.encode(), credential.pin.encode()):
            raise CscError(400, "invalid_pin", "The PIN is invalid")

    def _grant(self, credential: CscCredential, bound: list[str]) -> dict:
        """A SAD for one signature of each of the ``bound`` hashes."""
        sad = secrets.token_urlsafe(24)
        with self._lock:
            self._sads[sad] = {"credential": credential.credential_id, "hashes": set(bound),
                               "left": len(bound),
                               "expiry": time.monotonic() + self.sad_lifetime}
        return {"SAD": sad, "expiresIn": self.sad_lifetime}

    def _authorize(self, headers, body):
        self._bearer(headers)
        credential = self._credential(body)
        bound = _bound_hashes(body, "hash")
        self._check_pin(credential, _string(body, "PIN"))
        return self._grant(credential, bound)

    def _sign_hash(self, headers, body):
        self._bearer(headers)
        credential = self._credential(body)
        if body.get("hashAlgo", SHA256) != SHA256:
            raise _invalid("Invalid parameter hashAlgo")
        return self._sign(credential, body, _hashes(body))

    def _sign(self, credential: CscCredential, body: dict, requested: list[str]) -> dict:
        """``signatures`` of the ``requested`` hashes, if the SAD allows them."""
        sad = _string(body, "SAD")
        algo = _string(body, "signAlgo")
        if algo != credential.sign_algo:
            raise _invalid("Invalid parameter signAlgo")
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

    # -- API v2 (2.0.0.2) --------------------------------------------------

    def _info_v2(self, headers, body):
        host, port = self._httpd.server_address[:2]
        return {
            "specs": "2.0.0.2",
            "name": "HSCM test signing service",
            "logo": "",
            "region": "VN",
            "lang": "en-US",
            "description": "Local CSC v2 service for tests",
            "authType": list(self.v2_auth_types),
            "oauth2": f"http://{host}:{port}/csc/v2",
            "methods": list(self._routes("v2")),
            "signAlgorithms": {"algos": sorted({c.sign_algo for c in self.credentials.values()})},
        }

    def _oauth2_token(self, headers, body):
        if "oauth2client" not in self.v2_auth_types:
            raise CscError(400, "unsupported_grant_type", "Only the configured grants are served")
        if body.get("grant_type") != "client_credentials":
            raise CscError(400, "unsupported_grant_type",
                           "The grant type is not supported by this service")
        client_id, secret = body.get("client_id"), body.get("client_secret")
        if not client_id or not secret:
            raise CscError(400, "invalid_request", "Missing client_id or client_secret")
        if not self._is_user(client_id, secret):
            raise CscError(401, "invalid_client", "Client authentication failed")
        return self._new_token()

    def _describe_v2(self, credential: CscCredential, body: dict) -> dict:
        answer = self._describe(credential, body)
        answer["auth"] = {"mode": "explicit"}
        if body.get("authInfo"):
            answer["auth"].update(expression="PIN", objects=[{
                "type": "Password", "id": "PIN", "format": "N", "label": "PIN",
                "description": "Signature PIN"}])
        return answer

    def _list_v2(self, headers, body):
        self._bearer(headers)
        if "userID" in body:  # the token is user-specific
            raise _invalid("userID must not be sent with a user-specific access token")
        answer = {"credentialIDs": list(self.credentials)}
        if body.get("credentialInfo"):
            answer["credentialInfos"] = [
                {"credentialID": cid, **self._describe_v2(credential, body)}
                for cid, credential in self.credentials.items()]
        return answer

    def _credential_info_v2(self, headers, body):
        self._bearer(headers)
        return self._describe_v2(self._credential(body), body)

    def _v2_hashes(self, headers, body, read_hashes) -> tuple[CscCredential, list[str]]:
        """The credential and the hashes (``read_hashes(body, "hashes")``)
        of a v2 ``credentials/authorize`` or ``signatures/signHash``."""
        self._bearer(headers)
        _v1_names_refused(body)
        credential = self._credential(body)
        hashes_b64 = read_hashes(body, "hashes")
        if _string(body, "hashAlgorithmOID") != SHA256:
            raise _invalid("Invalid parameter hashAlgorithmOID")
        return credential, hashes_b64

    def _authorize_v2(self, headers, body):
        credential, bound = self._v2_hashes(headers, body, _bound_hashes)
        auth_data = body.get("authData")
        if not isinstance(auth_data, list) or not all(
                isinstance(a, dict) and isinstance(a.get("id"), str)
                and isinstance(a.get("value"), str) for a in auth_data):
            raise _invalid("Missing (or invalid type) array parameter authData")
        pins = [a["value"] for a in auth_data if a["id"] == "PIN"]
        if len(pins) != 1:
            raise _invalid("Invalid parameter authData: one PIN object is required")
        self._check_pin(credential, pins[0])
        return self._grant(credential, bound)

    def _sign_hash_v2(self, headers, body):
        credential, requested = self._v2_hashes(headers, body, _hashes)
        return self._sign(credential, body, requested)
