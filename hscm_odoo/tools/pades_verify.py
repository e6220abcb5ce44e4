"""Strict verification of a signed lesson plan, bytes in, report out.

Pure Python on top of pyHanko (no Odoo import). :func:`verify_pdf` answers
one question for the product: is this exactly the file our approval chain
produced, signed by the people we recorded, each with a certificate that was
valid when they signed (Decree 23/2025)? It never raises: any failure,
including unreadable input, is an ``'invalid'`` verdict with a reason.

Signatures are numbered from 1 in document order, so stored version ``i``
(the file right after signature ``i``; version 0 is the unsigned original)
pairs with signature ``i``. A document timestamp (PAdES B-LTA) is not an
approval: it is listed like a signature and makes the file invalid.

Without the product's records (``versions``/``file_sha256``), e.g. for a
file handed in from outside, the verdict rests on the file alone, so every
byte of it must be accounted for: the last signature must cover the whole
file, and the one part of a signed PDF no signature covers, the last
signature's ``/Contents`` hole, must hold exactly the hex-encoded CMS
signature and zero padding, in well-formed DER, with the CMS fields that its
signature does not protect (versions, algorithm lists, certificates,
signer identifier) consistent and every carried certificate verifiable.
Difference analysis (pyHanko's, never skipped) judges each revision added
after a signature; a replaced document catalog (a "shadow" document) and a
signature field emptied after signing are reported by name.

Validation moment of signature ``i``: the time of its RFC 3161 signature
timestamp when the token validates (B-T), else ``expected[i].signed_at``
(the decision time the product recorded), else now. The TSA's certificate is
checked at the timestamp's own time. With revocation checking, current
CRL/OCSP data is applied to that past moment: a certificate revoked after
the signature still counts as valid at signing time.

Thread-safe and reentrant: no shared mutable state, every call builds its
own validation contexts and fetchers; each network fetch is bounded by
``timeout``. Meant to run off the request thread; pyHanko's difference
analysis (never skipped) takes seconds on object-heavy PDFs.

Importing this module replaces pyHanko's PDF hex-string reader by an
equivalent one that works on whole slices instead of byte by byte (see
:func:`_read_hex_string`): reading a signature's ``/Contents`` was most of
the time of a verification (and of reading any signed PDF). It also
memoises asn1crypto's name string preparation (a pure function). Both are
process-wide and change no result.
"""

import asyncio
import binascii
import dataclasses
import functools
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from io import BytesIO

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.generic_cms import extract_certs_for_validation, extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import RevokedError
from pyhanko_certvalidator.fetchers.api import FetchLimits
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.policy_decl import (
    NO_REVOCATION,
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
)

from .org_ca import is_internal

# pyHanko logs every failed check as a WARNING with a traceback; the report
# carries the reason, so only pyHanko's errors reach the server log.
for _name in ("pyhanko.sign.validation", "pyhanko.sign.diff_analysis", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.ERROR)

REVOCATION_MODES = ("off", "soft", "hard")

# What may legitimately follow a signature: nothing, LTV data, or filling in
# (i.e. signing) signature fields. Anything else (annotations, page content,
# other form fields) after an approval invalidates it.
ALLOWED_AFTER_SIGNING = frozenset({
    ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING,
})

# One verification never needs more: a few OCSP/CRL requests per certificate.
_FETCH_LIMITS = FetchLimits(max_requests=40, max_cert_requests=10)


# --------------------------------------------------------------------------
# Faster hex strings for pyHanko's parser
# --------------------------------------------------------------------------

_pyhanko_read_hex_string = getattr(generic.read_hex_string_from_stream, "__wrapped__",
                                   generic.read_hex_string_from_stream)
_PDF_WHITESPACE = bytes(misc.PDF_WHITESPACE)
_HEX_DIGITS = bytes(generic.HEX_DIGITS)


def _read_hex_string(stream):
    """pyHanko's ``read_hex_string_from_stream``, on slices instead of bytes.

    pyHanko reads a hex string one byte (and two Python calls) at a time: a
    signature's ``/Contents`` (9 to 60 KB of hex) took 10 to 50 ms, most of
    a whole verification. Same result and same stream position afterwards;
    anything unusual (a comment, a non-hex byte, the end of the stream) is
    handed back to pyHanko's own reader, so errors stay pyHanko's.
    """
    start = stream.tell()
    stream.read(1)  # '<'
    parts = []
    size = 512
    while True:
        chunk = stream.read(size)
        if not chunk:
            stream.seek(start)
            return _pyhanko_read_hex_string(stream)
        end = chunk.find(b">")
        if end >= 0:
            parts.append(chunk[:end])
            stream.seek(end + 1 - len(chunk), os.SEEK_CUR)
            break
        parts.append(chunk)
        size = min(size * 4, 1 << 20)
    body = b"".join(parts)
    digits = body.translate(None, _PDF_WHITESPACE)
    if b"%" in body or digits.translate(None, _HEX_DIGITS):
        stream.seek(start)
        return _pyhanko_read_hex_string(stream)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


_read_hex_string.__wrapped__ = _pyhanko_read_hex_string
generic.read_hex_string_from_stream = _read_hex_string

