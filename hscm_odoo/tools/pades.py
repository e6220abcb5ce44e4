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
    code) and non-overlapping default boxes for the 1st, 2nd, ... signature;
    ``prepare_stamp_font()`` readies the stamp font ahead of the first one.
``signature_summary(pdf)``
    one dict per embedded signature with a cryptographic (no trust) verdict.

Speed (lesson plans of 0.2-20 MB; ``bench/bench_signing.py``): what does not
change between signatures is prepared once per process, and pyHanko's slow
paths are avoided without changing its output. The stamp font is read,
rescaled and reduced once (:class:`PreparedFont`); each signature copies the
outlines of the glyphs it uses into a small TrueType program (no fontTools
at signing time). The signer's constant CMS attributes are DER-encoded once;
the last page is found from the end of the page tree; the update is appended
to one copy of the input; ``asyncio.run`` does not ``repr`` the result.
"""

import asyncio
import functools
import hashlib
import importlib.metadata
import logging
import os
import struct
import tempfile
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from io import BytesIO

from asn1crypto import cms, keys, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest, SignatureObject
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter, validate_sig_integrity
from pyhanko.stamp import QRStampStyle, TextStampStyle
from pyhanko.stamp.qr import QRStamp
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# fontTools logs each step of a subsetting at INFO (a dozen lines): it runs
# once per process here (the Latin + Vietnamese reduction), or per signature
# with pyHanko's engine for a font that is not TrueType.
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
    """A ``SimpleSigner`` that parses its private key once, not per signature.

    ``pyca_key``: the same key as a ``cryptography`` object when the caller
    already has one (loading an RSA key checks it, ~50 ms for 2048 bits:
    once is enough)."""

    def __init__(self, *args, pyca_key=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pyca_key is None:
            pyca_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        self._pyca_key = pyca_key
        certs = [self.signing_cert, *self.cert_registry]
        cms_size = sum(len(c.dump()) for c in certs)
        key_bytes = getattr(self._pyca_key, "key_size", 4096) // 8 + 64
        # Hex-encoded in the PDF, hence twice the DER size, plus headroom for
        # the signed attributes.
        self.bytes_reserved = 2 * (cms_size + key_bytes + 1500)
        self._attr_der = None

    async def signed_attrs(self, data_digest: bytes, digest_algorithm: str,
                           attr_settings=None, content_type="data", use_pades=False,
                           timestamper=None, dry_run=False, is_pdf_sig=True):
        """pyHanko's signed attributes, built so that they serialise once.

        asn1crypto re-encodes an object it built (rather than parsed) at every
        ``dump()``, and pyHanko dumps the signed attributes several times per
        signature (to sign them, inside the SignerInfo, in the CMS), a few ms
        each: the CMS work of a signature fell from 13 ms to 2 ms. A PAdES
        signature's attributes are always the same three (content type,
        message digest, signing certificate v2): they are assembled from DER
        prepared once per signer. Any other combination goes through pyHanko
        and is re-parsed from its DER.
        """
        fast = (
            use_pades and is_pdf_sig and content_type == "data"
            and self.signed_attr_prov_spec is None
            and getattr(attr_settings, "cades_signed_attrs", None) is None
            and getattr(attr_settings, "adobe_revinfo_attr", None) is None
        )
        if fast:
            return self._pades_signed_attrs(data_digest)
        attrs = await super().signed_attrs(
            data_digest, digest_algorithm, attr_settings=attr_settings,
            content_type=content_type, use_pades=use_pades, timestamper=timestamper,
            dry_run=dry_run, is_pdf_sig=is_pdf_sig,
        )
        return cms.CMSAttributes.load(attrs.dump())

    def _pades_signed_attrs(self, data_digest: bytes):
        from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute

        constant = self._attr_der
        if constant is None:
            # Same values as pyHanko's CAdESSignedAttributeProviderSpec (the
            # certificate is always identified by its SHA-256, as pyHanko does).
            constant = self._attr_der = (
                simple_cms_attribute("content_type", "data").dump(),
                simple_cms_attribute(
                    "signing_certificate_v2", as_signing_certificate_v2(self.signing_cert)
                ).dump(),
            )
        digest_attr = simple_cms_attribute("message_digest", data_digest).dump()
        # DER encodes a SET OF in the order of its members' encodings.
        return cms.CMSAttributes.load(
            cms.CMSAttributes([cms.CMSAttribute.load(der)
                               for der in sorted((*constant, digest_attr))]).dump()
        )

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
    # As pyHanko's SimpleSigner.load_pkcs12_data, keeping cryptography's key
    # object (already checked while loading) for CachedKeySigner.
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(data, passphrase)
    except Exception as e:  # noqa: BLE001 - cryptography raises several kinds for a bad archive
        raise PadesError("Cannot open the PKCS#12 file: wrong passphrase or damaged file") from e
    if key is None or certificate is None:
        raise PadesError("The PKCS#12 file must hold a private key and its certificate")
    der = serialization.Encoding.DER
    registry = SimpleCertificateStore()
    registry.register_multiple({x509.Certificate.load(c.public_bytes(der)) for c in others})
    return CachedKeySigner(
        signing_cert=x509.Certificate.load(certificate.public_bytes(der)),
        signing_key=keys.PrivateKeyInfo.load(key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=registry,
        pyca_key=key,
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

    Done once per machine: a smaller font is quicker to prepare and leaves
    shorter glyph tables in every embedded subset. OpenType layout features
    are kept.
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


# --------------------------------------------------------------------------
# Stamp font, prepared once per process
# --------------------------------------------------------------------------

# Tables of the embedded font program. A CIDFontType2 program is drawn
# through /CIDToGIDMap /Identity: layout tables (GSUB, GPOS, GDEF, MATH) are
# for shaping only, done here with HarfBuzz on the full font.
_EMBEDDED_TABLES = ("OS/2", "cmap", "cvt ", "fpgm", "gasp", "glyf", "head", "hhea", "hmtx",
                    "loca", "maxp", "name", "post", "prep")
_FONT_PROGRAM_CACHE = 64  # glyph sets kept per font (a few KB each)


def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}L", data)) & 0xFFFFFFFF


class PreparedFont:
    """What a stamp needs from a TrueType font, read once per process.

    Shaping data (a HarfBuzz face), advance widths, the reverse ``cmap``,
    the font descriptor values and the raw tables of the font program, from
    which :meth:`font_program` builds the subset holding given glyphs in
    about a millisecond: glyph data is copied for those glyphs (and the
    components of composite ones), every other glyph is left empty, and
    glyph ids are kept, as pyHanko's fontTools subsetting does
    (``retain_gids``). Immutable once built: threads share it.
    """

    def __init__(self, data: bytes):
        import uharfbuzz as hb
        from fontTools.ttLib import TTFont

        tt = TTFont(BytesIO(data))
        if "glyf" not in tt:
            raise ValueError("not a TrueType (glyf) font")
        self.hb_face = hb.Face(data)
        head, hhea, os2 = tt["head"], tt["hhea"], tt["OS/2"]
        self.units_per_em = head.unitsPerEm
        self.ps_name = next(
            (n.toUnicode() for n in tt["name"].names if n.nameID == 6), None
        ) or "Font"
        order = tt.getGlyphOrder()
        metrics = tt["hmtx"].metrics
        self._metrics = tuple(struct.pack(">Hh", *metrics[name]) for name in order)
        self.widths = tuple(metrics[name][0] for name in order)
        reverse: dict[int, list[int]] = {}
        for codepoint, name in tt.getBestCmap().items():
            reverse.setdefault(tt.getGlyphID(name), []).append(codepoint)
        self.codepoints = {gid: tuple(cps) for gid, cps in reverse.items()}
        weight = os2.usWeightClass
        self.descriptor = {
            "ascent": hhea.ascent, "descent": hhea.descent,
            "bbox": (head.xMin, head.yMin, head.xMax, head.yMax),
            "stemv": int(10 + 220 * (weight - 50) / 900),
            "italic_angle": float(getattr(tt["post"], "italicAngle", 0)),
            "cap_height": getattr(os2, "sCapHeight", 750),
        }

        # Raw tables, straight from the file's table directory.
        num_tables = struct.unpack_from(">H", data, 4)[0]
        raw = {}
        for i in range(num_tables):
            tag, _, offset, length = struct.unpack_from(">4sLLL", data, 12 + 16 * i)
            raw[tag.decode("latin-1")] = data[offset:offset + length]
        num_glyphs = len(order)
        if head.indexToLocFormat:
            loca = struct.unpack(f">{num_glyphs + 1}L", raw["loca"][:4 * (num_glyphs + 1)])
        else:
            loca = tuple(2 * v for v in struct.unpack(f">{num_glyphs + 1}H",
                                                      raw["loca"][:2 * (num_glyphs + 1)]))
        glyf = raw["glyf"]
        self._glyphs = tuple(glyf[loca[g]:loca[g + 1]] for g in range(num_glyphs))
        self._components = {g: self._composite_parts(self._glyphs[g])
                            for g in range(num_glyphs)
                            if len(self._glyphs[g]) >= 10
                            and struct.unpack_from(">h", self._glyphs[g])[0] < 0}
        # A shorter name table (IDs 0-6, as fontTools' subsetter keeps) and
        # no glyph names.
        name = tt["name"]
        name.names = [n for n in name.names if n.nameID <= 6]
        raw["name"] = name.compile(tt)
        post = tt["post"]
        if post.formatType != 3.0:
            post.formatType = 3.0
            raw["post"] = post.compile(tt)
        head_raw = bytearray(raw["head"])
        struct.pack_into(">L", head_raw, 8, 0)  # checkSumAdjustment, set per program
        self._head = bytes(head_raw)
        hhea_raw = bytearray(raw["hhea"])
        struct.pack_into(">H", hhea_raw, 34, num_glyphs)  # a full metric per glyph
        raw["hhea"] = bytes(hhea_raw)
        self._tables = {tag: raw[tag] for tag in _EMBEDDED_TABLES
                        if tag in raw and tag not in ("glyf", "loca", "head", "hmtx")}
        self._programs: "OrderedDict[frozenset, tuple[bytes, int]]" = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _composite_parts(glyph: bytes) -> tuple[int, ...]:
        parts, pos = [], 10
        while True:
            flags, gid = struct.unpack_from(">HH", glyph, pos)
            parts.append(gid)
            pos += 4 + (4 if flags & 0x0001 else 2)
            if flags & 0x0008:
                pos += 2
            elif flags & 0x0040:
                pos += 4
            elif flags & 0x0080:
                pos += 8
            if not flags & 0x0020:
                return tuple(parts)

    def font_program(self, gids) -> tuple[bytes, int]:
        """``(zlib-compressed TrueType program, its uncompressed length)``
        drawing glyphs ``gids`` (ids unchanged); the last few glyph sets are
        cached."""
        wanted = {0, *gids}
        todo = list(wanted)
        while todo:  # components of composite glyphs, transitively
            for part in self._components.get(todo.pop(), ()):
                if part not in wanted and part < len(self._glyphs):
                    wanted.add(part)
                    todo.append(part)
        key = frozenset(wanted)
        with self._lock:
            cached = self._programs.get(key)
            if cached is not None:
                self._programs.move_to_end(key)
                return cached
        program = self._build(key)
        result = (zlib.compress(program, 6), len(program))
        with self._lock:
            self._programs[key] = result
            while len(self._programs) > _FONT_PROGRAM_CACHE:
                self._programs.popitem(last=False)
        return result

    def _build(self, wanted: frozenset) -> bytes:
        # Unused glyphs: no outline, zero metrics (as fontTools' subsetter
        # leaves them); the PDF takes widths from /W anyway.
        glyf, offsets, pos = [], [], 0
        hmtx = []
        for gid, glyph in enumerate(self._glyphs):
            offsets.append(pos)
            if gid in wanted:
                hmtx.append(self._metrics[gid])
                if glyph:
                    glyph += b"\0" * (-len(glyph) % 4)
                    glyf.append(glyph)
                    pos += len(glyph)
            else:
                hmtx.append(b"\0\0\0\0")
        offsets.append(pos)
        short = pos < 0x20000  # offsets are even: /2 fits 16 bits
        head = bytearray(self._head)
        struct.pack_into(">h", head, 50, 0 if short else 1)  # indexToLocFormat
        tables = dict(self._tables)
        tables["head"] = bytes(head)
        tables["hmtx"] = b"".join(hmtx)
        tables["glyf"] = b"".join(glyf)
        tables["loca"] = (struct.pack(f">{len(offsets)}H", *(o // 2 for o in offsets)) if short
                          else struct.pack(f">{len(offsets)}L", *offsets))
        tags = sorted(tables)
        count = len(tags)
        entry_selector = count.bit_length() - 1
        search_range = 16 << entry_selector
        directory = [struct.pack(">LHHHH", 0x00010000, count, search_range, entry_selector,
                                 count * 16 - search_range)]
        body, offset = [], 12 + 16 * count
        head_offset = 0
        for tag in tags:
            data = tables[tag]
            directory.append(struct.pack(">4sLLL", tag.encode("latin-1"), _checksum(data),
                                         offset, len(data)))
            if tag == "head":
                head_offset = offset
            padded = data + b"\0" * (-len(data) % 4)
            body.append(padded)
            offset += len(padded)
        program = bytearray(b"".join(directory + body))
        adjustment = (0xB1B0AFBA - _checksum(bytes(program))) & 0xFFFFFFFF
        struct.pack_into(">L", program, head_offset + 8, adjustment)
        return bytes(program)


_prepared_fonts: dict[str, PreparedFont | None] = {}


def prepared_font(font_path: str) -> PreparedFont | None:
    """The :class:`PreparedFont` of ``font_path`` (built once per process),
    or None when it is not a TrueType font (pyHanko's own engine then)."""
    try:
        return _prepared_fonts[font_path]
    except KeyError:
        pass
    with _font_lock:
        if font_path not in _prepared_fonts:
            with open(font_path, "rb") as f:
                data = f.read()
            try:
                _prepared_fonts[font_path] = PreparedFont(data)
            except (ValueError, KeyError, struct.error):
                _prepared_fonts[font_path] = None
        return _prepared_fonts[font_path]


def prepare_stamp_font(font_path: str = DEJAVU_SANS) -> None:
    """Do now what the first stamped signature of a process would: build
    (or find) the rescaled font and prepare it (~0.2 s with the imports),
    e.g. when a server worker starts."""
    import qrcode  # noqa: F401 - imported by the first QR stamp otherwise
    import uharfbuzz  # noqa: F401

    prepared_font(rescaled_font_path(font_path))


class StampFontEngine(FontEngine):
    """pyHanko's ``GlyphAccumulator`` on a :class:`PreparedFont`.

    Same shaping (HarfBuzz), content stream operators, /W widths, ToUnicode
    CMap and ``/ActualText`` spans as pyHanko's engine, and the same kind of
    font: a Type0 font over a CIDFontType2 subset with /CIDToGIDMap
    /Identity. What changes is the cost: no font file is parsed and no
    fontTools subsetting runs per signature.
    """

    def __init__(self, writer, font: PreparedFont, font_size, obj_stream=None):
        import uharfbuzz as hb

        super().__init__(writer, font.ps_name, embedded_subset=True, obj_stream=obj_stream,
                         font_size=font_size)
        self.font = font
        self.hb_font = hb.Font(font.hb_face)
        self.units_per_em = font.units_per_em
        self._font_ref = writer.allocate_placeholder()
        self._glyphs: dict[int, tuple[int, int]] = {}
        self._cid_to_unicode: dict[int, str] = {}
        self._write_prepared = False

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        # CID = glyph id (/CIDToGIDMap /Identity), as pyHanko does for glyf fonts.
        result = self._glyphs.get(glyph_id)
        if result is None:
            result = self._glyphs[glyph_id] = (glyph_id, self.font.widths[glyph_id])
        return result

    def shape(self, txt: str, with_actual_text: bool = True) -> ShapeResult:
        import uharfbuzz as hb
        from pyhanko.pdf_utils.font.opentype import (
            _format_cid_glyphline_from_buffer,
            _gids_by_cluster,
        )

        if not txt:
            return ShapeResult(b"", 0, 0)
        buf = hb.Buffer()
        buf.add_str(txt)
        buf.guess_segment_properties()
        hb.shape(self.hb_font, buf, None)
        vertical = buf.direction in ("ttb", "btt")
        text_ops, (total_x, total_y) = _format_cid_glyphline_from_buffer(
            buf, cid_width_callback=self._get_cid_and_width,
            units_per_em=self.units_per_em, font_size=self.font_size, vertical=vertical,
        )
        # ToUnicode: each cluster's text to its glyph; for a cluster of
        # several glyphs, each glyph to those of its code points in it.
        for cluster, next_cluster, glyph_ids in _gids_by_cluster(buf):
            unicode_str = txt[cluster:next_cluster]
            if len(glyph_ids) == 1:
                if glyph_ids[0]:
                    cid, _ = self._get_cid_and_width(glyph_ids[0])
                    self._cid_to_unicode[cid] = unicode_str
                continue
            relevant = {ord(c) for c in unicode_str}
            for gid in glyph_ids:
                if not gid:
                    continue
                cid, _ = self._get_cid_and_width(gid)
                if cid not in self._cid_to_unicode:
                    for codepoint in self.font.codepoints.get(gid, ()):
                        if codepoint in relevant:
                            self._cid_to_unicode[cid] = chr(codepoint)
        if with_actual_text:
            out = BytesIO()
            out.write(b"/Span ")
            generic.DictionaryObject(
                {generic.NameObject("/ActualText"): generic.TextStringObject(txt)}
            ).write_to_stream(out)
            out.write(b" BDC ")
            out.write(text_ops)
            out.write(b" EMC")
            text_ops = out.getvalue()
        return ShapeResult(graphics_ops=text_ops, x_advance=total_x / self.units_per_em,
                           y_advance=total_y / self.units_per_em)

    def _to_unicode(self):
        lines = []
        items = sorted(self._cid_to_unicode.items())
        for start in range(0, len(items), 100):  # at most 100 entries per block
            chunk = items[start:start + 100]
            lines.append(f"{len(chunk)} beginbfchar")
            lines += [f"<{cid:04x}> <{text.encode('utf-16be').hex()}>" for cid, text in chunk]
            lines.append("endbfchar")
        cmap = (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo <<\n/Registry (Adobe)\n/Ordering (UCS2)\n/Supplement 0\n>> def\n"
            "/CMapName /Adobe-Identity-UCS2 def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "\n".join(lines)
            + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
        ).encode("ascii")
        return generic.StreamObject(
            {generic.NameObject("/Filter"): generic.NameObject("/FlateDecode")},
            encoded_data=zlib.compress(cmap),
        )

    def prepare_write(self):
        if self._write_prepared:
            return
        name = generic.NameObject
        writer, obj_stream, font = self.writer, self.obj_stream, self.font
        program, length = font.font_program(self._glyphs)
        font_file = writer.add_object(generic.StreamObject(
            {name("/Filter"): name("/FlateDecode"), name("/Length1"): generic.NumberObject(length)},
            encoded_data=program,
        ))
        ps_name = f"{self.subset_prefix}+{font.ps_name}"
        d = font.descriptor
        descriptor = writer.add_object(generic.DictionaryObject({
            name("/Type"): name("/FontDescriptor"),
            name("/FontName"): name("/" + ps_name),
            name("/Flags"): generic.NumberObject(4),  # symbolic (glyphs by CID)
            name("/FontBBox"): generic.ArrayObject(map(generic.NumberObject, d["bbox"])),
            name("/ItalicAngle"): generic.FloatObject(d["italic_angle"]),
            name("/Ascent"): generic.NumberObject(d["ascent"]),
            name("/Descent"): generic.NumberObject(d["descent"]),
            name("/CapHeight"): generic.NumberObject(d["cap_height"]),
            name("/StemV"): generic.NumberObject(d["stemv"]),
            name("/FontFile2"): font_file,
        }), obj_stream=obj_stream)
        widths = generic.ArrayObject()
        run_start, run = None, []
        for cid, width in sorted(self._glyphs.values()):
            if run and cid != run_start + len(run):
                widths += [generic.NumberObject(run_start), generic.ArrayObject(run)]
                run = []
            if not run:
                run_start = cid
            run.append(generic.NumberObject(width))
        if run:
            widths += [generic.NumberObject(run_start), generic.ArrayObject(run)]
        cid_font = writer.add_object(generic.DictionaryObject({
            name("/Type"): name("/Font"),
            name("/Subtype"): name("/CIDFontType2"),
            name("/BaseFont"): name("/" + ps_name),
            name("/CIDSystemInfo"): generic.DictionaryObject({
                name("/Registry"): generic.pdf_string("Adobe"),
                name("/Ordering"): generic.pdf_string("Identity"),
                name("/Supplement"): generic.NumberObject(0),
            }),
            name("/FontDescriptor"): descriptor,
            name("/CIDToGIDMap"): name("/Identity"),
            name("/W"): widths,
        }), obj_stream=obj_stream)
        type0 = generic.DictionaryObject({
            name("/Type"): name("/Font"),
            name("/Subtype"): name("/Type0"),
            name("/BaseFont"): name(f"/{ps_name}-Identity-H"),
            name("/Encoding"): name("/Identity-H"),
            name("/DescendantFonts"): generic.ArrayObject([cid_font]),
            name("/ToUnicode"): writer.add_object(self._to_unicode()),
        })
        writer.add_object(type0, obj_stream, idnum=self._font_ref.idnum)
        self._write_prepared = True

    def as_resource(self):
        return self._font_ref


@dataclass(frozen=True)
class StampFontFactory(FontEngineFactory):
    """Font engines for the stamp text on a font prepared once per process
    (:class:`StampFontEngine`); pyHanko's ``GlyphAccumulatorFactory`` for a
    font that is not TrueType."""

    font_file: str
    font_size: int = 10

    def create_font_engine(self, writer, obj_stream=None):
        font = prepared_font(self.font_file)
        if font is None:
            from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

            return GlyphAccumulatorFactory(self.font_file, font_size=self.font_size) \
                .create_font_engine(writer, obj_stream)
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return StampFontEngine(writer, font, self.font_size, obj_stream=obj_stream)


#: The QR code's mask pattern (ISO/IEC 18004 §7.8), fixed: every mask
#: decodes alike, and searching the best of the eight (what qrcode does by
#: default) costs ~10 ms of pure Python per stamp, a fifth of a signature.
QR_MASK_PATTERN = 2
#: How many bytes each QR version holds at error correction M (ISO/IEC 18004
#: table 7, byte mode), versions 1 to 10: the version of a verification URL
#: is looked up here instead of qrcode's fitting, which encodes the data
#: once more to measure it (~0.5 ms of pure Python per stamp).
QR_BYTES_AT_M = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213)


