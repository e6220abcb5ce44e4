"""Ways to produce a PAdES approval signature, behind one interface.

Pure Python on top of pyHanko (no Odoo import). Every method ends in the
same output as :func:`pades.sign_pdf`: a PAdES signature (SHA-256, same
stamp, field name, page/box, optional timestamper) appended as an
incremental update, the input bytes an exact prefix of the output.

``Pkcs12Method(p12_bytes, passphrase)``
    a PKCS#12 archive (.p12/.pfx) and its passphrase. This is also the method
    for a certificate issued as PKCS#12 by the organisation's own CA and for
    the school seal certificate: for signing they are ordinary PKCS#12
    archives, only their certificates differ.
``Pkcs11Method(module_path, token_label, pin, key_label, cert_label=None)``
    a key that never leaves a PKCS#11 token or HSM (USB token, SoftHSM2).
``CscMethod(base_url, username=, password=, pin=, api_version=, ...)``
    a remote signing service speaking the Cloud Signature Consortium API v1
    (1.0.4.0) or v2 (2.0.0.2), chosen or detected from the service's ``info``.
``prepare_deferred(...)`` / ``finish_deferred(...)``
    the user's own device signs: the server prepares the document and the
    CMS signed attributes, the device signs them, the server checks the
    value and embeds it. The two halves may run in different processes.

Failures raise :class:`SigningError` (a :class:`pades.PadesError`) with a
``code`` from :attr:`SigningError.CODES` for the caller to translate, and an
English message. Passphrases and PINs never appear in a message or a log.
"""

import abc
import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from io import BytesIO

import aiohttp
from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers import ExternalSigner
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationManager,
    CSCCredentialInfo,
    CSCServiceSessionInfo,
    CSCSigner,
)
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import pades
from .pades import PadesError, StampText

DIGEST_ALGORITHM = "sha256"


class SigningError(PadesError):
    """A signature could not be made; ``code`` says why, for translation.

    ``detail`` carries the remote service's or token's own explanation when
    there is one (e.g. a CSC ``error_description``), untranslated.
    """

    CODES = frozenset({
        "wrong_secret",        # passphrase, PIN or password refused
        "token_unavailable",   # PKCS#11 module, token, key or session not usable
        "remote_unreachable",  # connection refused, DNS, server error (5xx)
        "remote_refused",      # the remote service answered 4xx
        "timeout",             # the remote service did not answer in time
        "bad_response",        # unreadable answer, or a signature that does not verify
        "bad_certificate",     # unreadable, expired, not-yet-valid or non-signing certificate
        "bad_state",           # a deferred signing state that is damaged or altered
    })

    def __init__(self, code: str, message: str, *, detail: str | None = None):
        if code not in self.CODES:
            raise ValueError(f"Unknown signing error code {code!r}")
        super().__init__(message)
        self.code = code
        self.detail = detail


# --------------------------------------------------------------------------
# Certificates and raw signatures
# --------------------------------------------------------------------------


def check_certificate(cert_der: bytes):
    """The ``cryptography`` certificate of ``cert_der`` if it may sign now.

    Refuses (``bad_certificate``) an unreadable certificate, one outside its
    validity period and one whose key usage excludes signatures.
    """
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError as e:
        raise SigningError("bad_certificate", "The signer certificate cannot be read") from e
    now = dt.datetime.now(dt.timezone.utc)
    if now < cert.not_valid_before_utc:
        raise SigningError("bad_certificate", "The signer certificate is not valid yet (from "
                           f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC)")
    if now > cert.not_valid_after_utc:
        raise SigningError("bad_certificate", "The signer certificate expired on "
                           f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return cert
    if not (usage.digital_signature or usage.content_commitment):
        raise SigningError("bad_certificate",
                           "The signer certificate is not allowed to make signatures")
    return cert


def _signature_key(cert):
    key = cert.public_key()
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise SigningError("bad_certificate",
                           "Only RSA and ECDSA certificates can sign on a device or remotely")
    return key


def _der_ecdsa(key: ec.EllipticCurvePublicKey, value: bytes) -> bytes:
    """``value`` as a DER ECDSA signature; raw ``r || s`` (WebCrypto, many
    token drivers) is converted."""
    try:
        r, s = decode_dss_signature(value)
        if encode_dss_signature(r, s) == value:
            return value
    except ValueError:
        pass
    size = (key.curve.key_size + 7) // 8
    if len(value) != 2 * size:
        return value  # neither form: verification will refuse it
    return encode_dss_signature(int.from_bytes(value[:size], "big"),
                                int.from_bytes(value[size:], "big"))


def verify_raw_signature(cert, data: bytes, value: bytes) -> bytes:
    """``value`` (DER for ECDSA) if it is a SHA-256 RSA PKCS#1 v1.5 or ECDSA
    signature of ``data`` by ``cert``'s key, else ``bad_response``."""
    key = _signature_key(cert)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, PKCS1v15(), hashes.SHA256())
        else:
            value = _der_ecdsa(key, value)
            key.verify(value, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SigningError("bad_response", "The signature value does not match the "
                           "signer certificate's public key") from None
    return value


def _der(cert) -> bytes:
    return cert.dump()


def _chain_without(own, registry) -> list[bytes]:
    """DER of the certificates in ``registry`` other than ``own``."""
    own_der = _der(own)
    return [der for der in (_der(c) for c in registry) if der != own_der]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text) -> bytes:
    return base64.b64decode(text, validate=True)


