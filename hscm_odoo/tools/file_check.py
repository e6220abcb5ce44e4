"""Upload checks for lesson-plan files (PDF, and DOCX where a school allows Word).

Pure Python, no Odoo import. :func:`check_file` looks at the *content* of an
upload (never at its name) and returns a :class:`Verdict`: accepted, or refused
with a stable machine code and a message for the teacher in English and in
Vietnamese (:data:`MESSAGES`). Hostile files are refused; a file this module
cannot read is refused as "cannot verify" (``unreadable``) rather than
guessed at.

This module trusts nothing but its own limits. Uploads should go through
:mod:`file_sandbox`, which runs the same checks in a separate process with
memory, CPU and wall-clock limits, so that a parser bug, a decompression bomb
or an endless loop cannot hurt an Odoo worker.

Type
    ``%PDF-`` at offset 0 is a PDF; a ZIP holding ``[Content_Types].xml`` and
    ``word/document.xml`` is a DOCX; an OLE2 file is an old ``.doc``
    (``legacy_doc``). Anything else is refused with the list of what is
    accepted. Empty and too large uploads are refused before any parsing.

PDF
    1. pypdf (``strict=False``) reads the cross-reference tables and the
       trailer (not every object: see :class:`_LeanReader`). ``/Encrypt`` in
       the trailer refuses the file.
    2. *Lexical scan (fast path).* Every byte of the file that is not stream
       data, and the inflated contents of every object stream, is searched
       for the PDF names that any risky construct needs (``/JavaScript``,
       ``/JS``, ``/Launch``, ``/SubmitForm``, ``/ImportData``, ``/GoToE``,
       ``/EF``, ``/EmbeddedFiles``, ``/FileAttachment``, ``/XFA``,
       ``/OpenAction``, ``/AA``, ``/RichMedia``, external streams...),
       ``#xx``-escaped names included, and for references to objects the
       cross-reference table does not list. Stream data (images, fonts, page
       contents) is skipped only where the stream dictionary is lexically
       unambiguous and its ``/Length`` ends exactly at ``endstream endobj``;
       anything else is scanned whole. Content streams are not inflated.
    3. *Structural check (deep path)*, only when the scan found something:
       every object (cross-reference table, object streams, and object
       headers in the raw bytes that the table does not list) is parsed with
       pypdf and its dictionaries are checked: JavaScript, Launch,
       SubmitForm, ImportData, GoToE, embedded files, XFA, content read from
       outside the file, an ``/OpenAction`` that is an action other than GoTo
       (a destination array is fine) and additional actions (``/AA``) other
       than GoTo, /Next loops. A name seen only inside a string (a web address
       containing ``/JavaScript``) is no finding.
    4. Compression bombs, from cheap signs only: stacked decompression
       filters, a ratio probe of the first 2 KB of each large Flate stream,
       bounded inflation of non-image Flate streams over 1 MB, absurd image
       sizes.
    5. The page tree is walked with a visited set (a loop, or a page listed
       twice, is ``unreadable``) and the pages are counted against
       ``max_pages``. Scanned, image-only PDFs are fine.

    Every walk keeps a visited set and a cap on the objects it visits, so
    reference loops and huge trees end.

DOCX
    ZIP limits are checked from the central directory before anything is
    inflated (entries, total and per-member size, compression ratio, deflate
    or stored only). Refused: macros, ActiveX, OLE objects and imported
    foreign content (altChunk), relationships to outside targets other than
    plain hyperlinks, any DTD. XML is parsed with the standard library only
    after the DTD check.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import contextvars
import hashlib
import io
import logging
import re
import threading
import zipfile
import zlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    read_object,
)

try:  # pypdf >= 6
    from pypdf import apply_configuration as _pypdf_configuration
except ImportError:  # pragma: no cover - older pypdf
    _pypdf_configuration = None

KIND_PDF = "pdf"
KIND_DOCX = "docx"

DEFAULT_MAX_SIZE = 20 * 1024 * 1024
DEFAULT_MAX_PAGES = 200


@dataclass(frozen=True)
class Verdict:
    """The outcome of one upload check."""

    ok: bool
    code: str  # 'ok' or a stable refusal code (a key of MESSAGES)
    message_en: str
    message_vi: str
    kind: str | None  # 'pdf' | 'docx' | None
    pages: int | None
    sha256: str | None  # hex digest of the uploaded bytes
    size: int


# ---------------------------------------------------------------------------
# Messages: code -> (English, Vietnamese). Placeholders are filled from the
# policy: %(max_size_mb)s, %(max_pages)d, %(accepted_en)s, %(accepted_vi)s,
# %(save_as_en)s, %(save_as_vi)s.
# ---------------------------------------------------------------------------
MESSAGES = {
    "ok": (
        "The file passed the checks.",
        "Tệp đã được kiểm tra và hợp lệ.",
    ),
    "empty": (
        "The file is empty. Choose the lesson-plan file again and upload it.",
        "Tệp rỗng, không có nội dung. Thầy/cô vui lòng chọn lại tệp kế hoạch bài dạy và tải lên.",
    ),
    "too_large": (
        "The file is larger than %(max_size_mb)s MB. Reduce its size (for example compress the "
        "pictures, or save the PDF at a smaller size) and upload it again.",
        "Tệp lớn hơn %(max_size_mb)s MB. Thầy/cô vui lòng giảm dung lượng tệp (ví dụ: nén hình ảnh "
        "hoặc lưu PDF ở chế độ dung lượng nhỏ) rồi tải lên lại.",
    ),
    "not_pdf": (
        "This file is not a PDF document. Accepted: %(accepted_en)s. Open the lesson plan and "
        "save or export it as PDF, then upload the PDF.",
        "Tệp này không phải là tài liệu PDF. Hệ thống chỉ nhận: %(accepted_vi)s. Thầy/cô vui lòng "
        "mở kế hoạch bài dạy, lưu (xuất) thành tệp PDF rồi tải tệp PDF lên.",
    ),
    "not_docx": (
        "This file is not a valid Word document (.docx). Open it in Word and save it again as "
        "%(save_as_en)s, then upload it.",
        "Tệp này không phải là tài liệu Word (.docx) hợp lệ. Thầy/cô vui lòng mở tệp bằng Word, "
        "lưu lại thành %(save_as_vi)s rồi tải lên.",
    ),
    "format_not_allowed": (
        "This type of file is not accepted here. Accepted: %(accepted_en)s. Save the lesson plan "
        "as PDF and upload it again.",
        "Loại tệp này không được chấp nhận. Hệ thống chỉ nhận: %(accepted_vi)s. Thầy/cô vui lòng "
        "lưu kế hoạch bài dạy thành tệp PDF rồi tải lên lại.",
    ),
    "legacy_doc": (
        "This is an old-format Word file (.doc, Word 97-2003) or a password-protected Office "
        "file, which cannot be checked. Open it in Word, use Save As and choose %(save_as_en)s, "
        "then upload the new file.",
        "Đây là tệp Word định dạng cũ (.doc, Word 97-2003) hoặc tệp Office có đặt mật khẩu nên "
        "không thể kiểm tra. Thầy/cô vui lòng mở tệp bằng Word, chọn Lưu thành (Save As) "
        "%(save_as_vi)s rồi tải tệp mới lên.",
    ),
    "unreadable": (
        "The file could not be read, so it cannot be verified (it may be damaged or incomplete). "
        "Open it, save or print it again as PDF, and upload the new file.",
        "Không đọc được tệp nên không thể kiểm tra (tệp có thể bị hỏng hoặc không đầy đủ). "
        "Thầy/cô vui lòng mở tệp, lưu lại hoặc in lại thành PDF rồi tải tệp mới lên.",
    ),
    "encrypted": (
        "The PDF is password-protected. Save it without a password and upload it again.",
        "Tệp PDF đang được đặt mật khẩu. Thầy/cô vui lòng lưu lại tệp không đặt mật khẩu rồi tải "
        "lên lại.",
    ),
    "javascript": (
        "The PDF contains JavaScript code, which is not allowed. Print it again to a plain PDF "
        "(for example with \"Microsoft Print to PDF\") and upload the new file.",
        "Tệp PDF có chứa mã JavaScript, không được phép tải lên. Thầy/cô vui lòng in lại thành tệp "
        "PDF thông thường (ví dụ: dùng “Microsoft Print to PDF”) rồi tải tệp mới lên.",
    ),
    "launch_action": (
        "The PDF contains a command that starts a program or opens a file on the computer, which "
        "is not allowed. Print it again to PDF and upload the new file.",
        "Tệp PDF có chứa lệnh khởi chạy chương trình hoặc mở tệp trên máy tính, không được phép. "
        "Thầy/cô vui lòng in lại thành tệp PDF rồi tải tệp mới lên.",
    ),
    "submit_form": (
        "The PDF contains a form that sends its data to an outside address, which is not "
        "allowed. Print it again to PDF and upload the new file.",
        "Tệp PDF có biểu mẫu tự gửi dữ liệu ra địa chỉ bên ngoài, không được phép. Thầy/cô vui "
        "lòng in lại thành tệp PDF rồi tải tệp mới lên.",
    ),
    "import_data": (
        "The PDF contains a command that imports data from another file, which is not allowed. "
        "Print it again to PDF and upload the new file.",
        "Tệp PDF có chứa lệnh nhập dữ liệu từ tệp khác, không được phép. Thầy/cô vui lòng in lại "
        "thành tệp PDF rồi tải tệp mới lên.",
    ),
    "embedded_file": (
        "The PDF contains attached or embedded files, which are not allowed. Remove the "
        "attachments (or print the document again to PDF) and upload it again.",
        "Tệp PDF có đính kèm hoặc nhúng tệp khác bên trong, không được phép. Thầy/cô vui lòng gỡ "
        "các tệp đính kèm (hoặc in lại tài liệu thành PDF) rồi tải lên lại.",
    ),
    "external_content": (
        "The PDF loads content from outside the file (another file on the computer or an "
        "internet address) when it is displayed, which is not allowed. Print it again to PDF "
        "and upload the new file.",
        "Tệp PDF tải nội dung từ bên ngoài tệp (một tệp khác trên máy tính hoặc một địa chỉ "
        "internet) khi hiển thị, không được phép. Thầy/cô vui lòng in lại thành tệp PDF rồi tải "
        "tệp mới lên.",
    ),
    "compression_bomb": (
        "The PDF contains data compressed in an abnormal way (a \"compression bomb\") that can "
        "freeze the computers that open it. Print it again to PDF and upload the new file.",
        "Tệp PDF chứa dữ liệu nén bất thường (“bom nén”) có thể làm treo máy tính khi mở. "
        "Thầy/cô vui lòng in lại thành tệp PDF rồi tải tệp mới lên.",
    ),
    "xfa": (
        "The PDF is a dynamic XFA form, which cannot be checked or displayed reliably. Print it "
        "to a normal PDF and upload the new file.",
        "Tệp PDF là biểu mẫu động XFA, không thể kiểm tra và hiển thị ổn định. Thầy/cô vui lòng "
        "in ra thành tệp PDF thông thường rồi tải tệp mới lên.",
    ),
    "open_action": (
        "The PDF runs an action as soon as it is opened (for example opening a web address or "
        "another file), which is not allowed. Print it again to PDF and upload the new file.",
        "Tệp PDF tự động thực hiện thao tác ngay khi được mở (ví dụ: mở một địa chỉ web hoặc một "
        "tệp khác), không được phép. Thầy/cô vui lòng in lại thành tệp PDF rồi tải tệp mới lên.",
    ),
    "auto_action": (
        "The PDF contains actions that run by themselves (when a page is opened or closed, when "
        "the document is printed...), which is not allowed. Print it again to PDF and upload the "
        "new file.",
        "Tệp PDF có các thao tác tự động chạy (khi mở hoặc đóng trang, khi in tài liệu...), không "
        "được phép. Thầy/cô vui lòng in lại thành tệp PDF rồi tải tệp mới lên.",
    ),
    "too_many_pages": (
        "The PDF has more than %(max_pages)d pages, the limit for one upload. Split it into "
        "several files and upload them one by one.",
        "Tệp PDF có nhiều hơn %(max_pages)d trang, vượt giới hạn cho một lần tải lên. Thầy/cô vui "
        "lòng tách thành nhiều tệp nhỏ hơn rồi tải lên từng tệp.",
    ),
    "no_pages": (
        "The PDF has no pages. Check that this is the right file, save it again as PDF and "
        "upload it.",
        "Tệp PDF không có trang nào. Thầy/cô vui lòng kiểm tra lại tệp, lưu lại thành PDF rồi "
        "tải lên.",
    ),
    "too_complex": (
        "The file is too complex to be checked. Save or print it again as PDF and upload the new "
        "file.",
        "Tệp quá phức tạp nên không thể kiểm tra. Thầy/cô vui lòng lưu lại hoặc in lại thành tệp "
        "PDF rồi tải tệp mới lên.",
    ),
    "zip_bomb": (
        "The Word file is packed abnormally (its contents would expand to an excessive size), so "
        "it cannot be checked. Open it in Word and save it again as %(save_as_en)s, then upload "
        "it.",
        "Tệp Word được nén bất thường (nội dung khi giải nén quá lớn) nên không thể kiểm tra. "
        "Thầy/cô vui lòng mở tệp bằng Word, lưu lại thành %(save_as_vi)s rồi tải lên.",
    ),
    "docx_macro": (
        "The Word file contains macros, which are not allowed. Save it as a Word Document "
        "(.docx) without macros, or as PDF, and upload it again.",
        "Tệp Word có chứa macro, không được phép. Thầy/cô vui lòng lưu lại thành Word Document "
        "(.docx) không có macro, hoặc lưu thành PDF, rồi tải lên lại.",
    ),
    "docx_activex": (
        "The Word file contains ActiveX controls, which are not allowed. Remove them or save the "
        "document as PDF, and upload it again.",
        "Tệp Word có chứa điều khiển ActiveX, không được phép. Thầy/cô vui lòng xoá các điều "
        "khiển đó hoặc lưu tài liệu thành PDF rồi tải lên lại.",
    ),
    "docx_ole": (
        "The Word file contains embedded objects (OLE objects or embedded documents), which are "
        "not allowed. Save the document as PDF and upload it again.",
        "Tệp Word có chứa đối tượng nhúng (đối tượng OLE hoặc tài liệu nhúng), không được phép. "
        "Thầy/cô vui lòng lưu tài liệu thành PDF rồi tải lên lại.",
    ),
    "docx_external_link": (
        "The Word file loads content from an outside source (for example an external template "
        "or a linked object), which is not allowed. Save the document as PDF and upload it "
        "again.",
        "Tệp Word tải nội dung từ nguồn bên ngoài (ví dụ: mẫu hoặc đối tượng liên kết bên "
        "ngoài), không được phép. Thầy/cô vui lòng lưu tài liệu thành PDF rồi tải lên lại.",
    ),
    "docx_dtd": (
        "The Word file contains unusual XML declarations (DTD), which are not accepted. Open it "
        "in Word, save it again as %(save_as_en)s, and upload it.",
        "Tệp Word có khai báo XML bất thường (DTD) nên không được chấp nhận. Thầy/cô vui lòng "
        "mở tệp bằng Word, lưu lại thành %(save_as_vi)s rồi tải lên.",
    ),
    "timeout": (
        "The file is too complex to be checked in time. Save or print it again as PDF and upload "
        "the new file.",
        "Tệp quá phức tạp, không thể kiểm tra kịp thời. Thầy/cô vui lòng lưu lại hoặc in lại "
        "thành tệp PDF rồi tải tệp mới lên.",
    ),
    "crashed": (
        "The file could not be checked: the checker stopped while reading it. Save or print it "
        "again as PDF and upload the new file.",
        "Không thể kiểm tra tệp: trình kiểm tra bị dừng khi đọc tệp. Thầy/cô vui lòng lưu lại "
        "hoặc in lại thành tệp PDF rồi tải tệp mới lên.",
    ),
}

# When a PDF has several problems, the verdict names the most serious one.
PDF_FINDING_PRIORITY = (
    "javascript",
    "launch_action",
    "submit_form",
    "import_data",
    "embedded_file",
    "external_content",
    "xfa",
    "open_action",
    "auto_action",
)

_FORMAT_NAMES = {
    KIND_PDF: ("PDF (.pdf)", "PDF (.pdf)"),
    KIND_DOCX: ("Word (.docx)", "Word (.docx)"),
}


def policy_params(allowed_formats, max_size, max_pages):
    """The values the messages' placeholders take for this policy."""
    allowed = [f for f in (KIND_PDF, KIND_DOCX) if f in allowed_formats] or [KIND_PDF]
    accepted_en = " or ".join(_FORMAT_NAMES[f][0] for f in allowed)
    accepted_vi = " hoặc ".join(_FORMAT_NAMES[f][1] for f in allowed)
    if KIND_DOCX in allowed:
        save_as = ("PDF or Word Document (.docx)", "PDF hoặc Word Document (.docx)")
    else:
        save_as = ("PDF", "PDF")
    mb = max_size / (1024 * 1024)
    return {
        "max_size_mb": ("%d" % mb) if mb == int(mb) else ("%.1f" % mb),
        "max_pages": int(max_pages),
        "accepted_en": accepted_en,
        "accepted_vi": accepted_vi,
        "save_as_en": save_as[0],
        "save_as_vi": save_as[1],
    }