# asn1crypto compares names (issuer/serial matching, path building) after
# RFC 4518 string preparation, recomputed for every freshly parsed name: a
# quarter of a verification. The preparation is a pure function of the
# string: remember it. Same results, same exceptions (not cached).
_asn1_ldap_prep = getattr(asn1_x509.NameTypeAndValue._ldap_string_prep, "__wrapped__",
                          asn1_x509.NameTypeAndValue._ldap_string_prep)


@functools.lru_cache(maxsize=8192)
def _ldap_prep_cached(string: str) -> str:
    return _asn1_ldap_prep(None, string)  # never uses self


def _ldap_string_prep(self, string):
    if isinstance(string, str):
        return _ldap_prep_cached(string)
    return _asn1_ldap_prep(self, string)


_ldap_string_prep.__wrapped__ = _asn1_ldap_prep
asn1_x509.NameTypeAndValue._ldap_string_prep = _ldap_string_prep


@dataclass(frozen=True)
class ExpectedSignature:
    """What the product recorded for one approval step.

    ``signer_sha256``: SHA-256 (hex) of the approver's certificate DER.
    ``signed_at``: when the decision was recorded (naive means UTC, as Odoo
    stores datetimes); the validation moment of a signature without a
    timestamp.
    """

    signer_sha256: str | None = None
    signed_at: datetime | None = None


@dataclass
class Report:
    """The verdict, its reasons and one dict per embedded signature.

    Signature dict keys: ``index`` (1-based), ``field_name``, ``signer``
    (CN), ``signer_sha256``, ``internal`` (organisation-CA certificate, see
    :mod:`org_ca`; None if unknown), ``signing_time`` (ISO; the timestamp's
    for B-T, else self-reported), ``timestamped``, ``validated_at`` (ISO
    moment the certificate was checked at), ``intact``, ``expected_signer``
    (False for a signature beyond the recorded approvals), ``trusted``,
    ``valid_at_signing_time``, ``revocation`` ('good', 'revoked', 'unknown',
    'not_checked'), ``modification_level`` (pyHanko ``ModificationLevel``
    name), ``signed_revision_end``, ``covers_whole_file``, ``error`` and
    ``problems`` (this signature's reasons).
    """

    verdict: str
    reasons: list[str]
    signatures: list[dict] = field(default_factory=list)
    file_sha256: str | None = None
    revocation: str = "off"

    @property
    def valid(self) -> bool:
        return self.verdict == "valid"

    def as_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "signatures": [dict(s, problems=list(s["problems"])) for s in self.signatures],
            "file_sha256": self.file_sha256,
            "revocation": self.revocation,
        }


def verify_pdf(pdf: bytes, *, versions: list[tuple[int, str]] | None = None,
               file_sha256: str | None = None, expected: list[ExpectedSignature],
               trust_roots: list[bytes], other_certs: list[bytes] = (),
               crls: list[bytes] = (), revocation: str = "off",
               timeout: float = 10.0) -> Report:
    """Verify ``pdf`` strictly; see the module docstring.

    ``versions``: ``(length, sha256 hex)`` of the stored versions 0..n.
    ``trust_roots``, ``other_certs``: DER (or PEM) certificates; ``crls``:
    DER CRLs handed to the validator (e.g. the organisation CA's).
    ``revocation``: 'off' (not checked, no network), 'soft' (checked with
    the given CRLs and OCSP/CRL fetching; unknown status tolerated) or
    'hard' (every certificate must be proven not revoked).
    """
    reasons: list[str] = []
    signatures: list[dict] = []
    actual_sha256 = None
    try:
        pdf = bytes(pdf)
        if versions is not None:
            versions = [(int(length), str(sha).lower()) for length, sha in versions]
        hashes = _Hashes(pdf, [length for length, _ in versions or ()])
        expected = list(expected)
    except Exception as e:  # noqa: BLE001 - a verdict, never a crash
        return _report([f"verification failed: {type(e).__name__}: {e}"], [], actual_sha256,
                       revocation)
    found, doc_reasons = None, []
    try:
        if revocation not in REVOCATION_MODES:
            raise ValueError(f"revocation must be one of {REVOCATION_MODES}, not {revocation!r}")
        roots = [_der(c) for c in trust_roots]
        others = [_der(c) for c in other_certs]
        known = _KnownCerts(roots + others)  # parses strictly: damaged ones fail here
        ctx = _Context(
            roots=[_load_cert(c) for c in roots],
            others=[_load_cert(c) for c in others],
            crls=[asn1_crl.CertificateList.load(_der(c)) for c in crls],
            mode=revocation,
            fetchers=(RequestsFetcherBackend(per_request_timeout=timeout, limits=_FETCH_LIMITS)
                      .get_fetchers() if revocation != "off" else None),
            known=known,
        )
        found, doc_reasons = _run(_check_document(pdf, expected, ctx, hashes))
        signatures = found
    except Exception as e:  # noqa: BLE001 - a verdict, never a crash
        reasons.append(f"verification failed: {type(e).__name__}: {e}")
    try:
        # The records are checked even when the file cannot be read.
        actual_sha256, prefixes = hashes.of_file()
        reasons += _file_reasons(pdf, actual_sha256, prefixes, file_sha256, versions, expected,
                                 found)
    except Exception as e:  # noqa: BLE001 - e.g. a malformed stored hash
        reasons.append(f"verification failed: {type(e).__name__}: {e}")
    reasons += doc_reasons
    for sig in signatures:
        reasons += [f"signature {sig['index']}: {p}" for p in sig["problems"]]
    return _report(reasons, signatures, actual_sha256, revocation)


