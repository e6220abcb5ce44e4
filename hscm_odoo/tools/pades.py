"""PAdES signing of lesson-plan PDFs, bytes in and bytes out.

Pure Python on top of pyHanko (no Odoo import):

``load_pkcs12_signer(data, passphrase)``
    load a PKCS#12 archive once; the signer keeps the parsed private key and
    is reused for many signatures.
``sign_pdf(pdf, signer, field_name=..., stamp=..., page=-1, box=None,
timestamper=None)``
    a PAdES baseline signature (``ETSI.CAdES.detached``, SHA-256) appended as
    an incremental update: the input bytes are an exact prefix of the output,
    so earlier signatures stay valid. B-T with a timestamper, B-B without.
    ``async_sign_pdf`` is the same inside a running event loop.
``StampText`` / ``stamp_box``
    the visible approval stamp (Vietnamese text in DejaVuSans, optional QR
    code) and non-overlapping default boxes for the 1st, 2nd, ... signature.
``signature_summary(pdf)``
    one dict per embedded signature with a cryptographic (no trust) verdict.
"""

import asyncio
import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from io import BytesIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter, validate_sig_integrity
from pyhanko.stamp import QRStampStyle, TextStampStyle

DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# pyHanko subsets the stamp font at every signature, and fontTools logs
# each step of it at INFO: a dozen lines per approval in the server log.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

# Default stamp geometry (PDF points): 3 stamps side by side on A4 width.
STAMP_WIDTH = 160
STAMP_HEIGHT = 72
STAMP_MARGIN = 36
STAMP_GAP = 8

# Extra CMS room for an RFC 3161 timestamp token (hex-encoded, with chain).
_TIMESTAMP_RESERVE = 16384


class PadesError(Exception):
    """A signing or reading step failed; the message says which."""


# --------------------------------------------------------------------------
# Signer
# --------------------------------------------------------------------------


class CachedKeySigner(signers.SimpleSigner):
    """A ``SimpleSigner`` that parses its private key once, not per signature."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pyca_key = serialization.load_der_private_key(
            self.signing_key.dump(), password=None
        )
        certs = [self.signing_cert, *self.cert_registry]
        cms_size = sum(len(c.dump()) for c in certs)
        key_bytes = getattr(self._pyca_key, "key_size", 4096) // 8 + 64
        # Hex-encoded in the PDF, hence twice the DER size, plus headroom for
        # the signed attributes.
        self.bytes_reserved = 2 * (cms_size + key_bytes + 1500)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mech = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algo = mech.signature_algo
        except ValueError:
            algo = mech["algorithm"].native
        key = self._pyca_key
        if algo == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if algo == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        # Other mechanisms (PSS, EdDSA, ...): pyHanko's own path.
        return super().sign_raw(data, digest_algorithm)


def load_pkcs12_signer(data: bytes, passphrase: bytes) -> CachedKeySigner:
    """Load a PKCS#12 archive into a reusable signer.

    Raises :class:`PadesError` on a wrong passphrase or unreadable archive.
    """
    try:
        plain = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=passphrase)
    except ValueError as e:
        raise PadesError("Cannot open the PKCS#12 file: wrong passphrase or damaged file") from e
    if plain.signing_cert is None:
        raise PadesError("The PKCS#12 file holds no certificate")
    return CachedKeySigner(
        signing_cert=plain.signing_cert,
        signing_key=plain.signing_key,
        cert_registry=plain.cert_registry,
    )


# --------------------------------------------------------------------------
# Stamp
# --------------------------------------------------------------------------


@dataclass
class StampText:
    """Lines of the visible approval stamp.

    ``delegation`` is the mark above the signer's own title when signing on
    someone's behalf, e.g. ``"KT. TỔ TRƯỞNG"`` above ``"PHÓ TỔ TRƯỞNG"``.
    ``signed_at`` is already formatted in Vietnam time, e.g.
    ``"Đã ký: 23/11/2026 08:15"``.
    """

    name: str
    position: str = ""
    delegation: str = ""
    signed_at: str = ""
    extra_lines: list = field(default_factory=list)
    qr_url: str | None = None
    font_size: int = 8

    def lines(self) -> list[str]:
        out = [self.delegation, self.position, self.name, self.signed_at, *self.extra_lines]
        return [line for line in out if line]

    def text(self) -> str:
        # pyHanko interpolates %(...)s in stamp text: escape literal percents.
        return "\n".join(self.lines()).replace("%", "%%")


_font_lock = threading.Lock()
_rescaled_fonts: dict[str, str] = {}


# Latin, Latin-1, Latin Extended A/B, combining marks, Latin Extended
# Additional (Vietnamese), punctuation, currency (₫), letterlike, arrows.
_KEPT_RANGES = [(0x20, 0x24F), (0x2B0, 0x36F), (0x1E00, 0x1EFF), (0x2000, 0x206F),
                (0x20A0, 0x20CF), (0x2100, 0x21FF), (0x25A0, 0x25FF)]


def _keep_latin_vietnamese(font) -> None:
    """Drop the scripts a Vietnamese stamp never uses (Cyrillic, Arabic, ...).

    pyHanko subsets the font on every signature; a smaller source font makes
    that several times faster. OpenType layout features are kept.
    """
    from fontTools import subset

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.drop_tables += ["FFTM"]
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[u for lo, hi in _KEPT_RANGES for u in range(lo, hi + 1)])
    sub.subset(font)


def rescaled_font_path(font_path: str = DEJAVU_SANS) -> str:
    """Path of ``font_path`` rescaled to 1000 units per em (built once, cached).

    pyHanko writes glyph widths in font units, PDF expects 1/1000 em: a
    2048-upem font such as DejaVuSans would be spaced twice too wide.
    """
    cached = _rescaled_fonts.get(font_path)
    if cached and os.path.exists(cached):
        return cached
    with _font_lock:
        cached = _rescaled_fonts.get(font_path)
        if cached and os.path.exists(cached):
            return cached
        from fontTools.ttLib import TTFont
        from fontTools.ttLib.scaleUpem import scale_upem

        with open(font_path, "rb") as f:
            raw = f.read()
        digest = hashlib.sha256(raw).hexdigest()[:16]
        target = os.path.join(tempfile.gettempdir(), f"hscm-font-{digest}-upem1000-latin.ttf")
        if not os.path.exists(target):
            font = TTFont(BytesIO(raw))
            if font["head"].unitsPerEm != 1000:
                scale_upem(font, 1000)
            _keep_latin_vietnamese(font)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".ttf")
            with os.fdopen(fd, "wb") as out:
                font.save(out)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)  # atomic: concurrent workers never see half a file
        _rescaled_fonts[font_path] = target
        return target


def stamp_style(stamp: StampText, font_path: str = DEJAVU_SANS):
    """The pyHanko stamp style for ``stamp`` (QR style when it has a URL)."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

    font = GlyphAccumulatorFactory(rescaled_font_path(font_path), font_size=stamp.font_size)
    box_style = TextBoxStyle(
        font=font, font_size=stamp.font_size, leading=round(stamp.font_size * 1.3)
    )
    common = dict(stamp_text=stamp.text(), text_box_style=box_style, border_width=1)
    if stamp.qr_url:
        return QRStampStyle(**common)
    return TextStampStyle(**common)