def make_verdict(code, *, kind=None, pages=None, sha256=None, size=0, params=None):
    """Build a :class:`Verdict` for ``code`` with its two messages filled in."""
    en, vi = MESSAGES[code]
    params = params or policy_params((KIND_PDF,), DEFAULT_MAX_SIZE, DEFAULT_MAX_PAGES)
    return Verdict(
        ok=code == "ok",
        code=code,
        message_en=en % params,
        message_vi=vi % params,
        kind=kind,
        pages=pages,
        sha256=sha256,
        size=size,
    )


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------
_SHA_THREAD_MIN = 1024 * 1024  # hash big uploads on a helper thread (hashlib drops the GIL)


class _Digest:
    """SHA-256 of the upload, computed once, in parallel with the checks when large."""

    def __init__(self, data):
        self._value = None
        self._thread = None
        if len(data) >= _SHA_THREAD_MIN:
            self._thread = threading.Thread(target=self._run, args=(data,), daemon=True)
            self._thread.start()
        else:
            self._run(data)

    def _run(self, data):
        self._value = hashlib.sha256(data).hexdigest()

    def result(self):
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self._value


def check_file(
    data: bytes,
    filename: str,
    *,
    allowed_formats=(KIND_PDF,),
    max_size=DEFAULT_MAX_SIZE,
    max_pages=DEFAULT_MAX_PAGES,
) -> Verdict:
    """Check one upload in this process and return its :class:`Verdict`.

    ``allowed_formats`` lists the accepted kinds (``"pdf"``, ``"docx"``);
    ``max_size`` is in bytes. Never raises for a hostile file: the worst is a
    refusal. Prefer :meth:`file_sandbox.SandboxedChecker.check` for uploads.
    """
    data = bytes(data) if not isinstance(data, bytes) else data
    digest = _Digest(data)
    try:
        return run_checks(
            data, filename, allowed_formats=allowed_formats, max_size=max_size,
            max_pages=max_pages, sha256=digest.result,
        )
    except MemoryError:
        params = policy_params(allowed_formats, max_size, max_pages)
        return make_verdict("too_complex", sha256=digest.result(), size=len(data), params=params)


