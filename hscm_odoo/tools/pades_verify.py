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

Validation moment of signature ``i``: the time of its RFC 3161 signature
timestamp when the token validates (B-T), else ``expected[i].signed_at``
(the decision time the product recorded), else now. The TSA's certificate is
checked at the timestamp's own time. With revocation checking, current
CRL/OCSP data is applied to that past moment: a certificate revoked after
the signature still counts as valid at signing time.

Thread-safe and reentrant: no shared state, every call builds its own
validation contexts and fetchers; each network fetch is bounded by
``timeout``. Meant to run off the request thread; pyHanko's difference
analysis (never skipped) takes seconds on object-heavy PDFs.
"""

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from io import BytesIO

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.generic_cms import (
    collect_timing_info,
    extract_certs_for_validation,
    extract_tst_data_iter,
)
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

REVOCATION_MODES = ("off", "soft", "hard")

# What may legitimately follow a signature: nothing, LTV data, or filling in
# (i.e. signing) signature fields. Anything else (annotations, page content,
# other form fields) after an approval invalidates it.
ALLOWED_AFTER_SIGNING = frozenset({
    ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING,
})

# One verification never needs more: a few OCSP/CRL requests per certificate.
_FETCH_LIMITS = FetchLimits(max_requests=40, max_cert_requests=10)


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
    moment the certificate was checked at), ``intact``, ``expected_signer``,
    ``trusted``, ``valid_at_signing_time``, ``revocation`` ('good',
    'revoked', 'unknown', 'not_checked'), ``modification_level``
    (pyHanko ``ModificationLevel`` name), ``signed_revision_end``,
    ``covers_whole_file``, ``error`` and ``problems`` (this signature's
    reasons).
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
        actual_sha256 = hashlib.sha256(pdf).hexdigest()
        if revocation not in REVOCATION_MODES:
            raise ValueError(f"revocation must be one of {REVOCATION_MODES}, not {revocation!r}")
        expected = list(expected)
        ctx = _Context(
            roots=[_load_cert(c) for c in trust_roots],
            others=[_load_cert(c) for c in other_certs],
            crls=[asn1_crl.CertificateList.load(_der(c)) for c in crls],
            mode=revocation,
            fetchers=(RequestsFetcherBackend(per_request_timeout=timeout, limits=_FETCH_LIMITS)
                      .get_fetchers() if revocation != "off" else None),
        )
        signatures = _run(_check_signatures(pdf, expected, ctx))
        reasons += _file_reasons(pdf, actual_sha256, file_sha256, versions, expected, signatures)
    except Exception as e:  # noqa: BLE001 - a verdict, never a crash
        reasons.append(f"verification failed: {type(e).__name__}: {e}")
    for sig in signatures:
        reasons += [f"signature {sig['index']}: {p}" for p in sig["problems"]]
    return Report(
        verdict="invalid" if reasons else "valid",
        reasons=reasons,
        signatures=signatures,
        file_sha256=actual_sha256,
        revocation=revocation,
    )


# --------------------------------------------------------------------------
# Whole-file checks
# --------------------------------------------------------------------------


def _file_reasons(pdf, actual_sha256, file_sha256, versions, expected, signatures) -> list[str]:
    reasons = []
    if len(signatures) != len(expected):
        reasons.append(f"expected {len(expected)} signature(s), found {len(signatures)}")
    if signatures and not signatures[-1]["covers_whole_file"]:
        reasons.append(f"signature {signatures[-1]['index']} (the last) does not cover the "
                       "whole file: bytes were added after it")
    if file_sha256 is not None and file_sha256.lower() != actual_sha256:
        reasons.append("the file's SHA-256 does not match the stored hash")
    if versions is None:
        return reasons

    versions = [(int(length), str(sha).lower()) for length, sha in versions]
    if len(versions) != len(expected) + 1:
        reasons.append(f"expected {len(expected) + 1} stored versions (original + one per "
                       f"signature), got {len(versions)}")
    view = memoryview(pdf)
    previous = -1
    for i, (length, sha) in enumerate(versions):
        if length <= previous:
            reasons.append(f"stored version {i} is not longer than version {i - 1}")
        elif length > len(pdf) or hashlib.sha256(view[:length]).hexdigest() != sha:
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
# Signatures
# --------------------------------------------------------------------------


@dataclass
class _Context:
    roots: list
    others: list
    crls: list
    mode: str
    fetchers: object

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


async def _check_signatures(pdf: bytes, expected, ctx: _Context) -> list[dict]:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    found = []
    for fq_name, _, sig_field in enumerate_sig_fields(reader, filled_status=True):
        try:
            emb = EmbeddedPdfSignature(reader, sig_field, fq_name)
            found.append((emb.signed_revision, fq_name, emb, None))
        except Exception as e:  # noqa: BLE001 - reported on the signature
            found.append((float("inf"), fq_name, None, e))
    found.sort(key=lambda item: item[0])
    now = datetime.now(timezone.utc)
    results = []
    for index, (_, name, emb, error) in enumerate(found, start=1):
        exp = expected[index - 1] if index <= len(expected) else None
        later_fields = {n for _, n, _, _ in found[index:]}
        results.append(await _check_signature(index, name, emb, error, exp, later_fields,
                                              ctx, now))
    return results


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _der(data: bytes) -> bytes:
    data = bytes(data)
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return data


def _load_cert(data: bytes) -> asn1_x509.Certificate:
    cert = asn1_x509.Certificate.load(_der(data))
    cert.native  # parse now: a damaged certificate fails here, not mid-validation
    return cert


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


async def _check_signature(index, name, emb, error, exp, later_fields, ctx, now) -> dict:
    item = _new_item(index, name, ctx.mode)
    problems = item["problems"]
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
        byte_range = [int(v) for v in emb.byte_range]
        if len(byte_range) == 4:
            item["signed_revision_end"] = byte_range[2] + byte_range[3]
        if exp is not None and exp.signer_sha256:
            wanted = exp.signer_sha256.replace(":", "").lower()
            item["expected_signer"] = wanted == item["signer_sha256"]
            if not item["expected_signer"]:
                problems.append("signed with a different certificate than the approver's")

        ts_ctx, moment = await _check_timestamp(emb, ctx, item)
        if moment is None:
            moment = _aware(exp.signed_at) if exp is not None and exp.signed_at else now
        item["validated_at"] = _iso(moment)

        vc = ctx.validation_context(moment, check_revocation=False)
        status = await async_validate_pdf_signature(
            emb,
            signer_validation_context=vc,
            ts_validation_context=ts_ctx or vc,
            diff_policy=DEFAULT_DIFF_POLICY,
            skip_diff=False,
        )
        item["intact"] = bool(status.intact and status.valid)
        item["covers_whole_file"] = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        level = status.modification_level
        item["modification_level"] = level.name if level is not None else None
        if not item["intact"]:
            problems.append("the signed bytes were altered or the signature does not verify")
            return item
        _check_modifications(status, later_fields, item)
        await _check_certificate(emb, status, moment, ctx, item)
    except Exception as e:  # noqa: BLE001 - a broken signature is a verdict
        item["error"] = f"{type(e).__name__}: {e}"
        problems.append(f"cannot be verified: {item['error']}")
    return item


async def _check_timestamp(emb, ctx: _Context, item: dict):
    """Validate the signature timestamp token, if any, at its own time.

    Returns ``(validation context used, timestamp time)``; the time is None
    when there is no token or it does not validate (then a problem is noted).
    """
    token = next(iter(extract_tst_data_iter(emb.signer_info, signed=False)), None)
    if token is None:
        return None, None
    gen_time = token["encap_content_info"]["content"].parsed["gen_time"].native
    tsa = extract_certs_for_validation(token)
    ts_ctx = ctx.validation_context(gen_time, check_revocation=False)
    timing = await collect_timing_info(emb.signer_info, ts_ctx, raw_digest=emb.compute_digest)
    validity = timing.get("timestamp_validity")
    if validity is None or not validity.trusted:
        indication = getattr(getattr(validity, "trust_problem_indic", None), "name", None)
        item["problems"].append(
            "its timestamp does not validate or its TSA is not trusted"
            + (f" ({indication})" if indication else "")
        )
        return ts_ctx, None
    if ctx.mode != "off":
        state, detail = await _revocation_status(tsa.signer_cert, tsa.other_certs, gen_time, ctx)
        if state == "revoked" or (state == "unknown" and ctx.mode == "hard"):
            item["problems"].append(f"the TSA certificate's revocation status is {state}: {detail}")
            return ts_ctx, None
    item["timestamped"] = True
    item["signing_time"] = _iso(gen_time)
    return ts_ctx, gen_time


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