def _report(reasons, signatures, file_sha256, revocation) -> Report:
    return Report(
        verdict="invalid" if reasons else "valid",
        reasons=reasons,
        signatures=signatures,
        file_sha256=file_sha256,
        revocation=revocation,
    )


# --------------------------------------------------------------------------
# Whole-file checks
# --------------------------------------------------------------------------


class _Hashes:
    """SHA-256 of the file, of its prefixes of the given ``lengths`` (the
    stored versions) and of signatures' byte ranges, in one pass over the
    file, made the first time any is asked for.

    A byte range ``[0, a) + [b, b + c)`` is the file's digest state at ``a``
    continued with the (small) update after the signature's contents: a
    signed revision no longer costs a pass of its own (pyHanko's), 3.3 ms per
    signature at 5 MB.
    """

    def __init__(self, pdf: bytes, lengths):
        self.pdf, self.lengths = pdf, lengths
        self.file = self.prefixes = None
        self.ranges: dict[tuple, bytes] = {}

    def of_file(self) -> tuple[str, dict[int, str]]:
        if self.file is None:
            self.with_ranges(())
        return self.file, self.prefixes

    def with_ranges(self, byte_ranges) -> dict[tuple, bytes]:
        """``{byte range: digest}`` of the well-formed ``byte_ranges``
        (4 integers, from 0, in order, inside the file); the pass happens
        here, once (a later call gets the first call's digests: verify_pdf
        asks once, before anything else)."""
        if self.file is not None:
            return self.ranges
        view, size = memoryview(self.pdf), len(self.pdf)
        wanted = {tuple(r) for r in byte_ranges
                  if len(r) == 4 and r[0] == 0 and 0 <= r[1] <= r[2] and r[3] >= 0 and r[2] + r[3] <= size}
        stops = sorted({(n, "prefix") for n in self.lengths if 0 <= n <= size}
                       | {(r[1], "range") for r in wanted})
        digest = hashlib.sha256()
        states, prefixes, done = {}, {}, 0
        for offset, kind in stops:
            digest.update(view[done:offset])
            done = offset
            if kind == "prefix":
                prefixes[offset] = digest.copy().hexdigest()
            else:
                states[offset] = digest.copy()
        digest.update(view[done:])
        for r in wanted:
            state = states[r[1]].copy()
            state.update(view[r[2]:r[2] + r[3]])
            self.ranges[r] = state.digest()
        self.file, self.prefixes = digest.hexdigest(), prefixes
        return self.ranges


def _file_reasons(pdf, actual_sha256, prefixes, file_sha256, versions, expected,
                  signatures) -> list[str]:
    """Reasons from the file as a whole and from the records; ``signatures``
    is None when the file could not be read."""
    reasons = []
    if signatures is not None and len(signatures) != len(expected):
        reasons.append(f"expected {len(expected)} signature(s), found {len(signatures)}")
    if signatures and not signatures[-1]["covers_whole_file"]:
        reasons.append(f"signature {signatures[-1]['index']} (the last) does not cover the "
                       "whole file: bytes were added after it")
    signatures = signatures or []
    if file_sha256 is not None and file_sha256.lower() != actual_sha256:
        reasons.append("the file's SHA-256 does not match the stored hash")
    if versions is None:
        return reasons

    if len(versions) != len(expected) + 1:
        reasons.append(f"expected {len(expected) + 1} stored versions (original + one per "
                       f"signature), got {len(versions)}")
    previous = -1
    for i, (length, sha) in enumerate(versions):
        if length <= previous:
            reasons.append(f"stored version {i} is not longer than version {i - 1}")
        elif prefixes.get(length) != sha:
            reasons.append(f"stored version {i} is not a prefix of the file "
                           f"(length {length} or hash differs)")
        previous = length
    if versions and versions[-1][0] != len(pdf):
        reasons.append(f"the file has {len(pdf)} bytes, the last stored version "
                       f"{versions[-1][0]}")
    for sig in signatures:
        i = sig["index"]
        if i < len(versions) and sig["signed_revision_end"] != versions[i][0]:
            reasons.append(f"signature {i}: signed revision ends at byte "
                           f"{sig['signed_revision_end']}, stored version {i} has "
                           f"{versions[i][0]} bytes")
    return reasons


# --------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------