class FixedMaskQRStamp(QRStamp):
    """pyHanko's QR stamp with the mask pattern given instead of searched:
    its ``_qr_xobject`` less the branch for a picture inside the code, which
    our stamps never have (pyHanko offers no hook for the mask)."""

    def _qr_xobject(self):
        import qrcode
        from pyhanko.pdf_utils.qr import PdfStreamQRImage
        from pyhanko.pdf_utils.writer import init_xobject_dictionary

        length = len(self.url.encode("utf-8"))
        version = next((v for v, size in enumerate(QR_BYTES_AT_M, 1) if length <= size), None)
        qr = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M,
                           mask_pattern=QR_MASK_PATTERN)
        qr.add_data(self.url)
        qr.make(fit=version is None)  # longer URLs: qrcode finds the version
        command_stream = qr.make_image(image_factory=PdfStreamQRImage).render_command_stream()
        bbox_size = (qr.modules_count + 2 * qr.border) * qr.box_size
        qr_xobj = init_xobject_dictionary(command_stream, bbox_size, bbox_size)
        qr_xobj.compress()
        return self.writer.add_object(qr_xobj), bbox_size


class FixedMaskQRStampStyle(QRStampStyle):
    def create_stamp(self, writer, box, text_params):
        params = dict(text_params)
        url = params.pop("url")  # stamp_style's callers always pass it (prepare_pdf_signer)
        return FixedMaskQRStamp(writer, style=self, url=url, text_params=params, box=box)