def stamp_box(page_width: float, page_height: float, index: int,
              width: int = STAMP_WIDTH, height: int = STAMP_HEIGHT,
              margin: int = STAMP_MARGIN, gap: int = STAMP_GAP) -> tuple[int, int, int, int]:
    """Box ``(x1, y1, x2, y2)`` of the ``index``-th stamp (0-based) on a page.

    Stamps fill a row from the bottom-right corner leftwards, then the next
    row above it; boxes of different indices never overlap. Raises
    :class:`PadesError` when the page has no room left.
    """
    if index < 0:
        raise ValueError("index must be >= 0")
    usable_w = page_width - 2 * margin
    per_row = max(1, int((usable_w + gap) // (width + gap)))
    row, col = divmod(index, per_row)
    x2 = page_width - margin - col * (width + gap)
    y1 = margin + row * (height + gap)
    if y1 + height > page_height - margin or x2 - width < 0:
        raise PadesError(f"No room for stamp #{index + 1} on this page")
    return (int(x2 - width), int(y1), int(x2), int(y1 + height))


def _page_size(writer, page: int) -> tuple[float, float]:
    try:
        page_ref, _ = writer.find_page_for_modification(page)
        node = page_ref.get_object()
        while node is not None:
            if "/MediaBox" in node:
                x1, y1, x2, y2 = (float(v) for v in node["/MediaBox"])
                return abs(x2 - x1), abs(y2 - y1)
            node = node.get("/Parent")
            node = node.get_object() if node is not None else None
    except Exception:  # noqa: BLE001 - fall back to A4
        pass
    return 595.0, 842.0


# --------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------


def prepare_pdf_signer(pdf: bytes, signer, *, field_name: str, stamp: StampText | None,
                       page: int = -1, box=None, timestamper=None):
    """The writer, pyHanko ``PdfSigner`` and appearance parameters for one new
    signature field in ``pdf`` (see :func:`sign_pdf` for the arguments).

    Shared by :func:`async_sign_pdf` and the deferred (device-side) signing
    in ``signing_methods``, so both produce the same field and stamp.
    """
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    except Exception as e:
        raise PadesError(f"Cannot read the PDF: {e}") from e
    existing = [name for name, _, _ in fields.enumerate_sig_fields(writer)]
    if field_name in existing:
        raise PadesError(f"Signature field {field_name!r} already exists")

    style = None
    if stamp is not None:
        if box is None:
            box = stamp_box(*_page_size(writer, page), len(existing))
        style = stamp_style(stamp)
    spec = fields.SigFieldSpec(
        sig_field_name=field_name,
        on_page=page,
        box=tuple(int(round(v)) for v in box) if stamp is not None else None,
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    pdf_signer = signers.PdfSigner(
        meta, signer, timestamper=timestamper, stamp_style=style, new_field_spec=spec
    )
    text_params = {"url": stamp.qr_url} if stamp is not None and stamp.qr_url else None
    return writer, pdf_signer, text_params


def check_incremental(pdf: bytes, result: bytes) -> bytes:
    """``result`` if it starts with the exact bytes of ``pdf``, else PadesError."""
    if not result.startswith(pdf):  # never rewrite what was signed before
        raise PadesError("Signing did not produce an incremental update")
    return result


async def async_sign_pdf(pdf: bytes, signer, *, field_name: str, stamp: StampText | None,
                         page: int = -1, box=None, timestamper=None) -> bytes:
    """:func:`sign_pdf` for a running event loop (asynchronous signers such
    as pyHanko's CSC remote signer need one)."""
    writer, pdf_signer, text_params = prepare_pdf_signer(
        pdf, signer, field_name=field_name, stamp=stamp, page=page, box=box,
        timestamper=timestamper,
    )
    reserved = getattr(signer, "bytes_reserved", None)
    if reserved is not None and timestamper is not None:
        reserved += _TIMESTAMP_RESERVE
    out = BytesIO()
    try:
        await pdf_signer.async_sign_pdf(writer, bytes_reserved=reserved, output=out,
                                        appearance_text_params=text_params)
    except Exception as e:
        if reserved is None or "larger than expected" not in str(e):
            raise
        # Our size guess was too small: let pyHanko estimate (one dry run).
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        out = BytesIO()
        await pdf_signer.async_sign_pdf(writer, output=out, appearance_text_params=text_params)
    return check_incremental(pdf, out.getvalue())


def sign_pdf(pdf: bytes, signer, *, field_name: str, stamp: StampText | None,
             page: int = -1, box=None, timestamper=None) -> bytes:
    """Sign ``pdf`` (PAdES B-B, or B-T with ``timestamper``) incrementally.

    The output starts with the exact input bytes. With ``stamp`` the field is
    visible on ``page`` (default last) in ``box`` (default: the next free
    :func:`stamp_box` slot, counted from the signature fields already there).
    Runs its own event loop: from a coroutine, await :func:`async_sign_pdf`.
    """
    return asyncio.run(async_sign_pdf(pdf, signer, field_name=field_name, stamp=stamp,
                                      page=page, box=box, timestamper=timestamper))


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _common_name(cert) -> str:
    try:
        return cert.subject.native.get("common_name", "") or ""
    except Exception:  # noqa: BLE001
        return ""


def _timestamp_time(signer_info):
    """Generation time of the first signature timestamp token, or None."""
    for tst in extract_tst_data_iter(signer_info, signed=False):
        return tst["encap_content_info"]["content"].parsed["gen_time"].native
    return None


def signature_summary(pdf: bytes) -> list[dict]:
    """One dict per embedded signature, in document order.

    Keys: ``field_name``, ``signer_cn``, ``signer_sha256`` (hex of the signer
    certificate DER), ``signing_time`` (self-reported, aware datetime or
    None), ``timestamp_time`` (from the signature timestamp token, B-T; its
    own TSA signature is not checked here), ``byte_range``,
    ``signed_revision_end`` (offset where the signed revision ends),
    ``covers_whole_file`` and ``intact``: the ByteRange digest matches the
    signed attributes *and* the CMS signature verifies with the signer
    certificate. No trust, revocation or difference analysis. A signature
    whose structure cannot be read is reported ``intact: False`` with an
    ``error``.
    """
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        sigs = reader.embedded_signatures
    except Exception as e:
        raise PadesError(f"Cannot read the PDF: {e}") from e
    summary = []
    for emb in sigs:
        item = {"field_name": emb.field_name, "intact": False, "error": None}
        try:
            cert = emb.signer_cert
            br = [int(v) for v in emb.byte_range]
            item.update(
                signer_cn=_common_name(cert),
                signer_sha256=hashlib.sha256(cert.dump()).hexdigest(),
                signing_time=emb.self_reported_timestamp,
                timestamp_time=_timestamp_time(emb.signer_info),
                byte_range=br,
                signed_revision_end=br[2] + br[3],
                covers_whole_file=br[2] + br[3] == len(pdf),
            )
            if len(br) != 4 or br[0] != 0 or br[2] + br[3] > len(pdf):
                raise PadesError(f"Malformed /ByteRange {br}")
            digest_ok, sig_ok = validate_sig_integrity(
                emb.signer_info, cert, "data", emb.compute_digest()
            )
            item["intact"] = bool(digest_ok and sig_ok)
        except Exception as e:  # noqa: BLE001 - a broken signature is a verdict
            item["error"] = f"{type(e).__name__}: {e}"
        summary.append(item)
    return summary