# --------------------------------------------------------------------------
# Interface
# --------------------------------------------------------------------------


class SigningMethod(abc.ABC):
    """One way to sign; all produce the output of :func:`pades.sign_pdf`."""

    @abc.abstractmethod
    def certificate(self) -> bytes:
        """DER of the signer certificate."""

    @abc.abstractmethod
    def chain(self) -> list[bytes]:
        """DER of the other certificates of the chain that are known."""

    @abc.abstractmethod
    def sign(self, pdf: bytes, *, field_name: str, stamp: StampText | None,
             page: int = -1, box=None, timestamper=None, prefix_sha256=None) -> bytes:
        """Sign ``pdf`` incrementally, as :func:`pades.sign_pdf` does (with
        its arguments)."""


# --------------------------------------------------------------------------
# PKCS#12
# --------------------------------------------------------------------------


class Pkcs12Method(SigningMethod):
    """A PKCS#12 archive; the key is parsed once and reused for every sign."""

    def __init__(self, p12_bytes: bytes, passphrase: bytes | str):
        if isinstance(passphrase, str):
            passphrase = passphrase.encode("utf-8")
        try:
            self._signer = pades.load_pkcs12_signer(p12_bytes, passphrase)
        except PadesError as e:
            # A ValueError underneath is cryptography refusing to decrypt.
            code = "wrong_secret" if isinstance(e.__cause__, ValueError) else "bad_certificate"
            raise SigningError(code, str(e)) from e

    @property
    def pades_signer(self) -> pades.CachedKeySigner:
        """The loaded key and certificates (for :mod:`signing_process`)."""
        return self._signer

    def certificate(self) -> bytes:
        return _der(self._signer.signing_cert)

    def chain(self) -> list[bytes]:
        return _chain_without(self._signer.signing_cert, self._signer.cert_registry)

    def sign(self, pdf, *, field_name, stamp, page=-1, box=None, timestamper=None, prefix_sha256=None):
        check_certificate(self.certificate())
        return pades.sign_pdf(pdf, self._signer, field_name=field_name, stamp=stamp,
                              page=page, box=box, timestamper=timestamper, prefix_sha256=prefix_sha256)


# --------------------------------------------------------------------------
# PKCS#11
# --------------------------------------------------------------------------

# python-pkcs11 is imported where used: only token users need it installed.

# Seconds to wait for another thread's session on the same token.
TOKEN_WAIT = 30.0

_token_locks: dict[tuple[str, str], threading.RLock] = {}
_token_locks_guard = threading.Lock()


def _token_lock(module_path: str, token_label: str) -> threading.RLock:
    """One lock per token in this process.

    PKCS#11 login state belongs to the process, not the session: a second
    login on a token fails with ``UserAlreadyLoggedIn``, and closing a
    session (python-pkcs11 logs out first) logs every other session out.
    Sessions are therefore serialised per token.
    """
    with _token_locks_guard:
        return _token_locks.setdefault((module_path, token_label), threading.RLock())