def stamp_style(stamp: StampText, font_path: str = DEJAVU_SANS):
    """The pyHanko stamp style for ``stamp`` (QR style when it has a URL)."""
    font = StampFontFactory(rescaled_font_path(font_path), font_size=stamp.font_size)
    box_style = TextBoxStyle(
        font=font, font_size=stamp.font_size, leading=round(stamp.font_size * 1.3)
    )
    common = dict(stamp_text=stamp.text(), text_box_style=box_style, border_width=1)
    if stamp.qr_url:
        return FixedMaskQRStampStyle(**common)
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


class _Writer(IncrementalPdfFileWriter):
    """An incremental writer that finds the last pages from the end.

    pyHanko walks the page tree from its first leaf, reading every page
    dictionary before the one wanted: 13 ms on a 41-page lesson plan, 110 ms
    on 146 pages, for the default last page. A negative index is looked up
    from the end (leaves right to left, ``/Count`` of the subtrees skipped),
    which reads one page for ``-1``. Anything unusual on the way (a broken
    tree, a cycle, a ``/Count`` that does not add up) goes back to pyHanko's
    own walk and its error messages.
    """

    # A callable returning a SHA-256 hash object already fed the input file,
    # computed elsewhere (another thread); see _fill_from_prefix.
    prefix_sha256 = None
    prefix_length = 0

    def add_object(self, obj, obj_stream=None, idnum=None):
        if isinstance(obj, SignatureObject) and self.prefix_sha256 is not None and _FILL_IS_PYHANKOS:
            # an attribute of this one object: pyHanko calls sig_obj.fill(...)
            obj.fill = functools.partial(_fill_from_prefix, obj, self.prev.stream, self.prefix_length,
                                         self.prefix_sha256)
        return super().add_object(obj, obj_stream=obj_stream, idnum=idnum)

    def find_page_for_modification(self, page_ix):
        found = self._page_from_end(page_ix) if page_ix < 0 else None
        if found is None:
            return super().find_page_for_modification(page_ix)
        node_ref, kid_index, kid_ref, resources = found
        kid = kid_ref.get_object()
        if "/Resources" in kid:
            resources = kid.raw_get("/Resources")
        return kid_ref, resources

    def find_page_container(self, page_ix):
        found = self._page_from_end(page_ix) if page_ix < 0 else None
        if found is None:
            return super().find_page_container(page_ix)
        node_ref, kid_index, _kid_ref, resources = found
        return node_ref, kid_index, resources

    def _page_from_end(self, page_ix):
        """``(parent ref, index in its /Kids, page ref, inherited resources)``
        of page ``page_ix`` (< 0), or None to let pyHanko decide."""
        from pyhanko.pdf_utils import generic

        try:
            node_ref = self.root.raw_get("/Pages")
            root = node_ref.get_object()
            count = int(root["/Count"])
            target = count + page_ix
            if not (isinstance(node_ref, generic.IndirectObject) and 0 <= target < count):
                return None
            resources = root.get("/Resources", generic.DictionaryObject())
            end, seen = count, {node_ref.reference}
            while True:
                node = node_ref.get_object()
                if "/Resources" in node:
                    resources = node.raw_get("/Resources")
                kids = node["/Kids"]
                for kid_index in range(len(kids) - 1, -1, -1):
                    kid_ref = kids.raw_get(kid_index)
                    if not isinstance(kid_ref, generic.IndirectObject) \
                            or kid_ref.reference in seen:
                        return None
                    kid = kid_ref.get_object()
                    kind = kid["/Type"]
                    if kind == "/Pages":
                        start = end - int(kid["/Count"])
                        if start <= target < end:
                            seen.add(kid_ref.reference)
                            node_ref = kid_ref
                            break
                        end = start
                    elif kind == "/Page":
                        end -= 1
                        if end == target:
                            return node_ref, kid_index, kid_ref, resources
                    else:
                        return None
                else:
                    return None  # counts do not add up
        except Exception:  # noqa: BLE001 - pyHanko's walk reports it properly
            return None


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