class _KnownCerts:
    """Certificates that may issue a certificate carried in a signature.

    Holds the trust roots and other certificates given by the caller, plus
    whatever a signature carries; remembers each certificate's verdict.
    Used by one :func:`verify_pdf` call only.
    """

    def __init__(self, ders=()):
        self._by_subject: dict[bytes, list] = {}
        self._seen: set[bytes] = set()
        self._verdicts: dict[bytes, tuple[str, str] | None] = {}
        for der in ders:
            self.add(der)

    def add(self, der: bytes):
        """Parse ``der`` strictly and index it; returns the certificate."""
        cert = pyca_x509.load_der_x509_certificate(der)
        if der not in self._seen:
            self._seen.add(der)
            self._by_subject.setdefault(cert.subject.public_bytes(), []).append(cert)
        return cert

    def check(self, der: bytes) -> tuple[str, str] | None:
        """None when ``der`` parses and is signed by a known certificate.

        Else ``('unknown', detail)`` (no certificate named as its issuer is
        known) or ``('bad', detail)`` (unreadable, or its signature does not
        verify with its issuer's key).
        """
        if der in self._verdicts:
            return self._verdicts[der]
        verdict = self._check(der)
        if verdict is None or verdict[0] != "unknown":  # its issuer may come later
            self._verdicts[der] = verdict
        return verdict

    def _check(self, der: bytes):
        try:
            cert = self.add(der)
        except Exception as e:  # noqa: BLE001 - a damaged certificate
            return "bad", f"an unreadable certificate ({type(e).__name__}: {e})"
        try:
            name = cert.subject.rfc4514_string()
        except Exception:  # noqa: BLE001
            name = "?"
        issuers = self._by_subject.get(cert.issuer.public_bytes(), [])
        for issuer in issuers:
            try:
                cert.verify_directly_issued_by(issuer)
                return None
            except Exception:  # noqa: BLE001 - wrong key, bad signature, odd algorithm
                continue
        if issuers:
            return "bad", f"a certificate whose signature does not verify ({name})"
        return "unknown", f"it carries a certificate whose issuer is unknown ({name})"

    def check_crl(self, der: bytes) -> tuple[str, str] | None:
        """None when the CRL is signed by a known certificate."""
        try:
            crl = pyca_x509.load_der_x509_crl(der)
        except Exception as e:  # noqa: BLE001 - a damaged CRL
            return "bad", f"an unreadable CRL ({type(e).__name__})"
        for issuer in self._by_subject.get(crl.issuer.public_bytes(), []):
            try:
                if crl.is_signature_valid(issuer.public_key()):
                    return None
            except Exception:  # noqa: BLE001 - wrong key type
                continue
        return "bad", "a CRL whose signature does not verify"


@dataclass
class _Context:
    roots: list
    others: list
    crls: list
    mode: str
    fetchers: object
    known: _KnownCerts

    def validation_context(self, moment: datetime, *, check_revocation: bool,
                           extra_certs=()) -> ValidationContext:
        policy = REQUIRE_REVINFO if check_revocation else NO_REVOCATION
        return ValidationContext(
            trust_roots=self.roots,
            other_certs=[*self.others, *extra_certs],
            moment=moment,
            allow_fetching=self.fetchers is not None,
            fetchers=self.fetchers,
            crls=self.crls if check_revocation else None,
            # Revocation data newer than the moment still tells whether the
            # certificate was revoked *before* it: that is what matters.
            revinfo_policy=CertRevTrustPolicy(policy, retroactive_revinfo=True),
        )


def _run(coro):
    """Run ``coro`` to completion, also from a thread with a running loop."""
    try:
        asyncio.get_running_loop()
        in_loop = True
    except RuntimeError:
        in_loop = False
    if not in_loop:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --------------------------------------------------------------------------
# The document: its signatures, removed signatures, replaced catalog
# --------------------------------------------------------------------------


async def _check_document(pdf: bytes, expected, ctx: _Context, hashes: _Hashes) -> tuple[list[dict], list[str]]:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    found = []
    for fq_name, _, sig_field in enumerate_sig_fields(reader, filled_status=True):
        try:
            emb = EmbeddedPdfSignature(reader, sig_field, fq_name)
            found.append((emb.signed_revision, fq_name, emb, None))
        except Exception as e:  # noqa: BLE001 - reported on the signature
            found.append((float("inf"), fq_name, None, e))
    found.sort(key=lambda item: item[0])
    # every signature's /ByteRange digest from the one pass over the file (pyHanko takes it from
    # external_digests, its own cache, instead of hashing the range again)
    ranges = []
    for _, _, emb, _ in found:
        try:
            if emb is not None and emb.external_md_algorithm == "sha256":
                ranges.append((emb, _byte_range(emb)))
        except Exception:  # noqa: BLE001 - pyHanko reports a malformed signature itself
            pass
    digests = hashes.with_ranges([byte_range for _, byte_range in ranges])
    for emb, byte_range in ranges:
        if byte_range in digests:
            emb.external_digests["sha256"] = digests[byte_range]
    now = datetime.now(timezone.utc)
    try:
        final_root = _ref_key(reader.root_ref)
    except Exception:  # noqa: BLE001 - then pyHanko fails on its own
        final_root = None
    results = []
    for index, (_, name, emb, error) in enumerate(found, start=1):
        exp = expected[index - 1] if index <= len(expected) else None
        later_fields = {n for _, n, _, _ in found[index:]}
        results.append(await _check_signature(index, name, emb, error, exp, later_fields,
                                              ctx, now, pdf, final_root))
    return results, _removed_signatures(reader, {name for _, name, _, _ in found})


def _byte_range(emb) -> tuple[int, ...]:
    """The signature's /ByteRange as integers; ``ValueError`` for anything
    else (a real number would be cut to an integer here, while pyHanko
    refuses it)."""
    values = tuple(emb.byte_range)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"the /ByteRange is not made of integers: {values}")
    return values


def _ref_key(ref) -> tuple[int, int]:
    return int(ref.idnum), int(ref.generation)