def precheck(data, *, allowed_formats=(KIND_PDF,), max_size=DEFAULT_MAX_SIZE,
             max_pages=DEFAULT_MAX_PAGES, sha256=None):
    """The checks that need no parsing (empty, too large): a Verdict, or None to go on."""
    params = policy_params(allowed_formats, max_size, max_pages)
    if not data:
        return make_verdict("empty", sha256=_call(sha256), size=0, params=params)
    if len(data) > max_size:
        return make_verdict("too_large", sha256=_call(sha256), size=len(data), params=params)
    return None


def _call(value):
    return value() if callable(value) else value


def run_checks(data, filename, *, allowed_formats=(KIND_PDF,), max_size=DEFAULT_MAX_SIZE,
               max_pages=DEFAULT_MAX_PAGES, sha256=None):
    """The checks themselves; ``sha256`` is a digest, a callable giving it, or None.

    :func:`check_file` is the public entry point; the sandbox child calls this
    one with ``sha256=None`` because the parent hashes the bytes meanwhile.
    MemoryError is not caught here.
    """
    allowed_formats = tuple(allowed_formats or (KIND_PDF,))
    params = policy_params(allowed_formats, max_size, max_pages)
    size = len(data)
    early = precheck(data, allowed_formats=allowed_formats, max_size=max_size,
                     max_pages=max_pages, sha256=sha256)
    if early is not None:
        return early

    def verdict(code, kind=None, pages=None):
        return make_verdict(code, kind=kind, pages=pages, sha256=_call(sha256), size=size,
                            params=params)

    head = data[:8]
    name = (filename or "").lower()
    if head.startswith(b"%PDF-"):
        if KIND_PDF not in allowed_formats:
            return verdict("format_not_allowed")
        with _quiet_pypdf():
            code, pages = _check_pdf(data, max_pages)
        return verdict(code, KIND_PDF, pages)
    if head.startswith(b"PK\x03\x04"):
        if KIND_DOCX not in allowed_formats:
            return verdict("format_not_allowed")
        try:
            code = _check_docx(data)
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - whatever zipfile/expat raise: unverifiable
            code = "unreadable"
        return verdict(code, KIND_DOCX if code != "not_docx" else None)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return verdict("legacy_doc")
    if KIND_DOCX in allowed_formats and name.endswith((".docx", ".docm", ".dotx")):
        return verdict("not_docx")
    if KIND_PDF in allowed_formats and (name.endswith(".pdf") or KIND_DOCX not in allowed_formats):
        return verdict("not_pdf")
    return verdict("format_not_allowed")


# pypdf logs every oddity of a damaged file at WARNING level. A refused upload
# is reported through its verdict, so those lines are held back while a check
# runs (reference-counted: checks may run on several threads).
_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved = None


@contextlib.contextmanager
def _quiet_pypdf():
    global _quiet_depth, _quiet_saved
    logger = logging.getLogger("pypdf")
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved = logger.level
            logger.setLevel(logging.ERROR + 1)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                logger.setLevel(_quiet_saved)


# A dictionary with the same key twice is read differently by different
# viewers (pypdf keeps the first value, pdf.js the last): in a file that holds
# risky names that is a way to show the checker one action and a viewer
# another. pypdf reports each one with a warning; while the structural check
# runs, those warnings are collected (per thread/context) and swallowed.
_DUPLICATE_KEY_LOGGER = "pypdf.generic._data_structures"
_duplicate_keys = contextvars.ContextVar("hscm_pdf_duplicate_keys", default=None)
_watch_lock = threading.Lock()
_watch_depth = 0
_watch_saved = None


class _DuplicateKeyFilter(logging.Filter):
    def filter(self, record):
        found = _duplicate_keys.get()
        if found is not None and str(record.msg).startswith("Multiple definitions in dictionary"):
            found.append(record.args)
        return False  # never printed: the verdict says what matters


_DUPLICATE_KEY_FILTER = _DuplicateKeyFilter()