def _pkcs11_failure(e: Exception, token_label: str) -> SigningError:
    import pkcs11

    if isinstance(e, (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.PinInvalid)):
        return SigningError("wrong_secret", "The token refused the PIN")
    if isinstance(e, pkcs11.PinLocked):
        return SigningError("token_unavailable", "The token PIN is locked")
    if isinstance(e, pkcs11.UserAlreadyLoggedIn):
        return SigningError("token_unavailable",
                            "The token is already in use by another session of this server")
    return SigningError("token_unavailable", f"The token {token_label!r} is not usable",
                        detail=f"{type(e).__name__}: {e}")


class Pkcs11Method(SigningMethod):
    """A key on a PKCS#11 token.

    Each call opens a session, logs in, works and closes it; inside
    ``with method:`` one session serves every call. The certificate is read
    from the token under ``cert_label`` (default ``key_label``); every other
    certificate on the token is offered as chain. One instance per thread.
    """

    def __init__(self, module_path: str, token_label: str, pin: str, key_label: str,
                 cert_label: str | None = None):
        self.module_path = module_path
        self.token_label = token_label
        self._pin = pin
        self.key_label = key_label
        self.cert_label = cert_label or key_label
        self._lock = _token_lock(module_path, token_label)
        self._session = None
        self._signer = None

    def __repr__(self):  # no PIN
        return f"Pkcs11Method({self.module_path!r}, {self.token_label!r}, key={self.key_label!r})"

    def open(self):
        """Open and log in a session (held until :meth:`close`)."""
        import pkcs11
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

        if self._session is not None:
            return
        if not self._lock.acquire(timeout=TOKEN_WAIT):
            raise SigningError("token_unavailable", "The token stayed busy with another signature")
        try:
            self._session = open_pkcs11_session(
                self.module_path, token_criteria=TokenCriteria(label=self.token_label),
                user_pin=self._pin,
            )
            self._signer = PKCS11Signer(self._session, cert_label=self.cert_label,
                                        key_label=self.key_label, other_certs_to_pull=None)
            self._signer.signing_cert  # loads key and certificates now, errors included
        except pkcs11.PKCS11Error as e:
            self._release()
            raise _pkcs11_failure(e, self.token_label) from e
        except BaseException:
            self._release()
            raise

    def _release(self):
        try:
            if self._session is not None:
                self._session.close()
        finally:
            self._session = self._signer = None
            self._lock.release()

    def close(self):
        if self._session is not None:
            self._release()

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    @contextlib.contextmanager
    def _opened(self):
        if self._session is not None:
            yield self._signer
            return
        self.open()
        try:
            yield self._signer
        finally:
            self.close()

    def certificate(self) -> bytes:
        with self._opened() as signer:
            return _der(signer.signing_cert)

    def chain(self) -> list[bytes]:
        with self._opened() as signer:
            return _chain_without(signer.signing_cert, signer.cert_registry)

    def sign(self, pdf, *, field_name, stamp, page=-1, box=None, timestamper=None, prefix_sha256=None):
        import pkcs11

        with self._opened() as signer:
            check_certificate(_der(signer.signing_cert))
            try:
                return pades.sign_pdf(pdf, signer, field_name=field_name, stamp=stamp,
                                      page=page, box=box, timestamper=timestamper,
                                      prefix_sha256=prefix_sha256)
            except pkcs11.PKCS11Error as e:
                raise _pkcs11_failure(e, self.token_label) from e


# --------------------------------------------------------------------------
# Cloud Signature Consortium API (remote signing)
# --------------------------------------------------------------------------

# CSC error codes meaning "the PIN/OTP was wrong" (invalid_pin/invalid_otp in
# both versions; some v2 services answer invalid_authentication_data).
_CSC_SECRET_ERRORS = frozenset({"invalid_pin", "invalid_otp", "invalid_authentication_data"})
# OAuth 2.0 token errors (RFC 6749 §5.2) meaning "wrong client id or secret".
_OAUTH_SECRET_ERRORS = frozenset({"invalid_client", "invalid_grant", "unauthorized_client"})

CSC_API_VERSIONS = ("v1", "v2")
SHA256_OID = algos.DigestAlgorithmId(DIGEST_ALGORITHM).dotted