def _removed_signatures(reader, present: set) -> list[str]:
    """Signature fields signed in an earlier revision, unsigned or gone now."""
    removed: dict[str, None] = {}
    for revision in range(reader.xrefs.total_revisions - 1):
        try:
            earlier = reader.get_historical_resolver(revision)
            for name, _, _ in enumerate_sig_fields(earlier, filled_status=True):
                if name not in present:
                    removed[name] = None
        except Exception:  # noqa: BLE001 - an unreadable revision: pyHanko reports it
            continue
    return [f"the signature in field {name} was removed after signing" for name in removed]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _der(data: bytes) -> bytes:
    data = bytes(data)
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return data


def _load_cert(der: bytes) -> asn1_x509.Certificate:
    # A damaged certificate already failed in _KnownCerts (strict parse).
    return asn1_x509.Certificate.load(der)


def _common_name(cert) -> str:
    return cert.subject.native.get("common_name", "") or ""


def _is_internal(cert) -> bool | None:
    try:
        return is_internal(cert.dump())
    except ValueError:
        return None


def _new_item(index: int, name: str, mode: str) -> dict:
    return {
        "index": index, "field_name": name, "signer": "", "signer_sha256": None,
        "internal": None, "signing_time": None, "timestamped": False, "validated_at": None,
        "intact": False, "expected_signer": None, "trusted": False,
        "valid_at_signing_time": False,
        "revocation": "not_checked" if mode == "off" else "unknown",
        "modification_level": None, "signed_revision_end": None, "covers_whole_file": False,
        "error": None, "problems": [],
    }


# --------------------------------------------------------------------------
# One signature
# --------------------------------------------------------------------------


async def _check_signature(index, name, emb, error, exp, later_fields, ctx, now, pdf,
                           final_root) -> dict:
    item = _new_item(index, name, ctx.mode)
    problems = item["problems"]
    unknown_issuers: list[str] = []
    try:
        if error is not None:
            raise error
        if emb.sig_object_type != "/Sig":
            raise ValueError("a document timestamp, not an approval signature")
        cert = emb.signer_cert
        item.update(
            signer=_common_name(cert),
            signer_sha256=hashlib.sha256(cert.dump()).hexdigest(),
            internal=_is_internal(cert),
            signing_time=_iso(emb.self_reported_timestamp),
        )
        byte_range = list(_byte_range(emb))
        if len(byte_range) == 4:
            item["signed_revision_end"] = byte_range[2] + byte_range[3]
        if exp is None:
            item["expected_signer"] = False  # beyond the recorded approvals
        elif exp.signer_sha256:
            wanted = exp.signer_sha256.replace(":", "").lower()
            item["expected_signer"] = wanted == item["signer_sha256"]
            if not item["expected_signer"]:
                problems.append("signed with a different certificate than the approver's")
        status, moment = await _validate(emb, exp, ctx, item, now)
        container = _container_problems(pdf, emb, byte_range, ctx.known, _path_ders(status))
        problems += [p for kind, p in container if kind == "bad"]
        unknown_issuers = [p for kind, p in container if kind == "unknown"]
        item["validated_at"] = _iso(moment)
        item["intact"] = bool(status.intact and status.valid)
        item["covers_whole_file"] = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        level = status.modification_level
        item["modification_level"] = level.name if level is not None else None
        if not item["intact"]:
            problems.append("the signed bytes were altered or the signature does not verify")
            return item
        _check_modifications(status, later_fields, item)
        _check_catalog(emb, final_root, item)
        await _check_certificate(emb, status, moment, ctx, item)
    except Exception as e:  # noqa: BLE001 - a broken signature is a verdict
        item["error"] = f"{type(e).__name__}: {e}"
        problems.append(f"cannot be verified: {item['error']}")
    if not problems:
        # Only now: with a problem already, an unverifiable certificate (e.g.
        # of an untrusted TSA, or a chain given elsewhere) adds nothing.
        problems += unknown_issuers
    return item


async def _validate(emb, exp, ctx: _Context, item: dict, now: datetime):
    """pyHanko's validation (difference analysis included) at the right moment.

    With a signature timestamp, signer and TSA are validated at the token's
    time in one pass; if the token does not hold (untrusted TSA, revoked TSA
    in revocation mode, ...), the signer's certificate is validated again at
    the fallback moment, keeping the first pass's integrity and difference
    analysis. Returns ``(status, moment)``.
    """
    fallback = _aware(exp.signed_at) if exp is not None and exp.signed_at else now
    token = next(iter(extract_tst_data_iter(emb.signer_info, signed=False)), None)
    gen_time = (token["encap_content_info"]["content"].parsed["gen_time"].native
                if token is not None else None)
    moment = gen_time or fallback
    status = await _pyhanko_validate(emb, ctx, moment)
    if token is None:
        return status, moment

    validity = status.timestamp_validity
    if validity is None or not validity.trusted:
        indication = getattr(getattr(validity, "trust_problem_indic", None), "name", None)
        item["problems"].append(
            "its timestamp does not validate or its TSA is not trusted"
            + (f" ({indication})" if indication else "")
        )
        return await _revalidate(emb, ctx, status, fallback), fallback
    if validity.timestamp != gen_time:
        # pyHanko settled on another of several tokens: validate at its time.
        gen_time = validity.timestamp
        status = await _revalidate(emb, ctx, status, gen_time)
    if ctx.mode != "off":
        tsa = extract_certs_for_validation(token)
        state, detail = await _revocation_status(tsa.signer_cert, tsa.other_certs, gen_time,
                                                 ctx)
        if state == "revoked" or (state == "unknown" and ctx.mode == "hard"):
            item["problems"].append(f"the TSA certificate's revocation status is {state}: "
                                    f"{detail}")
            return await _revalidate(emb, ctx, status, fallback), fallback
    item["timestamped"] = True
    item["signing_time"] = _iso(gen_time)
    return status, gen_time