# _fill_from_prefix follows pyHanko 0.38's PdfByteRangeDigest.fill; another
# release signs through its own (a unit test says when the hook is not taken)
_FILL_IS_PYHANKOS = importlib.metadata.version("pyhanko").startswith("0.38.")


def _fill_from_prefix(sig_obj, stream, prefix_length, prefix_sha256, writer, md_algorithm, in_place=False,
                      output=None, chunk_size=None):
    """pyHanko's ``PdfByteRangeDigest.fill`` (0.38), for an in-place
    incremental signature whose input's SHA-256 is already known.

    The signed byte range starts with the whole input file (``stream``'s
    first ``prefix_length`` bytes, which an incremental update never
    changes): its digest goes on from the input's own, and only the update
    is hashed here (3–4 ms less per 5 MB signature; the input is hashed by
    another core anyway, for the stored digests). Any other case takes
    pyHanko's own path. ``check_incremental`` then proves the output starts
    with the input.
    """
    kwargs = {"in_place": in_place, "output": output}
    if chunk_size is not None:
        kwargs["chunk_size"] = chunk_size
    if not in_place or md_algorithm != "sha256" or writer.prev.stream is not stream:
        return (yield from type(sig_obj).fill(sig_obj, writer, md_algorithm, **kwargs))
    writer.digest_aware_write = True
    writer.write_in_place()
    eof = stream.tell()
    sig_start, sig_end = sig_obj.contents.offsets
    if sig_start < prefix_length:  # never for an incremental update
        raise PadesError("The signature would cover less than the earlier revisions")
    sig_obj.byte_range.fill_offsets(stream, sig_start, sig_end, eof)
    digest = prefix_sha256()
    with stream.getbuffer() as buffer:
        digest.update(buffer[prefix_length:sig_start])
        digest.update(buffer[sig_end:eof])
    prepared = PreparedByteRangeDigest(document_digest=digest.digest(), reserved_region_start=sig_start,
                                       reserved_region_end=sig_end)
    cms_data = yield prepared, stream
    yield prepared.fill_with_cms(stream, cms_data)