@contextlib.contextmanager
def _watch_duplicate_keys():
    global _watch_depth, _watch_saved
    logger = logging.getLogger(_DUPLICATE_KEY_LOGGER)
    found = []
    token = _duplicate_keys.set(found)
    with _watch_lock:
        if _watch_depth == 0:
            _watch_saved = logger.level
            logger.addFilter(_DUPLICATE_KEY_FILTER)
            logger.setLevel(logging.WARNING)
        _watch_depth += 1
    try:
        yield found
    finally:
        _duplicate_keys.reset(token)
        with _watch_lock:
            _watch_depth -= 1
            if _watch_depth == 0:
                logger.setLevel(_watch_saved)
                logger.removeFilter(_DUPLICATE_KEY_FILTER)


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------
class _Refuse(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class _NoBufferIO(io.BytesIO):
    """BytesIO without ``getbuffer``: pypdf then measures the stream with seek/tell
    instead of un-sharing (copying) the whole upload."""

    @property
    def getbuffer(self):  # noqa: D401 - hide the method from hasattr()
        raise AttributeError("getbuffer")


class _LeanReader(PdfReader):
    """PdfReader that skips the eager header check of every object at open.

    pypdf (non-strict) seeks to every cross-reference entry when opening a file
    to drop entries that do not point at an object header; for a 5 MB file
    that is most of the opening time. Objects are read lazily here, and
    pypdf's ``get_object`` repairs a wrong entry when one is actually used.
    Encryption is not set up either: an encrypted file is refused anyway.
    """

    def read(self, stream):
        needed = ("_basic_validation", "_find_eof_marker", "_find_startxref_pos",
                  "_get_xref_issues", "_read_xref_tables_and_trailers")
        if not all(hasattr(self, n) for n in needed):  # pragma: no cover - other pypdf
            return super().read(stream)
        self._basic_validation(stream)
        self._find_eof_marker(stream)
        startxref = self._find_startxref_pos(stream)
        if startxref < 0:
            startxref = 0
        self._startxref = startxref
        issues = self._get_xref_issues(stream, startxref)
        self._read_xref_tables_and_trailers(stream, startxref, issues)
        if self.xref_index:  # table not zero-indexed: let pypdf fix it its way
            return super().read(stream)
        return None

    def _handle_encryption(self, password):
        return None


_WS = b"\x00\t\n\x0c\r "
_WSC = rb"[\x00\t\n\x0c\r ]"
_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
_NAME_END = rb"(?!" + _REGULAR + rb")"

# The names any risky construct needs. The deep path's rules fire only on
# dictionaries holding one of these as a key or a value (ObjStm is there to
# spot object streams that the cross-reference table does not list).
_RISKY_NAMES = (
    "JavaScript", "JS", "OnInstantiate", "EF", "EmbeddedFiles", "EmbeddedFile", "XFA",
    "Launch", "SubmitForm", "ImportData", "GoToE", "RichMediaExecute", "RichMedia",
    "FileAttachment", "OpenAction", "AA", "ObjStm",
    # content fetched from outside the file when a page is displayed
    "F", "FFilter", "FDecodeParms", "OPI", "Ref", "RV", "RC",
)
_SCAN_RE = re.compile(
    rb"/("
    + b"|".join(n.encode() for n in sorted(_RISKY_NAMES, key=len, reverse=True))
    + rb")" + _NAME_END
)
# names written with #xx escapes, decoded and compared (only where a '#' occurs)
_HASH_NAME_RE = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%#]*#" + _REGULAR + rb"*)")
_RISKY_SET = frozenset(n.encode() for n in _RISKY_NAMES)
_HEX_ESCAPE_RE = re.compile(rb"#([0-9A-Fa-f]{2})")
# /F is everywhere as a number (annotation flags, "/F 4"); only a string,
# dictionary or reference value can be a file specification.
_F_VALUE_RE = re.compile(_WSC + rb"*(?:[(<]|\d{1,10}" + _WSC + rb"+\d{1,5}" + _WSC + rb"+R)")
_REF_RE = re.compile(
    rb"(?<![0-9.+\-])(\d{1,10})" + _WSC + rb"+(\d{1,5})" + _WSC + rb"+R" + _NAME_END
)
# The same, run over the *reversed* bytes: a pattern that starts with the
# literal "R" is ten times faster than one that starts with a digit. It finds
# a superset of the references (it does not check what follows the R);
# candidates not in the cross-reference table are confirmed with _REF_RE.
_REVERSED_REF_RE = re.compile(rb"R" + _WSC + rb"+(\d{1,5})" + _WSC + rb"+(\d{1,10})(?![0-9])")
_NUM_GEN = rb"(\d{1,10})" + _WSC + rb"+(\d{1,5})" + _WSC + rb"+"  # "12 0 " of "12 0 obj"/"12 0 R"
_OBJ_HDR_RE = re.compile(_WSC + rb"*" + _NUM_GEN + rb"obj" + _NAME_END)
_ANY_OBJ_RE = re.compile(rb"(?<![0-9])" + _NUM_GEN + rb"obj" + _NAME_END)
_LENGTH_RE = re.compile(
    rb"/Length" + _WSC + rb"+(\d{1,12})(?:" + _WSC + rb"+(\d{1,5})" + _WSC + rb"+R)?" + _NAME_END
)
_LENGTH_KEY_RE = re.compile(rb"/Length" + _NAME_END)
_TAIL_RE = re.compile(_WSC + rb"*endstream" + _WSC + rb"*endobj" + _WSC + rb"*")
_NUMBER_OBJ_RE = re.compile(_WSC + rb"*\d{1,10}" + _WSC + rb"+\d{1,5}" + _WSC + rb"+obj"
                            + _WSC + rb"*(\d{1,12})" + _WSC + rb"*endobj")
_OPENACTION_TAIL_RE = re.compile(_WSC + rb"*(?:(\[)|" + _NUM_GEN + rb"R)")
_ARRAY_START_RE = re.compile(_WSC + rb"*\[")
_ARRAY_OBJ_RE = re.compile(_WSC + rb"*" + _NUM_GEN + rb"obj" + _WSC + rb"*\[")
# Compression bombs (cheap signs only; content streams are not inflated).
_FILTER_ARRAY_RE = re.compile(rb"/Filter" + _WSC + rb"*\[([^\]]{0,1024})\]")
_INFLATING_FILTERS = frozenset(
    (b"FlateDecode", b"Fl", b"LZWDecode", b"LZW", b"RunLengthDecode", b"RL", b"BrotliDecode")
)
_FILTER_NAME_RE = re.compile(rb"/(" + _REGULAR + rb"+)")
_FILTER_SINGLE_RE = re.compile(rb"/Filter" + _WSC + rb"*/(" + _REGULAR + rb"+)")
# filter chains probed for bombs: Flate, alone or behind a text encoding
_PROBED_CHAINS = {
    (b"FlateDecode",): None, (b"Fl",): None,
    (b"ASCIIHexDecode", b"FlateDecode"): "hex", (b"AHx", b"Fl"): "hex",
    (b"ASCIIHexDecode", b"Fl"): "hex", (b"AHx", b"FlateDecode"): "hex",
    (b"ASCII85Decode", b"FlateDecode"): "a85", (b"A85", b"Fl"): "a85",
    (b"ASCII85Decode", b"Fl"): "a85", (b"A85", b"FlateDecode"): "a85",
}
_IMAGE_RE = re.compile(rb"/Subtype" + _WSC + rb"*/Image" + _NAME_END)
_WIDTH_RE = re.compile(rb"/Width" + _WSC + rb"+(\d{1,12})" + _NAME_END)
_HEIGHT_RE = re.compile(rb"/Height" + _WSC + rb"+(\d{1,12})" + _NAME_END)
_PROBE_INPUT = 2048  # compressed bytes inflated at the start of each large stream...
_PROBE_OUTPUT = 256 * 1024  # ...a bomb fills this (ratio > 128), page content does not
_FULL_INFLATE_FROM = 1024 * 1024  # non-image streams this large are inflated with caps
_MAX_RATIO = 100
_MAX_INFLATED = 256 * 1024 * 1024
_MAX_IMAGE_PIXELS = 400_000_000
_TYPE_PAGE_RE = re.compile(rb"/Type" + _WSC + rb"*/(Pages|Page)" + _NAME_END)
_KIDS_RE = re.compile(rb"/Kids" + _WSC + rb"*\[([^\]]*)\]")
_KIDS_KEY_RE = re.compile(rb"/Kids" + _NAME_END)
_REFS_ONLY_RE = re.compile(rb"(?:" + _WSC + rb"*" + _NUM_GEN + rb"R)*" + _WSC + rb"*")
_REF_PAIR_RE = re.compile(_NUM_GEN + rb"R")

_RANGE_SEPARATOR = b"\n%\n"
_BIG_SEGMENT = 4096  # smaller objects are scanned whole, stream data included
_DICT_SCAN_MAX = 65536  # a stream dictionary longer than this is scanned whole
_MAX_OBJECTS = 200_000  # objects parsed by the deep path
_MAX_NODES = 2_000_000  # dictionaries/arrays walked by the deep path
_MAX_HIDDEN = 20_000  # object headers outside the xref table parsed by the deep path
_MAX_TREE_NODES = 100_000  # page-tree nodes
_MAX_RAW_SEARCHES = 64  # references to unlisted objects that pypdf may search the file for

_PYPDF_LIMITS = {
    "disable_legacy_handling": True,
    "zlib_maximum_output_length": 64_000_000,
    "lzw_maximum_output_length": 64_000_000,
    "run_length_maximum_output_length": 64_000_000,
}

# /S values refused wherever they appear, and the code they get.
_ACTION_CODES = {
    "/JavaScript": "javascript",
    "/RichMediaExecute": "javascript",
    "/Launch": "launch_action",
    "/SubmitForm": "submit_form",
    "/ImportData": "import_data",
    "/GoToE": "embedded_file",
}
# Actions allowed to run by themselves (/OpenAction, /AA): moving inside the document.
_AUTO_ALLOWED = frozenset({"/GoTo"})


def _pypdf_config():
    if _pypdf_configuration is None:  # pragma: no cover
        return contextlib.nullcontext()
    try:
        return _pypdf_configuration(**_PYPDF_LIMITS)
    except TypeError:  # pragma: no cover - a field unknown to this pypdf
        return contextlib.nullcontext()


def _check_pdf(data, max_pages):
    """Return (code, pages) for PDF bytes."""
    check = None
    try:
        with _pypdf_config():
            check = _PdfCheck(data, max_pages)
            return check.run()
    except _Refuse as refusal:
        return refusal.code, None
    except LimitReachedError:
        return "too_complex", None
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - whatever pypdf raises, the file is unverifiable
        return "unreadable", None
    finally:
        if check is not None:
            check.release()


class _PdfCheck:
    def __init__(self, data, max_pages):
        self.data = data
        self.size = len(data)
        self.max_pages = max_pages
        self.reader = _LeanReader(_NoBufferIO(data), strict=False)
        self._objstm_cache = {}
        self.bomb = False
        self._raw_searches = 0

    def release(self):
        """Drop pypdf's object cache (a web of reference cycles) right away."""
        try:
            self.reader.close()
        except Exception:  # noqa: BLE001
            pass
        self._objstm_cache = {}

    # -- entry -------------------------------------------------------------
    def run(self):
        reader = self.reader
        if "/Encrypt" in reader.trailer:
            return "encrypted", None
        self._index_objects()
        suspicious = self._lexical_scan()
        if suspicious:
            with _watch_duplicate_keys() as duplicates:
                findings = self._deep_findings()
            for code in PDF_FINDING_PRIORITY:
                if code in findings:
                    return code, None
            if duplicates:
                return "unreadable", None  # ambiguous: viewers would not read what we read
        if self.bomb:
            return "compression_bomb", None
        return self._count_pages()

    # -- object index ------------------------------------------------------
    def _index_objects(self):
        """Offsets of the objects listed in the cross-reference table."""
        reader, size = self.reader, self.size
        loc = {}
        for gen, entries in reader.xref.items():
            if not isinstance(gen, int):
                continue
            for num, offset in entries.items():
                if isinstance(offset, int) and 0 <= offset < size:
                    loc[(num, gen)] = offset
        starts = set(loc.values())
        sx = getattr(reader, "_startxref", 0)
        if isinstance(sx, int) and 0 < sx < size and _OBJ_HDR_RE.match(self.data, sx):
            starts.add(sx)  # a cross-reference stream need not list itself
        self.loc = loc
        self.starts = sorted(starts)
        self.objstm_numbers = {
            stm for stm, _idx in reader.xref_objStm.values() if isinstance(stm, int)
        }

    def _segment_end(self, offset):
        i = bisect.bisect_right(self.starts, offset)
        return self.starts[i] if i < len(self.starts) else self.size

    def _known(self, num, gen):
        reader = self.reader
        entries = reader.xref.get(gen)
        if entries is not None and num in entries:
            return True
        return gen == 0 and num in reader.xref_objStm

    # -- lexical scan ------------------------------------------------------
    def _scan_ranges(self):
        data, size, starts = self.data, self.size, self.starts
        if not starts:
            return [(0, size)]
        ranges = [(0, starts[0])]
        bounds = starts[1:] + [size]
        for s, e in zip(starts, bounds):
            if e - s <= _BIG_SEGMENT:
                ranges.append((s, e))
                continue
            span = self._stream_data_span(s, e)
            if span is None:
                ranges.append((s, e))
                if not self.bomb and data.find(b"stream", s, e) >= 0:
                    self._parsed_bomb_check(s, e)
                continue
            ds, de, head = span
            if not self.bomb:
                self._lexical_bomb_check(head, ds, de)
            ranges.append((s, ds))
            if not _TAIL_RE.fullmatch(data, de, e):
                ranges.append((de, e))
        merged = []
        for a, b in ranges:
            if b <= a:
                continue
            if merged and merged[-1][1] == a:
                merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        return merged

    def _stream_data_span(self, s, e):
        """(start, end) of the stream data of the object at ``s``, or None.

        Only when the dictionary is lexically unambiguous (no strings, comments
        or hex strings, angle brackets balanced, a single direct or simple
        indirect /Length) and the data ends exactly where /Length says.
        """
        data = self.data
        m = _OBJ_HDR_RE.match(data, s, e)
        if m is None:
            return None
        p = m.end()
        k = data.find(b"stream", p, min(e, p + _DICT_SCAN_MAX))
        if k < 0:
            return None
        head = data[p:k]
        if b"(" in head or b")" in head or b"%" in head or b"\\" in head or b"obj" in head:
            return None
        dl, dr = head.count(b"<<"), head.count(b">>")
        if dl == 0 or dl != dr or head.count(b"<") != 2 * dl or head.count(b">") != 2 * dr:
            return None
        stripped = head.strip(_WS)
        if not (stripped.startswith(b"<<") and stripped.endswith(b">>")):
            return None
        j = k + 6
        while j < e and data[j] == 0x20:
            j += 1
        if data[j:j + 2] == b"\r\n":
            ds = j + 2
        elif data[j:j + 1] in (b"\n", b"\r"):
            ds = j + 1
        else:
            return None
        if len(_LENGTH_KEY_RE.findall(head)) != 1:
            return None
        lm = _LENGTH_RE.search(head)
        if lm is None:
            return None
        if lm.group(2) is None:
            length = int(lm.group(1))
        else:
            length = self._lexical_int(int(lm.group(1)), int(lm.group(2)))
            if length is None:
                return None
        de = ds + length
        if length < 0 or de > e:
            return None
        return ds, de, head

    # -- compression bombs ---------------------------------------------------
    def _lexical_bomb_check(self, head, ds, de):
        if _IMAGE_RE.search(head):
            w, h = _WIDTH_RE.search(head), _HEIGHT_RE.search(head)
            if w and h and int(w.group(1)) * int(h.group(1)) > _MAX_IMAGE_PIXELS:
                self.bomb = True
            return  # a decoder stops at width x height: flat images compress very well
        chain = _FILTER_ARRAY_RE.search(head)
        if chain is not None:
            names = tuple(_FILTER_NAME_RE.findall(chain.group(1)))
        else:
            single = _FILTER_SINGLE_RE.search(head)
            names = (single.group(1),) if single else ()
        if names in _PROBED_CHAINS:
            self.bomb = self._inflates_abnormally(self.data, ds, de, _PROBED_CHAINS[names])

    def _parsed_bomb_check(self, s, e):
        """The same for a stream whose dictionary is not lexically simple (pypdf parses it)."""
        m = _OBJ_HDR_RE.match(self.data, s, e)
        if m is None:
            return
        key = (int(m.group(1)), int(m.group(2)))
        if self.loc.get(key) != s:
            return
        try:
            obj = self.reader.get_object(IndirectObject(key[0], key[1], self.reader))
            if not isinstance(obj, StreamObject):
                return
            filters = self._resolve(dict.get(obj, "/Filter"))
            filters = filters if isinstance(filters, ArrayObject) else [filters]
            names = tuple(str(f).encode()[1:] for f in filters if isinstance(f, NameObject))
            if sum(n in _INFLATING_FILTERS for n in names) > 1:
                self.bomb = True
                return
            if self._name(obj, "/Subtype") == "/Image":
                w, h = obj.get("/Width"), obj.get("/Height")
                if isinstance(w, int) and isinstance(h, int) and w * h > _MAX_IMAGE_PIXELS:
                    self.bomb = True
                return
            raw = getattr(obj, "_data", None)
            if names in _PROBED_CHAINS and isinstance(raw, bytes):
                self.bomb = self._inflates_abnormally(raw, 0, len(raw), _PROBED_CHAINS[names])
        except (LimitReachedError, MemoryError):
            raise
        except Exception:  # noqa: BLE001 - an unreadable stream cannot be a bomb for anyone
            return

    @staticmethod
    def _encoded_chunks(buf, ds, de, encoding, size=65536):
        """The binary data of buf[ds:de] in chunks, undoing an ASCIIHex/ASCII85 layer."""
        if encoding is None:
            for pos in range(ds, de, size):
                yield buf[pos:min(de, pos + size)]
            return
        carry = b""
        for pos in range(ds, de, size):
            text = carry + buf[pos:min(de, pos + size)].translate(None, _WS)
            carry = b""
            if encoding == "hex":
                end = text.find(b">")
                if end >= 0:
                    text = text[:end]
                elif len(text) % 2:
                    carry, text = text[-1:], text[:-1]
                if len(text) % 2:
                    text += b"0"
                yield binascii.unhexlify(text)
            else:
                if pos == ds and text.startswith(b"<~"):
                    text = text[2:]
                end = text.find(b"~>")
                if end >= 0:
                    text = text[:end]
                # a chunk boundary inside a 5-character group only blurs the
                # estimate: this is a ratio probe, not a decoder
                yield base64.a85decode(text)
            if end >= 0:
                return

    def _inflates_abnormally(self, buf, ds, de, encoding=None):
        """A ratio probe of the start of a Flate stream; large ones are inflated with caps."""
        try:
            chunks = self._encoded_chunks(buf, ds, de, encoding, _PROBE_INPUT)
            probe = next(chunks, b"")
            if len(zlib.decompressobj().decompress(probe, _PROBE_OUTPUT)) >= _PROBE_OUTPUT:
                return True
            if de - ds < _FULL_INFLATE_FROM:
                return False
            inflater = zlib.decompressobj()
            produced = consumed = 0
            for chunk in self._encoded_chunks(buf, ds, de, encoding):
                consumed += len(chunk)
                while chunk:
                    produced += len(inflater.decompress(chunk, 4 * 1024 * 1024))
                    chunk = inflater.unconsumed_tail
                    if produced > _MAX_INFLATED or (
                        produced > 16 * 1024 * 1024
                        and produced > _MAX_RATIO * max(consumed - len(chunk), 1)
                    ):
                        return True
                    if inflater.eof:
                        return False
            return False
        except (zlib.error, binascii.Error, ValueError):
            return False  # not decodable: the viewer cannot inflate it either

    def _lexical_int(self, num, gen):
        offset = self.loc.get((num, gen))
        if offset is None:
            return None
        m = _NUMBER_OBJ_RE.match(self.data, offset, self._segment_end(offset))
        return int(m.group(1)) if m else None

    def _lexical_scan(self):
        """True when the file holds a risky name or a reference to an unlisted object."""
        ranges = self._scan_ranges()
        if self.bomb:
            return False  # refused anyway: do not inflate object streams of a bomb
        data = self.data
        # All the bytes to scan in one buffer (a few hundred KB even for a
        # 20 MB file): one pass of each pattern instead of one per range. The
        # separator is a comment: it cannot join two tokens into a new one.
        plain = _RANGE_SEPARATOR.join([data[a:b] for a, b in ranges])
        for fm in _FILTER_ARRAY_RE.finditer(plain):
            if sum(n in _INFLATING_FILTERS for n in _FILTER_NAME_RE.findall(fm.group(1))) > 1:
                self.bomb = True  # the same data inflated twice or more
                return False
        suspicious = False
        objstm_hits = 0
        buffers = [plain]
        for stm in sorted(self.objstm_numbers):
            buffers.append(self._objstm(stm)[0])
        candidates = set()
        for buf in buffers:
            for m in _SCAN_RE.finditer(buf):
                kind = self._classify_hit(m, buf)
                if kind == "objstm":
                    objstm_hits += buf is plain
                elif kind:
                    suspicious = True
            if b"#" in buf and self._escaped_risky_name(buf):
                suspicious = True
            candidates.update(_REVERSED_REF_RE.findall(buf[::-1]))
        if objstm_hits > len(self.objstm_numbers):
            suspicious = True  # an object stream the table does not list
        if not suspicious and self._unlisted_references(candidates, buffers):
            suspicious = True  # pypdf would search the raw bytes for them: look closer
        return suspicious

    def _escaped_risky_name(self, buf):
        for m in _HASH_NAME_RE.finditer(buf):
            decoded = _HEX_ESCAPE_RE.sub(lambda h: bytes((int(h.group(1), 16),)), m.group(1))
            if decoded in _RISKY_SET:
                return True
        return False

    def _unlisted_references(self, candidates, buffers):
        reader = self.reader
        known = {
            (b"%d" % gen)[::-1] + b" " + (b"%d" % num)[::-1]
            for gen, entries in reader.xref.items() if isinstance(gen, int)
            for num in entries
        }
        known.update(b"0 " + (b"%d" % num)[::-1] for num in reader.xref_objStm)
        unknown = {g + b" " + n for g, n in candidates} - known
        if not unknown:
            return False
        # Confirm with the exact pattern (leading zeros, what follows the R).
        refs = set()
        for buf in buffers:
            refs.update(_REF_RE.findall(buf))
        return any(not self._known(int(num), int(gen)) for num, gen in refs)

    def _classify_hit(self, m, buf):
        """'risky', 'objstm' or None (harmless) for a match of _SCAN_RE in ``buf``."""
        name = m.group(1)
        if name == b"ObjStm":
            return "objstm"
        if name == b"F":
            return "risky" if _F_VALUE_RE.match(buf, m.end()) else None
        if name == b"OpenAction":
            t = _OPENACTION_TAIL_RE.match(buf, m.end())
            if t is not None:
                if t.group(1):
                    return None  # a destination array written in place
                if self._is_array_object(int(t.group(2)), int(t.group(3))):
                    return None  # a destination array in its own object
        return "risky"

    def _is_array_object(self, num, gen):
        """True when object ``num`` is lexically an array (a destination)."""
        offset = self.loc.get((num, gen))
        if offset is not None:
            return _ARRAY_OBJ_RE.match(self.data, offset) is not None
        entry = self.reader.xref_objStm.get(num) if gen == 0 else None
        if entry is None or entry[0] not in self.objstm_numbers:
            return False
        buf, index = self._objstm(entry[0])
        start = dict(index).get(num)
        return start is not None and _ARRAY_START_RE.match(buf, start) is not None

    def _objstm(self, stm):
        """(decompressed bytes, [(object number, start)]) of object stream ``stm``."""
        cached = self._objstm_cache.get(stm)
        if cached is not None:
            return cached
        obj = self.reader.get_object(IndirectObject(stm, 0, self.reader))
        if not isinstance(obj, StreamObject):
            raise _Refuse("unreadable")
        buf = obj.get_data()
        first = obj.get("/First")
        count = obj.get("/N")
        if not isinstance(first, int) or not isinstance(count, int) or first < 0:
            raise _Refuse("unreadable")
        pairs = re.findall(rb"(\d{1,10})" + _WSC + rb"+(\d{1,12})", buf[:first])[:max(count, 0)]
        index = [(int(n), first + int(o)) for n, o in pairs if first + int(o) <= len(buf)]
        cached = (buf, index)
        self._objstm_cache[stm] = cached
        return cached

    # -- deep, structural check ----------------------------------------------
    def _deep_findings(self):
        reader = self.reader
        findings = set()
        self._nodes = 0
        objects = 0
        self._walk_direct(reader.trailer, findings)
        unused_objstms = []
        for gen, entries in list(reader.xref.items()):
            for num in list(entries):
                objects += 1
                if objects > _MAX_OBJECTS:
                    raise _Refuse("too_complex")
                obj = reader.get_object(IndirectObject(num, gen, reader))
                self._walk_direct(obj, findings)
                if (isinstance(obj, StreamObject) and gen == 0 and num not in self.objstm_numbers
                        and self._name(obj, "/Type") == "/ObjStm"):
                    unused_objstms.append(num)
        # Every object of every object stream, including ones a later
        # revision replaced or a stream no table entry uses: a viewer that
        # rebuilds the table may still pick them up.
        for stm in sorted(self.objstm_numbers) + unused_objstms:
            buf, index = self._objstm(stm)
            stream = io.BytesIO(buf)
            for _num, start in index:
                objects += 1
                if objects > _MAX_OBJECTS:
                    raise _Refuse("too_complex")
                stream.seek(start)
                try:
                    obj = read_object(stream, reader)
                except LimitReachedError:
                    raise
                except Exception:  # noqa: BLE001 - junk in an object stream holds no action
                    continue
                self._walk_direct(obj, findings)
        # Object headers in the raw bytes that the table does not list
        # (older revisions, duplicates, objects hidden in stream data): a
        # viewer that rebuilds the table would read them.
        listed = set()
        for offset in self.starts:
            m = _OBJ_HDR_RE.match(self.data, offset)
            if m is not None:
                listed.add(m.start(1))
        stream = _NoBufferIO(self.data)
        hidden = 0
        for m in _ANY_OBJ_RE.finditer(self.data):
            if m.start(1) in listed:
                continue
            hidden += 1
            if hidden > _MAX_HIDDEN:
                raise _Refuse("too_complex")
            stream.seek(m.end())
            try:
                while stream.read(1) in _WS and stream.tell() < self.size:
                    pass
                stream.seek(-1, 1)
                obj = read_object(stream, reader)
            except LimitReachedError:
                raise
            except Exception:  # noqa: BLE001 - not an object after all
                continue
            self._walk_direct(obj, findings)
        return findings

    def _resolve(self, value, depth=0):
        while isinstance(value, IndirectObject):
            depth += 1
            if depth > 32:
                raise _Refuse("unreadable")
            if not self._known(value.idnum, value.generation):
                # pypdf looks for an unlisted object by searching the whole
                # file: fine for a few damaged references, quadratic for a
                # crafted file with thousands of them.
                self._raw_searches += 1
                if self._raw_searches > _MAX_RAW_SEARCHES:
                    raise _Refuse("too_complex")
            value = self.reader.get_object(
                IndirectObject(value.idnum, value.generation, self.reader))
        return value

    def _name(self, d, key):
        value = dict.get(d, key)
        if isinstance(value, IndirectObject):
            value = self._resolve(value)
        return str(value) if isinstance(value, NameObject) else None

    def _walk_direct(self, obj, findings):
        """Apply the rules to ``obj`` and the dictionaries/arrays written inside it."""
        stack = [obj]
        while stack:
            item = stack.pop()
            self._nodes += 1
            if self._nodes > _MAX_NODES:
                raise _Refuse("too_complex")
            if isinstance(item, DictionaryObject):  # includes streams
                self._dict_rules(item, findings)
                values = dict.values(item)
            elif isinstance(item, ArrayObject):
                values = item
            else:
                continue
            for value in values:
                if isinstance(value, (DictionaryObject, ArrayObject)):
                    stack.append(value)

    def _dict_rules(self, d, findings):
        if "/JS" in d or "/JavaScript" in d or "/OnInstantiate" in d:
            findings.add("javascript")
        if "/EF" in d or "/EmbeddedFiles" in d:
            findings.add("embedded_file")
        if "/XFA" in d:
            findings.add("xfa")
        if ("/FFilter" in d or "/FDecodeParms" in d or "/OPI" in d
                or ("/F" in d and isinstance(d, StreamObject))):
            findings.add("external_content")  # stream data or image read from another file
        if "/Ref" in d:
            ref = self._resolve(dict.get(d, "/Ref"))
            if isinstance(ref, DictionaryObject) and "/F" in ref:
                findings.add("external_content")  # a page imported from another PDF
        for key in ("/RV", "/RC"):
            if key in d:
                rich = self._resolve(dict.get(d, key))
                text = rich.get_data() if isinstance(rich, StreamObject) else str(rich)
                text = text.decode("latin-1") if isinstance(text, bytes) else text
                if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
                    findings.add("external_content")  # rich text naming outside resources
        if "/S" in d:
            code = _ACTION_CODES.get(self._name(d, "/S"))
            if code:
                findings.add(code)
        if "/Type" in d and self._name(d, "/Type") == "/EmbeddedFile":
            findings.add("embedded_file")
        if "/Subtype" in d and self._name(d, "/Subtype") in ("/FileAttachment", "/RichMedia"):
            findings.add("embedded_file")
        if "/OpenAction" in d:
            action = self._resolve(dict.get(d, "/OpenAction"))
            if isinstance(action, DictionaryObject):
                self._auto_chain(action, "open_action", findings)
        if "/AA" in d:
            triggers = self._resolve(dict.get(d, "/AA"))
            if isinstance(triggers, DictionaryObject):
                for value in dict.values(triggers):
                    self._auto_chain(value, "auto_action", findings)

    def _auto_chain(self, action, code, findings):
        """Refuse an automatic action (and its /Next chain) that is not a GoTo."""
        stack = [action]
        seen = set()
        steps = 0
        while stack:
            item = stack.pop()
            steps += 1
            if steps > 1000:
                findings.add(code)
                return
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in seen:
                    findings.add(code)  # a /Next loop: viewers may run it forever
                    continue
                seen.add(key)
                item = self._resolve(item)
            if isinstance(item, ArrayObject):
                stack.extend(item)
                continue
            if not isinstance(item, DictionaryObject):
                continue
            # the action's own rules (JavaScript...) apply wherever it is stored
            self._dict_rules_no_chain(item, findings)
            if self._name(item, "/S") not in _AUTO_ALLOWED:
                findings.add(code)
            nxt = dict.get(item, "/Next")
            if nxt is not None:
                stack.append(nxt)

    def _dict_rules_no_chain(self, d, findings):
        if "/JS" in d:
            findings.add("javascript")
        code = _ACTION_CODES.get(self._name(d, "/S"))
        if code:
            findings.add(code)

    # -- page tree -----------------------------------------------------------
    def _count_pages(self):
        reader = self.reader
        root = self._resolve(reader.trailer.raw_get("/Root") if "/Root" in reader.trailer else None)
        if not isinstance(root, DictionaryObject):
            root = self._find_catalog()
        top = dict.get(root, "/Pages")
        if top is None:
            return "no_pages", 0
        stack = [top]
        visited = set()
        leaves = 0
        nodes = 0
        while stack:
            item = stack.pop()
            nodes += 1
            if nodes > _MAX_TREE_NODES:
                return "too_complex", None
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in visited:
                    return "unreadable", None  # a loop (or a page listed twice)
                visited.add(key)
                kind, kids = self._node(key)
            elif isinstance(item, DictionaryObject):
                kind, kids = self._parsed_node(item)
            else:
                return "unreadable", None
            if kind == "page":
                leaves += 1
                if leaves > self.max_pages:
                    return "too_many_pages", self._declared_count(top)
            else:
                stack.extend(reversed(kids))
        if leaves == 0:
            return "no_pages", 0
        return "ok", leaves

    def _find_catalog(self):
        """The catalog of a file whose trailer lost it (as pypdf recovers it, bounded)."""
        candidates = list(self.loc) + [(num, 0) for num in self.reader.xref_objStm]
        for key in sorted(candidates)[:10_000]:
            obj = self._resolve(IndirectObject(key[0], key[1], self.reader))
            if isinstance(obj, DictionaryObject) and self._name(obj, "/Type") == "/Catalog":
                return obj
        raise _Refuse("unreadable")

    def _declared_count(self, top):
        try:
            node = self._resolve(top)
            count = dict.get(node, "/Count") if isinstance(node, DictionaryObject) else None
            return int(count) if isinstance(count, int) and count > self.max_pages else None
        except Exception:  # noqa: BLE001
            return None

    def _node(self, key):
        """('page', None) or ('pages', kids) for the object ``key``; lexical when unambiguous."""
        num, gen = key
        region = None
        offset = self.loc.get(key)
        if offset is not None:
            end = min(self._segment_end(offset), offset + _DICT_SCAN_MAX)
            m = _OBJ_HDR_RE.match(self.data, offset, end)
            if m is not None and int(m.group(1)) == num and int(m.group(2)) == gen:
                region = self.data[m.end():end]
        elif gen == 0 and num in self.reader.xref_objStm:
            stm = self.reader.xref_objStm[num][0]
            if stm in self.objstm_numbers:
                buf, index = self._objstm(stm)
                for i, (n, start) in enumerate(index):
                    if n == num:
                        stop = index[i + 1][1] if i + 1 < len(index) else len(buf)
                        region = buf[start:min(stop, start + _DICT_SCAN_MAX)]
                        break
        if region is not None:
            result = self._lexical_node(region)
            if result is not None:
                return result
        obj = self._resolve(IndirectObject(num, gen, self.reader))
        if not isinstance(obj, DictionaryObject):
            raise _Refuse("unreadable")
        return self._parsed_node(obj)

    @staticmethod
    def _lexical_node(region):
        for keyword in (b"endobj", b"stream"):
            cut = region.find(keyword)
            if cut >= 0:
                region = region[:cut]
        if b"(" in region or b"%" in region or b"\\" in region or b"#" in region:
            return None
        types = set(_TYPE_PAGE_RE.findall(region))
        kids_keys = len(_KIDS_KEY_RE.findall(region))
        if kids_keys == 0:
            if types == {b"Page"}:
                return "page", None
            return None
        if kids_keys != 1 or b"Page" in types:
            return None
        kids = _KIDS_RE.findall(region)
        if len(kids) != 1 or not _REFS_ONLY_RE.fullmatch(kids[0]):
            return None
        return "pages", [
            IndirectObject(int(n), int(g), None) for n, g in _REF_PAIR_RE.findall(kids[0])
        ]

    def _parsed_node(self, node):
        kids = self._resolve(dict.get(node, "/Kids"))
        if isinstance(kids, ArrayObject) and self._name(node, "/Type") != "/Page":
            return "pages", list(kids)
        return "page", None


# ---------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------
_ZIP_MAX_ENTRIES = 2000
_ZIP_MAX_TOTAL = 100 * 1024 * 1024
_ZIP_MAX_MEMBER = 64 * 1024 * 1024
_ZIP_MAX_RATIO = 200  # uncompressed/compressed, for members above _ZIP_RATIO_FLOOR
_ZIP_RATIO_FLOOR = 1024 * 1024
# "<!DOCTYPE" / "<!ENTITY" in UTF-8 and in UTF-16 (either byte order)
_DTD_RE = re.compile(rb"<\x00?!\x00?[DdEe]")
_XML_SNIFF = 64  # bytes read from other members to see whether they are XML
_OLE_ELEMENT_RE = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?OLEObject[\s/>]")
_MACRO_SUFFIXES = (".docm", ".dotm", ".xlsm", ".xltm", ".xlsb", ".pptm", ".potm", ".ppsm", ".sldm")
_HYPERLINK_TYPES = (
    "http://schemas.openxmlformats.org/officedocument/2006/relationships/hyperlink",
    "http://purl.oclc.org/ooxml/officedocument/relationships/hyperlink",
)


def _check_docx(data):
    """Return the code for ZIP bytes: 'ok' or a refusal."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return "unreadable"
    with archive:
        infos = archive.infolist()
        if len(infos) > _ZIP_MAX_ENTRIES:
            return "zip_bomb"
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            return "unreadable"  # two members with one name: readers disagree on which
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > _ZIP_MAX_MEMBER or total > _ZIP_MAX_TOTAL:
                return "zip_bomb"
            if info.file_size > _ZIP_RATIO_FLOOR and (
                info.compress_size == 0 or info.file_size / info.compress_size > _ZIP_MAX_RATIO
            ):
                return "zip_bomb"
            if info.flag_bits & 0x1:
                return "unreadable"  # an encrypted member: Word never writes one
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                return "unreadable"  # Word writes deflate only; others are not bounded the same way
        if "[Content_Types].xml" not in names or "word/document.xml" not in names:
            return "not_docx"
        lower = [n.lower() for n in names]
        if any(n.endswith(("vbaproject.bin", "vbadata.xml")) or n.endswith(_MACRO_SUFFIXES)
               for n in lower):
            return "docx_macro"
        if any(n.startswith("word/activex/") for n in lower):
            return "docx_activex"
        if any(n.startswith("word/embeddings/") and (n.endswith(".bin") or "oleobject" in n)
               for n in lower):
            return "docx_ole"
        findings = set()
        try:
            for info in infos:
                lname = info.filename.lower()
                with archive.open(info) as member:
                    if lname.endswith((".xml", ".rels", ".vml")):
                        text = member.read(_ZIP_MAX_MEMBER + 1)
                    else:  # media, fonts...: only if it turns out to be XML as well
                        text = member.read(_XML_SNIFF)
                        if not text.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").startswith(b"<"):
                            continue
                        text += member.read(_ZIP_MAX_MEMBER + 1)
                if _DTD_RE.search(text):
                    return "docx_dtd"
                if lname == "[content_types].xml":
                    _content_type_findings(text, findings)
                elif lname.endswith(".rels"):
                    _relationship_findings(text, findings)
                elif lname.startswith("word/") and _OLE_ELEMENT_RE.search(text):
                    findings.add("docx_ole")
        except (ET.ParseError, zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError,
                zlib.error, RuntimeError):
            return "unreadable"
    for code in ("docx_macro", "docx_activex", "docx_ole", "docx_external_link"):
        if code in findings:
            return code
    return "ok"


def _xml_elements(text):
    """Iterate the elements of an XML part (no DTD: refused before parsing)."""
    return ET.fromstring(text).iter()


def _content_type_findings(text, findings):
    for element in _xml_elements(text):
        content_type = (element.get("ContentType") or "").lower()
        if "macroenabled" in content_type or "vbaproject" in content_type:
            findings.add("docx_macro")
        elif "activex" in content_type:
            findings.add("docx_activex")
        elif "oleobject" in content_type:
            findings.add("docx_ole")


def _relationship_findings(text, findings):
    for element in _xml_elements(text):
        if not element.tag.endswith("Relationship"):
            continue
        rel_type = (element.get("Type") or "").strip().lower()
        external = (element.get("TargetMode") or "").strip().lower() == "external"
        last = rel_type.rsplit("/", 1)[-1]
        if last in ("vbaproject", "wordvbadata"):
            findings.add("docx_macro")
        elif last in ("control", "activexcontrol", "activexcontrolbinary"):
            findings.add("docx_activex")
        elif last in ("oleobject", "afchunk"):
            findings.add("docx_ole" if not external else "docx_external_link")
        if external and rel_type not in _HYPERLINK_TYPES:
            findings.add("docx_external_link")