async def _pyhanko_validate(emb, ctx: _Context, moment: datetime, skip_diff: bool = False):
    vc = ctx.validation_context(moment, check_revocation=False)
    return await async_validate_pdf_signature(
        emb,
        signer_validation_context=vc,
        ts_validation_context=vc,
        diff_policy=DEFAULT_DIFF_POLICY,
        skip_diff=skip_diff,
    )


async def _revalidate(emb, ctx: _Context, first, moment: datetime):
    """The signer validated at ``moment``; integrity and differences from ``first``.

    The difference analysis already ran in ``first`` (on the same
    signature): it is not repeated, and its outcome is the one reported.
    """
    again = await _pyhanko_validate(emb, ctx, moment, skip_diff=True)
    return dataclasses.replace(again, **{
        name: getattr(first, name)
        for name in ("intact", "valid", "coverage", "docmdp_ok", "diff_result")
    })


def _path_ders(status) -> set[bytes]:
    """Certificates whose signatures path validation verified (signer, TSA)."""
    ders = set()
    for path in (status.validation_path,
                 getattr(status.timestamp_validity, "validation_path", None)):
        if path is not None:
            ders.update(cert.dump() for cert in path.iter_certs(include_root=True))
    return ders


def _check_modifications(status, later_fields: set, item: dict) -> None:
    """Only later signatures (or LTV data) may follow a signed revision."""
    level = status.modification_level
    diff = status.diff_result
    if level not in ALLOWED_AFTER_SIGNING or not status.docmdp_ok:
        name = level.name if level is not None else "unknown"
        item["problems"].append(f"the document was modified after signing ({name})")
        return
    if isinstance(diff, DiffResult):
        others = sorted(set(diff.changed_form_fields) - later_fields)
        if others:
            item["problems"].append("form fields changed after signing: " + ", ".join(others))


def _check_catalog(emb, final_root, item: dict) -> None:
    """The file must still show the document catalog that was signed.

    A later revision whose trailer names another ``/Root`` makes readers show
    a different ("shadow") document. pyHanko's difference analysis compares
    the two catalogs' contents; this names the attack.
    """
    if final_root is None:
        return
    signed_root = _ref_key(emb.reader.get_historical_resolver(emb.signed_revision).root_ref)
    if signed_root != final_root:
        item["problems"].append(
            f"the document catalog was replaced after signing (/Root {signed_root[0]} "
            f"became {final_root[0]}): readers show another document than the one signed")


async def _check_certificate(emb, status, moment: datetime, ctx: _Context, item: dict) -> None:
    problems = item["problems"]
    cert = emb.signer_cert
    indication = status.trust_problem_indic
    item["trusted"] = status.validation_path is not None
    if not item["trusted"]:
        name = indication.name if indication is not None else "no path"
        if indication is AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
            # pyHanko reports a missing signing key usage the same way.
            problems.append(f"the certificate is not trusted or not meant for signing ({name})")
        else:
            problems.append(f"the certificate does not chain to a trusted root ({name})")
        return
    if indication is not None:
        validity = cert["tbs_certificate"]["validity"]
        not_before = validity["not_before"].native
        not_after = validity["not_after"].native
        if moment > not_after:
            problems.append(f"the certificate expired on {not_after.isoformat()}, before the "
                            f"signing time {moment.isoformat()}")
        elif moment < not_before:
            problems.append(f"the certificate was not yet valid at the signing time "
                            f"{moment.isoformat()}")
        else:
            problems.append(f"the certificate was not valid at the signing time "
                            f"({indication.name})")
        return
    if ctx.mode != "off":
        state, detail = await _revocation_status(cert, emb.other_embedded_certs, moment, ctx)
        item["revocation"] = state
        if state == "revoked":
            problems.append(f"the certificate was revoked before signing: {detail}")
            return
        if state == "unknown" and ctx.mode == "hard":
            problems.append(f"the certificate's revocation status is unknown: {detail}")
            return
    item["valid_at_signing_time"] = True


async def _revocation_status(cert, chain, moment: datetime, ctx: _Context):
    """('good' | 'revoked' | 'unknown', detail) for ``cert`` at ``moment``.

    Every certificate of the path needs revocation data (given CRLs, or
    fetched OCSP/CRL), whether or not it names a distribution point: the
    organisation CA's certificates name none and rely on the CRL passed in.
    """
    vc = ctx.validation_context(moment, check_revocation=True, extra_certs=chain)
    try:
        await CertificateValidator(cert, validation_context=vc).async_validate_path()
    except RevokedError as e:
        return "revoked", e.failure_msg
    except Exception as e:  # noqa: BLE001 - no path, no data, network: unknown
        return "unknown", getattr(e, "failure_msg", None) or f"{type(e).__name__}: {e}"
    return "good", None


# --------------------------------------------------------------------------
# The signature container: the bytes no signature covers
# --------------------------------------------------------------------------
#
# A signature's /Contents hole (between the two byte ranges) is outside what
# it signs, and the last signature's hole is outside what any signature
# signs. What the CMS signature itself protects (signed attributes,
# signature value) is checked by pyHanko; everything else in the hole must
# be exactly what a signer writes, or the file was altered after signing.