class _CscApi:
    """Calls to one CSC service (API ``version`` v1 or v2), each with its own
    timeout, every failure turned into a :class:`SigningError`."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, timeout: float,
                 version: str = "v1"):
        self.http = http
        self.base_url = base_url
        self.timeout = timeout
        self.version = version

    async def call(self, method: str, body: dict, *, token: str | None = None,
                   basic: tuple[str, str] | None = None) -> dict:
        """POST ``body`` as JSON to ``method`` with a bearer ``token`` or HTTP
        Basic ``(user, password)``; the JSON object answered."""
        if basic is not None:
            headers = {"Authorization": "Basic " + _b64(":".join(basic).encode("utf-8"))}
        else:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self._post(method, f"{self.base_url}/csc/{self.version}/{method}",
                                headers=headers, json=body)

    async def oauth2_token(self, url: str, client_id: str, client_secret: str) -> str:
        """An access token from the OAuth 2.0 token endpoint ``url``
        (client credentials grant, form-encoded as RFC 6749 §4.4 asks)."""
        answer = await self._post("oauth2/token", url, headers={}, data={
            "grant_type": "client_credentials", "client_id": client_id,
            "client_secret": client_secret})
        token = answer.get("access_token")
        token_type = answer.get("token_type", "Bearer")
        if not isinstance(token, str) or not token or str(token_type).lower() != "bearer":
            raise SigningError("bad_response", "The signing service sent no access token")
        return token

    async def _post(self, method: str, url: str, *, headers: dict, **payload) -> dict:
        try:
            async with self.http.post(url, headers=headers, **payload,
                                      timeout=aiohttp.ClientTimeout(total=self.timeout)) as resp:
                status = resp.status
                raw = await resp.read()
        except TimeoutError as e:  # before ClientError: aiohttp's timeouts are both
            raise SigningError("timeout", f"The signing service did not answer within "
                               f"{self.timeout:g} s ({method})") from e
        except aiohttp.ClientError as e:
            raise SigningError("remote_unreachable", "Cannot reach the signing service",
                               detail=f"{type(e).__name__}: {e}") from e
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if status >= 400:
            raise self._failure(method, status, data if isinstance(data, dict) else {})
        if not isinstance(data, dict):
            raise SigningError("bad_response", f"The signing service sent an unreadable "
                               f"answer ({method})")
        return data

    @staticmethod
    def _failure(method: str, status: int, data: dict) -> SigningError:
        error = data.get("error") if isinstance(data.get("error"), str) else None
        description = data.get("error_description")
        description = description if isinstance(description, str) else None
        if status >= 500:
            return SigningError("remote_unreachable",
                                f"The signing service failed (HTTP {status})", detail=description)
        if method == "auth/login" and (status == 401 or error == "authentication_error"):
            return SigningError("wrong_secret", "The signing service refused the user name "
                                "or password", detail=description)
        if method == "oauth2/token" and (status == 401 or error in _OAUTH_SECRET_ERRORS):
            return SigningError("wrong_secret", "The signing service refused the client id "
                                "or secret", detail=description)
        if method == "credentials/authorize" and error in _CSC_SECRET_ERRORS:
            return SigningError("wrong_secret", "The signing service refused the PIN",
                                detail=description)
        reason = description or error or f"HTTP {status}"
        return SigningError("remote_refused",
                            f"The signing service refused the request ({method}): {reason}",
                            detail=description)

    async def credential_info(self, session_info: CSCServiceSessionInfo,
                              listed: dict | None = None) -> CSCCredentialInfo:
        """The credential, from ``credentials/info`` or from its entry
        ``listed`` in a v2 ``credentials/list`` answer (``credentialInfos``)."""
        data = listed
        if data is None:
            body = {"credentialID": session_info.credential_id, "certificates": "chain",
                    "certInfo": False}
            if self.version == "v2":
                body["authInfo"] = True
            data = await self.call("credentials/info", body, token=session_info.oauth_token)
        try:
            certs = [asn1_x509.Certificate.load(_unb64(c))
                     for c in data["cert"]["certificates"]]
            for cert in certs:
                cert.native  # parse now: asn1crypto is lazy
            mechanisms = frozenset(algos.SignedDigestAlgorithmId(oid).native
                                   for oid in data["key"]["algo"])
            batch = int(data["multisign"])
            scal = int(data.get("SCAL", 1))
            status = data["key"].get("status", "enabled")
            # v1: authMode; v2: auth/mode (explicit when absent)
            auth = data.get("auth") or {}
            mode = auth.get("mode") if isinstance(auth, dict) else None
            mode = mode or data.get("authMode") or "explicit"
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as e:
            raise SigningError("bad_response", "The signing service sent unreadable "
                               "credential information") from e
        if not certs:
            raise SigningError("bad_response", "The signing service sent no certificate")
        if status != "enabled":
            raise SigningError("remote_refused", "The signing key is disabled at the service")
        if mode == "oauth2code":
            raise SigningError("remote_refused", "The signing service authorizes this "
                               "credential only in the holder's browser (oauth2code), which "
                               "server-side approval cannot do")
        return CSCCredentialInfo(
            signing_cert=certs[0], chain=certs[1:], supported_mechanisms=mechanisms,
            max_batch_size=batch, hash_pinning_required=scal == 2, response_data=data,
        )


def _pin_object_id(credential: CSCCredentialInfo) -> str:
    """The ``authData`` id under which a v2 service wants the PIN: the id of
    the credential's ``Password`` auth object (``PIN`` when not described)."""
    auth = credential.response_data.get("auth")
    objects = auth.get("objects") if isinstance(auth, dict) else None
    for obj in objects if isinstance(objects, list) else ():
        if isinstance(obj, dict) and obj.get("type") == "Password" \
                and isinstance(obj.get("id"), str):
            return obj["id"]
    return "PIN"