def prepare_pdf_signer(pdf: bytes, signer, *, field_name: str, stamp: StampText | None,
                       page: int = -1, box=None, timestamper=None):
    """The writer, pyHanko ``PdfSigner`` and appearance parameters for one new
    signature field in ``pdf`` (see :func:`sign_pdf` for the arguments).

    Shared by :func:`async_sign_pdf` and the deferred (device-side) signing
    in ``signing_methods``, so both produce the same field and stamp.
    """
    try:
        writer = _Writer(BytesIO(pdf), strict=False)
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
                         page: int = -1, box=None, timestamper=None, prefix_sha256=None) -> bytes:
    """:func:`sign_pdf` for a running event loop (asynchronous signers such
    as pyHanko's CSC remote signer need one)."""
    writer, pdf_signer, text_params = prepare_pdf_signer(
        pdf, signer, field_name=field_name, stamp=stamp, page=page, box=box,
        timestamper=timestamper,
    )
    writer.prefix_sha256, writer.prefix_length = prefix_sha256, len(pdf)
    reserved = getattr(signer, "bytes_reserved", None)
    if reserved is not None and timestamper is not None:
        reserved += _TIMESTAMP_RESERVE
    # in_place: the update is appended to the writer's own copy of the input
    # (one memcpy) instead of pyHanko copying the input into a new buffer
    # 4 KB at a time (13 ms at 20 MB).
    try:
        out = await pdf_signer.async_sign_pdf(writer, bytes_reserved=reserved, in_place=True,
                                              appearance_text_params=text_params)
    except Exception as e:
        _release(writer)
        if reserved is None or "larger than expected" not in str(e):
            raise
        # Our size guess was too small: let pyHanko estimate (one dry run).
        writer = _Writer(BytesIO(pdf), strict=False)
        writer.prefix_sha256, writer.prefix_length = prefix_sha256, len(pdf)
        out = await pdf_signer.async_sign_pdf(writer, in_place=True,
                                              appearance_text_params=text_params)
    try:
        return check_incremental(pdf, out.getvalue())
    finally:
        _release(writer)