class _Malformed(ValueError):
    pass


_MAX_DER_DEPTH = 64

# Signature algorithms whose parameters must be absent or NULL.
_NULL_PARAMETER_ALGOS = frozenset({
    "rsassa_pkcs1v15", "md5_rsa", "sha1_rsa", "sha224_rsa", "sha256_rsa", "sha384_rsa",
    "sha512_rsa", "sha3_224_rsa", "sha3_256_rsa", "sha3_384_rsa", "sha3_512_rsa",
})
_NO_PARAMETER_ALGOS = frozenset({
    "ecdsa", "sha1_ecdsa", "sha224_ecdsa", "sha256_ecdsa", "sha384_ecdsa", "sha512_ecdsa",
    "sha3_224_ecdsa", "sha3_256_ecdsa", "sha3_384_ecdsa", "sha3_512_ecdsa",
    "ed25519", "ed448",
})
_ABSENT_OR_NULL = (b"", b"\x05\x00")


def _container_problems(pdf: bytes, emb, byte_range, known: _KnownCerts,
                        verified: set[bytes]) -> list[tuple[str, str]]:
    """``(kind, problem)`` pairs: kind 'bad' always counts, 'unknown' (a
    certificate whose issuer we do not know) only when nothing else is wrong.
    ``verified``: DER of certificates path validation already verified.
    """
    prefix = "the signature container was altered after signing: "
    contents = emb.pkcs7_content
    if (len(byte_range) != 4 or byte_range[0] != 0 or min(byte_range) < 0
            or byte_range[1] >= byte_range[2] or byte_range[2] + byte_range[3] > len(pdf)):
        return [("bad", f"malformed /ByteRange {byte_range}")]
    hole = pdf[byte_range[1]:byte_range[2]]
    hex_digits = binascii.hexlify(contents)
    if hole[1:-1] not in (hex_digits, hex_digits.upper()) or hole[:1] + hole[-1:] != b"<>":
        return [("bad", prefix + "/Contents is not exactly the hex string of the signature "
                 "(the bytes between the signed ranges changed)")]
    try:
        end = _der_walk(contents, 0, len(contents), 0)
    except _Malformed as e:
        return [("bad", prefix + f"the CMS signature is not well-formed DER ({e})")]
    if contents.count(0, end) != len(contents) - end:
        return [("bad", prefix + "the padding after the CMS signature is not all zeros")]
    try:
        return [(kind, p if kind == "unknown" else prefix + p)
                for kind, p in _cms_problems(emb, known, verified)]
    except Exception as e:  # noqa: BLE001 - unreadable structure
        return [("bad", prefix + f"the CMS signature cannot be read ({type(e).__name__}: {e})")]


def _der_walk(data: bytes, pos: int, end: int, depth: int) -> int:
    """Check the BER/DER element at ``data[pos:]`` (within ``end``); returns
    where it ends. Lengths must be minimal, constructed elements exactly
    filled by their children, universal primitives well-formed. Indefinite
    lengths (BER, some signers' outer layers) are accepted.
    """
    if depth > _MAX_DER_DEPTH:
        raise _Malformed("nested too deeply")
    if pos + 2 > end:
        raise _Malformed(f"truncated element at byte {pos}")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:  # high tag number form
        count = 0
        while True:
            if pos >= end or count > 3:
                raise _Malformed("bad tag")
            byte = data[pos]
            if count == 0 and byte == 0x80:
                raise _Malformed("non-minimal tag")
            pos += 1
            count += 1
            if not byte & 0x80:
                break
    if pos >= end:
        raise _Malformed(f"truncated element at byte {pos}")
    length = data[pos]
    pos += 1
    constructed = bool(tag & 0x20)
    if length == 0x80:
        if not constructed:
            raise _Malformed(f"indefinite length on a primitive at byte {pos}")
        while True:
            if pos + 2 > end:
                raise _Malformed("unterminated indefinite length")
            if data[pos] == 0 and data[pos + 1] == 0:
                return pos + 2
            pos = _der_walk(data, pos, end, depth + 1)
    if length & 0x80:
        count = length & 0x7F
        if count > 4 or pos + count > end:
            raise _Malformed(f"bad length at byte {pos}")
        if data[pos] == 0:
            raise _Malformed(f"non-minimal length at byte {pos}")
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80:
            raise _Malformed(f"non-minimal length at byte {pos}")
        pos += count
    stop = pos + length
    if stop > end:
        raise _Malformed(f"element at byte {pos} overruns its container")
    if constructed:
        while pos < stop:
            pos = _der_walk(data, pos, stop, depth + 1)
        return stop
    if tag & 0xC0 == 0:  # universal class, primitive
        number = tag & 0x1F
        if number in (0x10, 0x11):
            raise _Malformed("primitive SEQUENCE or SET")
        if number == 0x00:
            raise _Malformed(f"stray end-of-contents at byte {pos}")
        if number == 0x05 and length:
            raise _Malformed("NULL with content")
        if number == 0x01 and (length != 1 or data[pos] not in (0x00, 0xFF)):
            raise _Malformed("bad BOOLEAN")
        if number == 0x02 and (length == 0 or (length > 1 and (
                (data[pos] == 0x00 and data[pos + 1] < 0x80)
                or (data[pos] == 0xFF and data[pos + 1] >= 0x80)))):
            raise _Malformed("non-minimal INTEGER")
    return stop