def _v2_request(body: dict) -> dict:
    """A v1 ``credentials/authorize`` or ``signatures/signHash`` body with
    the v2 names: ``hash`` → ``hashes``, ``hashAlgo`` → ``hashAlgorithmOID``
    (always sent; SHA-256 unless the body names another)."""
    body = dict(body)
    if "hash" in body:
        body["hashes"] = body.pop("hash")
    body["hashAlgorithmOID"] = body.pop("hashAlgo", SHA256_OID)
    return body


class _PinAuthorization(CSCAuthorizationManager):
    """``credentials/authorize`` with the PIN, the SAD bound to the hashes
    (v1: ``PIN``; v2: ``authData`` with the credential's PIN object id)."""

    def __init__(self, session_info, credential_info, api: _CscApi, pin: str):
        super().__init__(session_info, credential_info)
        self._api = api
        self._pin = pin

    async def authorize_signature(self, hash_b64s):
        if self._api.version == "v1":
            body = self.format_csc_auth_request(pin=self._pin, hash_b64s=hash_b64s)
        else:
            body = _v2_request(self.format_csc_auth_request(hash_b64s=hash_b64s))
            body["authData"] = [{"id": _pin_object_id(self.credential_info),
                                 "value": self._pin}]
        data = await self._api.call("credentials/authorize", body,
                                    token=self.csc_session_info.oauth_token)
        try:
            return self.parse_csc_auth_response(data)
        except PyhankoSigningError as e:
            raise SigningError("bad_response", "The signing service sent no usable SAD") from e


class _CscSigner(CSCSigner):
    """pyHanko's CSC signer, one ``signatures/signHash`` per signature.

    pyHanko's batch commit turns every failure into "No signing results
    available"; calling the service here keeps the service's own error, and
    the returned value is checked against the certificate before use.
    """

    def __init__(self, http, auth_manager: _PinAuthorization, api: _CscApi):
        super().__init__(http, auth_manager)
        self._api = api

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if dry_run:
            return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
        digest = hashlib.new(digest_algorithm, data).digest()
        request = await self.format_csc_signing_req(
            [_b64(digest)], digest_algorithm)
        if self._api.version == "v2":
            request = _v2_request(request)
        answer = await self._api.call("signatures/signHash", request,
                                      token=self.auth_manager.csc_session_info.oauth_token)
        try:
            (value,) = answer["signatures"]
            value = _unb64(value)
        except (KeyError, TypeError, ValueError, binascii.Error) as e:
            raise SigningError("bad_response", "The signing service sent no usable "
                               "signature") from e
        cert = x509.load_der_x509_certificate(_der(self.signing_cert))
        return verify_raw_signature(cert, data, value)