def _release(writer) -> None:
    """Free the buffer under ``writer`` now.

    pyHanko's reader, writer and PDF objects refer to each other: the cycle
    waits for Python's rare full garbage collection, and with it the buffer
    (the whole signed file, shared with the bytes returned): a batch of
    5 MB signatures grew by ~100 MB before a collection. Closing the
    BytesIO drops the buffer at once; the small objects go with the next
    collection.
    """
    stream = getattr(getattr(writer, "prev", None), "stream", None)
    if stream is not None:
        try:
            stream.close()
        except BufferError:  # still exported somewhere: leave it to the GC
            pass


def run_coroutine(coro):
    """``asyncio.run(coro)``, without a hidden cost when the result is large.

    On the main thread ``asyncio.run`` swaps the SIGINT handler and, while
    restoring it, ``signal.getsignal`` formats a ``repr`` of the finished
    main task, result included: for a signed PDF that is the ``repr`` of
    every byte, ~8 ms per MB (40 ms at 5 MB). The result is handed back
    outside the task instead.
    """
    result = []

    async def main():
        result.append(await coro)

    asyncio.run(main())
    return result[0]


def sign_pdf(pdf: bytes, signer, *, field_name: str, stamp: StampText | None,
             page: int = -1, box=None, timestamper=None, prefix_sha256=None) -> bytes:
    """Sign ``pdf`` (PAdES B-B, or B-T with ``timestamper``) incrementally.

    The output starts with the exact input bytes. With ``stamp`` the field is
    visible on ``page`` (default last) in ``box`` (default: the next free
    :func:`stamp_box` slot, counted from the signature fields already there).
    ``prefix_sha256``: a callable returning a new SHA-256 hash object already
    fed exactly ``pdf`` (e.g. computed by another thread); the document
    digest then hashes only the update.
    Runs its own event loop: from a coroutine, await :func:`async_sign_pdf`.
    """
    return run_coroutine(async_sign_pdf(pdf, signer, field_name=field_name, stamp=stamp,
                                        page=page, box=box, timestamper=timestamper,
                                        prefix_sha256=prefix_sha256))


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