def _cms_problems(emb, known: _KnownCerts, verified: set[bytes]) -> list[tuple[str, str]]:
    message = asn1_cms.ContentInfo.load(emb.pkcs7_content)
    if message["content_type"].native != "signed_data":
        return [("bad", "not a CMS SignedData")]
    out = _signed_data_problems(emb.signed_data, emb.signer_cert, "data", known, verified)
    for token in extract_tst_data_iter(emb.signer_info, signed=False):
        tsa = extract_certs_for_validation(token)
        out += [(kind, "its timestamp token: " + p if kind == "bad" else p)
                for kind, p in _signed_data_problems(token, tsa.signer_cert, "tst_info", known,
                                                     verified)]
    return out


def _cert_ders(signed_data) -> list:
    certs = signed_data["certificates"]
    return [] if isinstance(certs, asn1_core.Void) else list(certs)


def _signed_data_problems(sd, signer_cert, content_type: str, known: _KnownCerts,
                          verified: set[bytes]) -> list[tuple[str, str]]:
    """The unsigned fields of a SignedData, as a signer writes them."""
    out = []
    infos = sd["signer_infos"]
    if len(infos) != 1:
        return [("bad", f"{len(infos)} signer infos instead of one")]
    si = infos[0]
    certs = _cert_ders(sd)
    crls = sd["crls"]
    crls = [] if isinstance(crls, asn1_core.Void) else list(crls)

    # RFC 5652, 5.1 and 5.3: the versions follow from the content.
    eci = sd["encap_content_info"]
    choices = {c.name for c in certs}
    if "other" in choices or any(c.name == "other" for c in crls):
        version = "v5"
    elif "v2_attr_cert" in choices:
        version = "v4"
    elif ("v1_attr_cert" in choices or si["version"].native == "v3"
          or eci["content_type"].native != "data"):
        version = "v3"
    else:
        version = "v1"
    if sd["version"].native != version:
        out.append(("bad", f"SignedData version {sd['version'].native}, not {version}"))
    sid = si["sid"]
    wanted = "v1" if sid.name == "issuer_and_serial_number" else "v3"
    if si["version"].native != wanted:
        out.append(("bad", f"SignerInfo version {si['version'].native}, not {wanted}"))

    # The signer identifier names the signer's certificate, byte for byte.
    if sid.name == "issuer_and_serial_number":
        same = (sid.chosen["issuer"].dump() == signer_cert.issuer.dump()
                and sid.chosen["serial_number"].native == signer_cert.serial_number)
    else:
        same = sid.chosen.native == signer_cert.key_identifier
    if not same:
        out.append(("bad", "the signer identifier does not match the signer's certificate"))

    digest = si["digest_algorithm"]
    listed = sd["digest_algorithms"]
    if [a["algorithm"].dotted for a in listed] != [digest["algorithm"].dotted]:
        out.append(("bad", "the digest algorithm list does not match the signer's"))
    for algo in (*listed, digest):
        if algo["parameters"].dump() not in _ABSENT_OR_NULL:
            out.append(("bad", "unexpected digest algorithm parameters"))
            break
    signature_algo = si["signature_algorithm"]
    algo_name = signature_algo["algorithm"].native
    params = signature_algo["parameters"].dump()
    if ((algo_name in _NULL_PARAMETER_ALGOS and params not in _ABSENT_OR_NULL)
            or (algo_name in _NO_PARAMETER_ALGOS and params)):
        out.append(("bad", "unexpected signature algorithm parameters"))
    try:
        implied_hash = signature_algo.hash_algo
    except (ValueError, KeyError):
        implied_hash = None
    if implied_hash is not None and implied_hash != digest["algorithm"].native:
        out.append(("bad", "the signature algorithm's hash differs from the digest algorithm"))

    if eci["content_type"].native != content_type:
        out.append(("bad", f"content type {eci['content_type'].native}, not {content_type}"))
    has_content = not isinstance(eci["content"], asn1_core.Void)
    if has_content != (content_type == "tst_info"):
        out.append(("bad", "the signed content is embedded" if has_content
                    else "the timestamp token has no content"))
    unsigned = si["unsigned_attrs"]
    if not isinstance(unsigned, asn1_core.Void):
        allowed = {"signature_time_stamp_token"} if content_type == "data" else set()
        odd = sorted({str(a["type"].native) for a in unsigned} - allowed)
        if odd:
            out.append(("bad", "unexpected unsigned attributes: " + ", ".join(odd)))

    # Every certificate carried must be readable and signed by its issuer
    # (the signer's own is verified by path validation and its fingerprint;
    # so are the ones identical to those of a validated path).
    ders = [c.chosen.dump() for c in certs if c.name == "certificate"]
    for der in ders:
        try:
            known.add(der)
        except Exception:  # noqa: BLE001 - reported by check() below
            pass
    signer_der = signer_cert.dump()
    for der in ders:
        if der != signer_der and der not in verified:
            verdict = known.check(der)
            if verdict is not None:
                out.append(verdict)
    for crl in crls:
        verdict = (known.check_crl(crl.chosen.dump()) if crl.name == "crl"
                   else ("bad", "unknown revocation data inside the CMS"))
        if verdict is not None:
            out.append(verdict)
    return out