class CscMethod(SigningMethod):
    """A credential at a remote signing service speaking the Cloud Signature
    Consortium API.

    - v1 (1.0.4.0): ``auth/login`` with HTTP Basic, ``credentials/list``,
      ``credentials/info``, ``credentials/authorize`` with the ``PIN`` and the
      ``hash`` list (SCAL 2), ``signatures/signHash``.
    - v2 (2.0.0.2): ``info`` says how to log in (``authType``):
      ``oauth2client`` → ``oauth2/token`` with the client credentials grant
      (``username``/``password`` are the client id and secret), ``basic`` →
      ``auth/login``; ``credentials/list`` with ``credentialInfo`` returns the
      credential at once; ``credentials/authorize`` takes ``numSignatures``,
      ``hashes``, ``hashAlgorithmOID`` and the PIN in ``authData``;
      ``signatures/signHash`` takes ``hashes`` and ``hashAlgorithmOID``.
    - ``auto``: v2 when ``info`` under ``/csc/v2/`` answers with ``specs``
      2.x, else v1. :attr:`version_used` says which one was spoken.

    ``base_url`` is the part before ``/csc/v1/`` (a trailing ``/csc/v1`` or
    ``/csc/v2`` is ignored). ``credential_id`` defaults to the first one
    ``credentials/list`` gives. Every HTTP call is limited to ``timeout``
    seconds. Each :meth:`sign` runs its own event loop, so call it from
    ordinary (not async) code.
    """

    def __init__(self, base_url: str, *, username: str, password: str,
                 credential_id: str | None = None, pin: str, timeout: float = 10.0,
                 api_version: str = "v1"):
        if api_version not in (*CSC_API_VERSIONS, "auto"):
            raise ValueError(f"Unsupported CSC API version {api_version!r}")
        base_url = base_url.rstrip("/")
        for suffix in ("/csc/v1", "/csc/v2"):
            base_url = base_url.removesuffix(suffix)
        self.base_url = base_url
        self.username = username
        self._password = password
        self.credential_id = credential_id
        self._pin = pin
        self.timeout = timeout
        self.api_version = api_version
        self.version_used: str | None = None
        self._credential: CSCCredentialInfo | None = None

    def __repr__(self):  # no password, no PIN
        return (f"CscMethod({self.base_url!r}, username={self.username!r}, "
                f"api_version={self.api_version!r})")

    async def _v2_info(self, api: _CscApi) -> dict | None:
        """The v2 ``info`` answer; ``None`` in ``auto`` mode when the service
        does not speak v2."""
        try:
            info = await api.call("info", {})
        except SigningError as e:
            if self.api_version == "auto" and e.code == "remote_refused":
                return None  # no /csc/v2/ here (404 or similar)
            raise
        specs = info.get("specs")
        if isinstance(specs, str) and specs.startswith("2."):
            return info
        if self.api_version == "auto":
            return None
        raise SigningError("bad_response", "The signing service does not speak CSC API v2 "
                           f"(specs {specs!r})")

    async def _login(self, api: _CscApi, info: dict | None) -> str:
        """An access token: v1 ``auth/login``; v2 as ``info`` asks."""
        auth_types = info.get("authType") if info else ["basic"]
        auth_types = auth_types if isinstance(auth_types, list) else []
        if api.version == "v2" and "oauth2client" in auth_types:
            oauth2 = info.get("oauth2")
            oauth2 = oauth2 if isinstance(oauth2, str) and oauth2 \
                else f"{self.base_url}/csc/v2"
            return await api.oauth2_token(f"{oauth2.rstrip('/')}/oauth2/token",
                                          self.username, self._password)
        if "basic" not in auth_types:
            raise SigningError("remote_refused", "The signing service offers no supported way "
                               f"to log in (it offers {', '.join(map(str, auth_types))})")
        login = await api.call("auth/login", {"rememberMe": False},
                               basic=(self.username, self._password))
        token = login.get("access_token")
        if not isinstance(token, str) or not token:
            raise SigningError("bad_response", "The signing service sent no access token")
        return token

    async def _connect(self, http) -> tuple[_CscApi, CSCServiceSessionInfo, CSCCredentialInfo]:
        """Choose the version, log in and read the credential."""
        api = _CscApi(http, self.base_url, self.timeout,
                      "v1" if self.api_version == "v1" else "v2")
        info = await self._v2_info(api) if api.version == "v2" else None
        if info is None:
            api.version = "v1"
        self.version_used = api.version
        token = await self._login(api, info)
        credential_id, listed = self.credential_id, None
        if credential_id is None:
            body = {}
            if api.version == "v2":  # the credential's details in the same answer
                body = {"credentialInfo": True, "certificates": "chain", "certInfo": False,
                        "authInfo": True}
            answer = await api.call("credentials/list", body, token=token)
            ids = answer.get("credentialIDs")
            if not isinstance(ids, list) or not ids or not isinstance(ids[0], str):
                raise SigningError("remote_refused",
                                   "The signing service lists no credential for this user")
            credential_id = self.credential_id = ids[0]
            infos = answer.get("credentialInfos")
            listed = next((i for i in infos if isinstance(i, dict)
                           and i.get("credentialID") == credential_id), None) \
                if api.version == "v2" and isinstance(infos, list) else None
        session_info = CSCServiceSessionInfo(self.base_url, credential_id, oauth_token=token,
                                             api_ver=api.version)
        self._credential = await api.credential_info(session_info, listed)
        return api, session_info, self._credential

    def _credential_info(self) -> CSCCredentialInfo:
        if self._credential is None:
            async def fetch():
                async with aiohttp.ClientSession() as http:
                    await self._connect(http)
            asyncio.run(fetch())
        return self._credential

    def certificate(self) -> bytes:
        return _der(self._credential_info().signing_cert)

    def chain(self) -> list[bytes]:
        return [_der(c) for c in self._credential_info().chain]

    def sign(self, pdf, *, field_name, stamp, page=-1, box=None, timestamper=None, prefix_sha256=None):
        async def run():
            async with aiohttp.ClientSession() as http:
                api, session_info, credential = await self._connect(http)
                _signature_key(check_certificate(_der(credential.signing_cert)))
                signer = _CscSigner(http, _PinAuthorization(session_info, credential, api,
                                                            self._pin), api)
                return await pades.async_sign_pdf(pdf, signer, field_name=field_name,
                                                  stamp=stamp, page=page, box=box,
                                                  timestamper=timestamper, prefix_sha256=prefix_sha256)
        return pades.run_coroutine(run())


# --------------------------------------------------------------------------
# Deferred signing (the user's device signs)
# --------------------------------------------------------------------------

_STATE_FORMAT = "hscm-deferred-pades/1"


@dataclass(frozen=True)
class DeferredRequest:
    """What the device must sign, and the state :func:`finish_deferred` needs.

    ``to_sign`` is the DER of the CMS signed attributes: the device signs it
    with SHA-256 and RSA PKCS#1 v1.5 or ECDSA (DER or raw ``r || s``).
    ``digest`` is its SHA-256, for devices that sign a precomputed hash.
    Keep ``state`` on the server (it holds the prepared document).
    """

    to_sign: bytes
    state: bytes
    digest_algorithm: str = DIGEST_ALGORITHM

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.to_sign).digest()


def _load_chain(cert_der: bytes, chain_der) -> tuple:
    check_certificate(cert_der)
    try:
        cert = asn1_x509.Certificate.load(cert_der)
        chain = [asn1_x509.Certificate.load(der) for der in chain_der]
        for c in (cert, *chain):
            c.native  # parse now: asn1crypto is lazy
    except ValueError as e:
        raise SigningError("bad_certificate", "A certificate of the chain cannot be read") from e
    return cert, chain


def prepare_deferred(pdf: bytes, cert_der: bytes, chain_der, *, field_name: str,
                     stamp: StampText | None, page: int = -1, box=None,
                     bytes_reserved: int = 16384) -> DeferredRequest:
    """Prepare the signature of ``pdf`` by the holder of ``cert_der``.

    The field, stamp and placeholder are written now; ``bytes_reserved``
    (hex characters) must leave room for the CMS and a timestamp token
    added at finish time.
    """
    cert, chain = _load_chain(cert_der, chain_der)
    _signature_key(x509.load_der_x509_certificate(cert_der))
    signer = ExternalSigner(cert, SimpleCertificateStore.from_certs([cert, *chain]))

    async def run():
        writer, pdf_signer, text_params = pades.prepare_pdf_signer(
            pdf, signer, field_name=field_name, stamp=stamp, page=page, box=box)
        prepared, _, output = await pdf_signer.async_digest_doc_for_signing(
            writer, bytes_reserved=bytes_reserved, appearance_text_params=text_params)
        attrs = await signer.signed_attrs(prepared.document_digest, DIGEST_ALGORITHM,
                                          use_pades=True)
        output.seek(0)
        return prepared, attrs, output.read()

    prepared, attrs, document = pades.run_coroutine(run())
    pades.check_incremental(pdf, document)
    to_sign = attrs.dump()
    state = {
        "format": _STATE_FORMAT,
        "document": _b64(document),
        "document_digest": _b64(prepared.document_digest),
        "reserved_region_start": prepared.reserved_region_start,
        "reserved_region_end": prepared.reserved_region_end,
        "signed_attrs": _b64(to_sign),
        "certificate": _b64(cert_der),
        "chain": [_b64(der) for der in chain_der],
    }
    return DeferredRequest(to_sign=to_sign, state=json.dumps(state).encode("ascii"))


def _bad_state(reason: str) -> SigningError:
    return SigningError("bad_state", f"The prepared signature cannot be finished: {reason}")


def _load_state(request_state: bytes) -> dict:
    try:
        state = json.loads(request_state)
        if state.get("format") != _STATE_FORMAT:
            raise _bad_state("unknown format")
        return {
            "document": _unb64(state["document"]),
            "digest": _unb64(state["document_digest"]),
            "start": int(state["reserved_region_start"]),
            "end": int(state["reserved_region_end"]),
            "signed_attrs": _unb64(state["signed_attrs"]),
            "certificate": _unb64(state["certificate"]),
            "chain": [_unb64(c) for c in state["chain"]],
        }
    except SigningError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
        raise _bad_state("unreadable state") from e


def _check_state(st: dict, cert) -> cms.CMSAttributes:
    """The signed attributes, once the state is proven self-consistent."""
    document, start, end = st["document"], st["start"], st["end"]
    if not 0 < start < end <= len(document) \
            or document[start:end] != b"<" + b"0" * (end - start - 2) + b">":
        raise _bad_state("the signature placeholder is not where the state says")
    md = hashlib.sha256()
    md.update(memoryview(document)[:start])
    md.update(memoryview(document)[end:])
    if md.digest() != st["digest"]:
        raise _bad_state("the document differs from the one prepared")
    try:
        attrs = cms.CMSAttributes.load(st["signed_attrs"])
        values = {a["type"].native: a["values"][0] for a in attrs}
        message_digest = values["message_digest"].native
        cert_hash = values["signing_certificate_v2"]["certs"][0]["cert_hash"].native
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise _bad_state("unreadable signed attributes") from e
    if message_digest != st["digest"]:
        raise _bad_state("the signed attributes are for another document")
    if cert_hash != hashlib.sha256(_der(cert)).digest():
        raise _bad_state("the signed attributes are for another certificate")
    return attrs


def finish_deferred(request_state: bytes, signature_value: bytes, timestamper=None) -> bytes:
    """Embed the device's ``signature_value`` into the prepared document.

    The state must be intact (placeholder, document digest, signed
    attributes and certificate agree: else ``bad_state``) and the value must
    verify with the certificate's key over the signed attributes (else
    ``bad_response``). With ``timestamper`` the signature becomes PAdES B-T.
    """
    st = _load_state(request_state)
    cert, chain = _load_chain(st["certificate"], st["chain"])
    attrs = _check_state(st, cert)
    value = verify_raw_signature(x509.load_der_x509_certificate(st["certificate"]),
                                 st["signed_attrs"], signature_value)
    signer = ExternalSigner(cert, SimpleCertificateStore.from_certs([cert, *chain]),
                            signature_value=value)
    output = BytesIO(st["document"])
    prepared = PreparedByteRangeDigest(st["digest"], st["start"], st["end"])

    async def run():
        signed = await signer.async_sign_prescribed_attributes(
            DIGEST_ALGORITHM, signed_attrs=attrs, timestamper=timestamper)
        room = st["end"] - st["start"] - 2
        if 2 * len(signed.dump()) > room:
            raise PadesError(f"The signature needs {2 * len(signed.dump())} bytes but "
                             f"{room} were reserved: prepare again with more")
        await PdfTBSDocument.async_finish_signing(output, prepared, signed)

    asyncio.run(run())
    return output.getvalue()


__all__ = [
    "CscMethod",
    "DeferredRequest",
    "Pkcs11Method",
    "Pkcs12Method",
    "SigningError",
    "SigningMethod",
    "check_certificate",
    "finish_deferred",
    "prepare_deferred",
    "verify_raw_signature",
]

