"""Signatures on approval (FR-29) and their verification, as an extension of
``hscm.dossier``: the dossier model keeps the workflow, this file the PKI.

Approving a PDF dossier appends the approver's PAdES signature as an
incremental update; the file after each signature is kept on the approval
step (and is the dossier's current file), the unsigned original on the
submitted version. The verification report compares the embedded signatures
with what the product recorded (see tools/pades_verify.py).
"""

import base64
import collections
import contextlib
import datetime as dt
import hashlib
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

from odoo import api, fields, models
from odoo.exceptions import AccessDenied, UserError
from odoo.http import request
from odoo.tools.translate import LazyTranslate

from ..tools import pades_verify, school_calendar, signing_methods, signing_process
from ..tools.background_writer import BackgroundFileWriter, FileWriteError
from ..tools.bilingual import bilingual
from ..tools.pades import PadesError, StampText
from ..tools.printout import PrintMarks, qr_data_uri, week_printout
from ..tools.timestamps import http_timestamper
from .hscm_dossier import (BINARY_CACHE_FIELDS, INTERNAL, binary_attachments, read_binary, store_binary,
                           user_error)

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# The stamp is part of a Vietnamese administrative document: its titles are
# Vietnamese whatever the interface language.
ROLE_TITLES = {
    "group_leader": "NHÓM TRƯỞNG",
    "department_head": "TỔ TRƯỞNG",
    "vice_principal": "PHÓ HIỆU TRƯỞNG",
    "principal": "HIỆU TRƯỞNG",
    "extra": "NGƯỜI KÝ",
}
DEPUTY_TITLES = {
    "department_head": "TỔ PHÓ",
    "principal": "PHÓ HIỆU TRƯỞNG",
    "group_leader": "THÀNH VIÊN NHÓM",
}

SIGNING_ERRORS = {
    "wrong_secret": _lt("The passphrase or PIN is not right."),
    "token_unavailable": _lt("The signing token cannot be reached: is it plugged in?"),
    "remote_unreachable": _lt("The remote signing service cannot be reached."),
    "remote_refused": _lt("The remote signing service refused to sign."),
    "timeout": _lt("The signing service did not answer in time."),
    "bad_response": _lt("The signature value does not match the certificate."),
    "bad_certificate": _lt("The certificate cannot sign now (expired, not yet valid or not for signing)."),
    "bad_state": _lt("The prepared signature is no longer valid: prepare it again."),
    "timestamp_unreachable": _lt("The timestamp authority cannot be reached or refused the request: "
                                 "nothing was signed. Try again later."),
}

IDENTITY_WINDOW = 10 * 60  # seconds, as Odoo's own check_identity

# One thread that hashes the file being signed while the approval thread signs it
HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hscm-hash")
# From this many files, a batch signed with a PKCS#12 key is signed by the worker's signing process
# (tools/signing_process.py) while the worker does the approval's other work: its start (~1 s, once
# per worker) is then worth it
PROCESS_BATCH_MIN = 4
# Files the signing process may sign ahead of the worker (their updates wait in its pipe)
SIGN_AHEAD = 16


def _digests_of(data):
    """SHA-256 (the evidence) and SHA-1 (the filestore's key) of ``data``, as
    hash objects to go on with: a signed file is the unsigned one plus an
    incremental update, so only that tail is left to hash once it is signed."""
    return hashlib.sha256(data), hashlib.sha1(data)


class _BatchSigner:
    """Signs the dossiers of one approval call with one credential, whose
    key is opened once (the passphrase is asked once per batch)."""

    def __init__(self, credential, method, dossier_ids=()):
        self.credential = credential
        self.method = method
        self.dossier_ids = set(dossier_ids)  # the dossiers of the batch that get a signature

    def sign(self, dossier, step, pdf, stamp, field_name, timestamper, prefix_sha256=None):
        return self.method.sign(pdf, field_name=field_name, stamp=stamp, timestamper=timestamper,
                                prefix_sha256=prefix_sha256)

    def process_batch(self, count):
        """The worker's signing process, holding this signer's key, for a
        batch of ``count`` files; None: sign in the worker (a small batch, a
        key that is not a PKCS#12, or the process is busy or cannot start)."""
        key = getattr(self.method, "pades_signer", None)
        if count < PROCESS_BATCH_MIN or key is None:
            return None
        return signing_process.get_signing_process().batch(key)


class _DeviceSignature:
    """A signature value made on the approver's device, embedded now."""

    dossier_ids = None  # the dossier signs if its policy asks for a signature

    def __init__(self, credential, signing_request, value):
        self.credential = credential
        self.signing_request = signing_request
        self.value = value

    def sign(self, dossier, step, pdf, stamp, field_name, timestamper, prefix_sha256=None):
        return signing_methods.finish_deferred(self.signing_request._state_bytes(), self.value,
                                               timestamper=timestamper)


def signing_error(error):
    """A bilingual UserError for a failure of the signing tools."""
    message = SIGNING_ERRORS.get(getattr(error, "code", None))
    if message is None:
        message = _lt("The file could not be signed: %(error)s", error=str(error))
    return UserError(bilingual(message))


class HscmDossier(models.Model):
    _inherit = "hscm.dossier"

    verify_token = fields.Char(readonly=True, copy=False, index=True,
                               help="Unguessable key of the public verification page (QR code on the stamp).")
    signature_verdict = fields.Selection([
        ("none", "Not signed"),
        ("pending", "Being verified"),
        ("valid", "Valid"),
        ("invalid", "Not verified"),
    ], default="none", readonly=True, copy=False, index=True)
    signature_report = fields.Json(readonly=True, copy=False)
    signature_checked_on = fields.Datetime(readonly=True, copy=False)
    signature_report_html = fields.Html(compute="_compute_signature_report_html", sanitize=False,
                                        string="Verification report")

    @api.depends("signature_report")
    def _compute_signature_report_html(self):
        for dossier in self:
            report = dossier.signature_report
            dossier.signature_report_html = self.env["ir.qweb"]._render(
                "hscm_odoo.signature_report_table", {"report": report}) if report else False

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------
    @api.model
    def _network_timeout(self):
        value = self.env["ir.config_parameter"].sudo().get_param("hscm_odoo.network_timeout", "10")  # a setting
        try:
            return max(1.0, float(value))
        except ValueError:
            return 10.0

    @api.model
    def _timestamper(self):
        url = self.env["ir.config_parameter"].sudo().get_param("hscm_odoo.tsa_url")  # a setting
        return http_timestamper(url, self._network_timeout())

    @api.model
    def _revocation_mode(self):
        mode = self.env["ir.config_parameter"].sudo().get_param("hscm_odoo.revocation_mode", "off")  # a setting
        return mode if mode in pades_verify.REVOCATION_MODES else "off"

    def _verify_url(self):
        self.ensure_one()
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")  # a setting
        return f"{base}/hscm/verify/{self.sudo().verify_token}"  # the token is on the stamp anyway

    def _verify_qr(self):
        """The QR code of the verification page, as a data URI."""
        return qr_data_uri(self._verify_url())

    def _ensure_verify_token(self):
        for dossier in self.sudo():  # a system field, set once
            if not dossier.verify_token:
                dossier._write_internal({"verify_token": secrets.token_urlsafe(24)})

    # ------------------------------------------------------------------
    # Signing on approval
    # ------------------------------------------------------------------
    def _needs_signature(self, credential, policy=None):
        """Whether approving this dossier puts a signature on its file
        (``policy``: this dossier's, when the caller already has it)."""
        self.ensure_one()
        if self.file_kind != "pdf":
            return False  # Word files are approved with the account (PAdES signs PDFs)
        if credential:
            return True
        return (policy or self._policy()).signature_policy == "pki"

    def _check_signing_identity(self, password):
        """The approver proves it is them before signing: their password
        now, or Odoo's identity check done in the last ten minutes. Calls
        outside an HTTP request (server code, cron, shell) are trusted."""
        if password:
            try:
                self.env.user._check_credentials({"login": self.env.user.login, "password": password,
                                                  "type": "password"}, {"interactive": True})
            except AccessDenied:
                raise user_error(_lt("The password is not right.")) from None
            if request:
                request.session["identity-check-last"] = time.time()
            return
        if not request or request.session.get("identity-check-last", 0) > time.time() - IDENTITY_WINDOW:
            return
        raise user_error(_lt("Enter your password again to sign."))

    def _batch_signer(self, passphrase=None, password=None):
        """The signer for this approval call, or None when nothing is signed."""
        credential = self.env["hscm.signing.credential"]._for_user(self.env.user)
        policies = self._policies() if not credential else {}
        to_sign = self.filtered(lambda d: d._needs_signature(credential, policies.get(d.id)))
        if not to_sign:
            return None
        if not credential:
            raise user_error(_lt(
                "%(ref)s must carry your digital signature, and you have no certificate: "
                "ask the school administrator for one.", ref=", ".join(to_sign.mapped("name"))))
        if credential.method == "client_token":
            raise user_error(_lt("Your certificate is on your own device: prepare the signature there."))
        self._check_signing_identity(password)
        try:
            method = credential._signing_method(passphrase)
            certificate = method.certificate()
        except PadesError as error:
            raise signing_error(error) from None
        if hashlib.sha256(certificate).hexdigest() != credential.cert_sha256:
            raise user_error(_lt("The key signs with another certificate than the one registered for your "
                                 "account: nothing was signed."))
        return _BatchSigner(credential, method, to_sign.ids)

    def _stamp_for(self, step):
        self.ensure_one()
        user = self.env.user
        title = ROLE_TITLES.get(step.role, ROLE_TITLES["extra"])
        delegation, position = "", title
        if step.acting_user_id == user and step.expected_user_id != user:
            delegation, position = f"KT. {title}", DEPUTY_TITLES.get(step.role, "NGƯỜI ĐƯỢC ỦY QUYỀN")
        local = fields.Datetime.now().replace(tzinfo=dt.timezone.utc).astimezone(school_calendar.VN_TZ)
        return StampText(name=user.name, position=position, delegation=delegation,
                         signed_at=f"Ngày ký: {local:%d/%m/%Y %H:%M}", extra_lines=[f"Số: {self.name}"],
                         qr_url=self._verify_url())

    @contextlib.contextmanager
    def _signing(self, steps, signer=None):
        """Sign each dossier's file for its step in ``steps`` (``{dossier id:
        step}``) with ``signer``, or record an approval with the account where
        no signature is needed. Yields a callable that finishes the work and
        returns the audit details of each signature, ``{dossier id: dict}``:
        in between, the caller does the approval's other work while a batch
        is signed by the signing process (see tools/signing_process.py); a
        smaller batch is signed before. A few files are in memory at a time,
        whatever the batch's size."""
        to_sign = self.browse()
        if signer:
            wanted = signer.dossier_ids
            to_sign = self.filtered(lambda d: d.id in wanted if wanted is not None
                                    else d._needs_signature(signer.credential))
        Step = self.env["hscm.dossier.approval"]
        Step.union(*(steps[d.id] for d in self - to_sign)).sudo().with_context(  # system rows
            hscm_internal=INTERNAL).write({"signature_method": "account"})
        if not to_sign:
            yield dict
            return
        to_sign._ensure_verify_token()
        files = binary_attachments(to_sign, "file")
        timestamper = self._timestamper()
        batch = None
        if (hasattr(signer, "process_batch") and (timestamper is None or hasattr(timestamper, "url"))
                and all(files.get(d.id) and files[d.id].store_fname for d in to_sign)):
            batch = signer.process_batch(len(to_sign))
        if batch is None:  # signed first, so that a refusal comes before anything is written
            signatures = to_sign._sign_in_worker(steps, signer, files, timestamper)
            yield lambda: signatures
            return
        # the rows the caller writes meanwhile are undone if a signature fails, even if the caller's
        # transaction goes on (the first files are submitted first: most refusals come before that)
        with batch, self.env.cr.savepoint():
            with to_sign[:1]._signing_errors():
                signing_methods.check_certificate(signer.method.certificate())  # as Pkcs12Method.sign
            waiting = collections.deque()
            remaining = iter(to_sign)
            finished = []

            def submit_next():
                dossier = next(remaining, None)
                if dossier is not None:
                    step = steps[dossier.id]
                    attachment = files[dossier.id]
                    batch.submit(path=attachment._full_path(attachment.store_fname),
                                 field_name=dossier._signature_field(step), stamp=dossier._stamp_for(step),
                                 timestamper=timestamper)
                    waiting.append(dossier)

            def finish():
                signatures = {}
                with to_sign._signed_files_writer() as writer:
                    while waiting:
                        dossier = waiting.popleft()
                        with dossier._signing_errors():
                            update = batch.result()
                            submit_next()
                        step = steps[dossier.id]
                        signatures[dossier.id] = dossier._store_update(
                            step, signer.credential, dossier._signature_field(step), update, files[dossier.id],
                            writer)
                finished.append(True)
                return signatures

            with to_sign[:1]._signing_errors():
                for _i in range(SIGN_AHEAD):
                    submit_next()
            yield finish
            if not finished:  # the caller's steps would be approved without their signatures
                raise RuntimeError("_signing: the signatures were not finished")
        self.env.ref("hscm_odoo.ir_cron_hscm_verify_signatures")._trigger()

    def _sign_in_worker(self, steps, signer, files, timestamper):
        """Sign these dossiers' files one after the other in this worker
        (see :meth:`_signing`); returns the audit details."""
        no_attachment = self.env["ir.attachment"].sudo()  # the field storage, as binary_attachments
        signatures = {}
        # each signed file is written by a thread while the next one is signed
        with self._signed_files_writer() as writer:
            for dossier in self:
                step = steps[dossier.id]
                signatures[dossier.id] = dossier._sign_file(
                    step, signer, dossier._stamp_for(step), files.get(dossier.id, no_attachment), timestamper,
                    writer=writer)
        self.env.ref("hscm_odoo.ir_cron_hscm_verify_signatures")._trigger()
        return signatures

    @contextlib.contextmanager
    def _signed_files_writer(self):
        """A writer for the signed files of these dossiers: they are all on
        disk when it closes, before anything reads them or commits."""
        try:
            with BackgroundFileWriter(temporary_dir=self.env["ir.attachment"]._hscm_temporary_dir()) as writer:
                yield writer
        except FileWriteError:
            _logger.exception("the signed files of %s could not be stored", self.mapped("name"))
            raise user_error(_lt("The signed file could not be stored (the server's disk refused it): "
                                 "nothing was approved. Try again, or tell the administrator.")) from None

    def _signature_field(self, step):
        """The name of the signature field of ``step`` in this dossier's file."""
        return f"HSCM_v{len(self.version_ids)}_s{step.sequence}_{step.id}"

    @contextlib.contextmanager
    def _signing_errors(self):
        """A failure of the signing tools as the approver's bilingual message."""
        try:
            yield
        except PadesError as error:
            _logger.info("signing %s failed for %s: %s", self.name, self.env.user.login,
                         getattr(error, "code", type(error).__name__))
            raise signing_error(error) from None

    def _sign_file(self, step, signer, stamp, attachment, timestamper, writer=None):
        """Sign this dossier's current file (``attachment``) for ``step``;
        the signed bytes become the current file and the step's evidence
        (written by ``writer`` when given, see store_binary). Returns the
        audit details."""
        self.ensure_one()
        pdf = attachment.raw or b""
        attachment.invalidate_recordset(BINARY_CACHE_FIELDS)
        field_name = self._signature_field(step)
        # hashlib releases the GIL: the unsigned file is hashed by another core while pyHanko signs
        digests = HASHER.submit(_digests_of, pdf)
        with self._signing_errors():
            # the document digest goes on from the unsigned file's SHA-256 (the other core's work)
            signed = signer.sign(self, step, pdf, stamp, field_name, timestamper,
                                 prefix_sha256=lambda: digests.result()[0].copy())
        if not signed.startswith(pdf):
            raise user_error(_lt("Signing did not keep the earlier signatures: nothing was saved."))
        # the digests of the signed file: those of its unsigned prefix, then its tail
        sha256, sha1 = digests.result()
        tail = memoryview(signed)[len(pdf):]
        sha256.update(tail)
        sha1.update(tail)
        del pdf, tail
        return self._store_signed(step, signer.credential, field_name, signed, sha256.hexdigest(), sha1.hexdigest(),
                                  attachment, writer)

    def _store_update(self, step, credential, field_name, update, attachment, writer):
        """Store this dossier's file signed by the signing process: its
        current file (``attachment``) followed by the ``update``."""
        self.ensure_one()
        pdf = attachment.raw or b""
        attachment.invalidate_recordset(BINARY_CACHE_FIELDS)
        # the process signed the file it read: the one Odoo recorded (SHA-1), and as long as this one.
        # Read twice, the file is compared once: a stored file is never rewritten (its name is its
        # SHA-1), and the verification that follows every signature compares the whole signed file
        # with the digests recorded here.
        if (update.input_sha1, update.input_size) != (attachment.checksum, len(pdf)):
            _logger.warning("the stored file of %s is not the one recorded (%s)", self.name, attachment.store_fname)
            raise user_error(_lt("The stored file of %(ref)s is not the one recorded: nothing was signed. "
                                 "Tell the administrator.", ref=self.name))
        signed = pdf + update.tail
        del pdf
        return self._store_signed(step, credential, field_name, signed, update.sha256, update.sha1, attachment,
                                  writer)

    def _store_signed(self, step, credential, field_name, signed, sha256, sha1, attachment, writer=None):
        """The signed file (with its digests, hex) becomes this dossier's
        current file and ``step``'s evidence; returns the audit details."""
        stored = store_binary(self, "file", signed, "application/pdf", attachment=attachment, sha1=sha1,
                              writer=writer)
        # Sudoed: the approver signs; the record is not theirs to write (as in _do_approve)
        self.sudo()._write_internal({"file_sha256": sha256, "file_size": len(signed),  # approver checked; system fields
                                     "signature_verdict": "pending", "signature_report": False})
        step.sudo().with_context(hscm_internal=INTERNAL).write({  # system row
            "signature_method": credential.method,
            "signature_field": field_name,
            "signer_cert_sha256": credential.cert_sha256,
            "signer_subject": credential.subject,
            "signer_internal": credential.is_internal,
            "signed_sha256": sha256,
            "signed_size": len(signed),
        })
        # the same bytes as the dossier's file: the filestore keeps one copy
        store_binary(step.sudo(), "signed_file", signed, "application/pdf",  # system row
                     attachment=self.env["ir.attachment"].sudo(), sha1=sha1,  # a new step: no file yet
                     same_as=stored, writer=writer)
        return {"step": step.sequence, "method": credential.method, "certificate": credential.cert_sha256,
                "sha256": sha256, "size": len(signed)}

    # ------------------------------------------------------------------
    # The school's seal after the last approval
    # ------------------------------------------------------------------
    def _seal_signers(self):
        """For the dossiers this approval completes whose policy asks for the
        school's seal: ``{dossier id: signer}``, each school's seal opened
        once. Refuses the approval when a school has no valid seal; called
        before anything is signed or written."""
        finals = self.filtered(lambda d: d.file_kind == "pdf" and not d._current_steps().filtered(
            lambda s: s.state == "waiting"))
        if not finals:
            return {}
        policies = finals._policies()
        Credential = self.env["hscm.signing.credential"]
        by_school, signers = {}, {}
        for dossier in finals.filtered(lambda d: policies[d.id].seal_final_signature):
            school = dossier.school_id
            if school not in by_school:
                credential, method = Credential._seal_method(school, dossier.type_id)
                by_school[school] = _BatchSigner(credential, method)
            signers[dossier.id] = by_school[school]
        return signers

    def _apply_seals(self, seal_signers, decided_on):
        """The school's seal signs each dossier's approved file, as one more
        incremental signature recorded on its own step (role ``seal``), so
        verification expects it. Returns the audit details per dossier."""
        dossiers = self.filtered(lambda d: d.id in seal_signers)
        if not dossiers:
            return {}
        dossiers._ensure_verify_token()
        files = binary_attachments(dossiers, "file")
        timestamper = self._timestamper()
        no_attachment = self.env["ir.attachment"].sudo()  # the field storage, as binary_attachments
        Step = self.env["hscm.dossier.approval"].sudo().with_context(hscm_internal=INTERNAL)  # system rows
        local = decided_on.replace(tzinfo=dt.timezone.utc).astimezone(school_calendar.VN_TZ)
        details = {}
        for dossier in dossiers:
            signer = seal_signers[dossier.id]
            steps = dossier._current_steps()
            step = Step.create([{
                "dossier_id": dossier.id, "version_number": len(dossier.version_ids),
                "sequence": (steps[-1:].sequence or 0) + 1, "role": "seal", "required": True,
                "expected_user_id": signer.credential.user_id.id, "state": "approved",
                "decided_on": decided_on,
                "comment": self.env._("Sealed by the school after the last approval."),
            }])
            school = dossier.school_id.sudo()  # the school's name for the stamp
            stamp = StampText(name=school.name, position="ĐÓNG DẤU", signed_at=f"Ngày ký: {local:%d/%m/%Y %H:%M}",
                              extra_lines=[f"Số: {dossier.name}"], qr_url=dossier._verify_url())
            details[dossier.id] = dict(dossier._sign_file(
                step, signer, stamp, files.get(dossier.id, no_attachment), timestamper), seal=True)
        self.env.ref("hscm_odoo.ir_cron_hscm_verify_signatures")._trigger()
        return details

    def action_open_approve_wizard(self):
        self._check_can_decide()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Approve"),
            "res_model": "hscm.dossier.approve.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    # ------------------------------------------------------------------
    # Signing on the approver's own device (deferred signing)
    # ------------------------------------------------------------------
    def action_prepare_device_signature(self, password=None):
        """Prepare the approver's signature: returns what their device must
        sign (base64 of the DER signed attributes, and its SHA-256)."""
        self.ensure_one()
        self.check_access("read")
        self._check_can_decide()
        credential = self.env["hscm.signing.credential"]._for_user(self.env.user)
        if not credential or credential.method != "client_token":
            raise user_error(_lt("Your signing method does not use a device."))
        if self.file_kind != "pdf":
            raise user_error(_lt("Only PDF files carry a digital signature."))
        self._check_signing_identity(password)
        self._ensure_verify_token()
        step = self._current_steps().filtered(lambda s: s.state == "pending")[:1]
        pdf = read_binary(self, "file")
        field_name = self._signature_field(step)
        try:
            prepared = signing_methods.prepare_deferred(
                pdf, base64.b64decode(credential.certificate), [], field_name=field_name,
                stamp=self._stamp_for(step))
        except PadesError as error:
            raise signing_error(error) from None
        signing_request = self.env["hscm.signing.request"]._open(self, step, credential, prepared)
        return {
            "request_id": signing_request.id,
            "to_sign": base64.b64encode(prepared.to_sign).decode(),
            "digest": base64.b64encode(prepared.digest).decode(),
            "digest_algorithm": prepared.digest_algorithm,
            "expires_on": fields.Datetime.to_string(signing_request.expires_on),
        }

    def action_approve_device_signature(self, request_id, signature_value, comment=None):
        """Approve with the signature value the device made for ``request_id``
        (base64)."""
        self.ensure_one()
        self.check_access("read")
        self._lock_for_decision()
        self._check_can_decide()
        signing_request = self.env["hscm.signing.request"]._take(request_id, self)
        try:
            value = base64.b64decode(signature_value or "", validate=True)
        except ValueError:
            raise user_error(_lt("The signature value is not valid base64 data.")) from None
        self._do_approve(comment=comment, signer=_DeviceSignature(signing_request.credential_id,
                                                                  signing_request, value))
        return True

    # ------------------------------------------------------------------
    # Paper copy
    # ------------------------------------------------------------------
    def _printout(self):
        """The file (PDF) followed by its approval sheet, every page marked
        as a paper copy of an electronic record; the download is traced."""
        self.ensure_one()
        self.check_access("read")
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        sheet, _kind = report._render_qweb_pdf("hscm_odoo.action_report_approval_sheet", self.ids)
        now = fields.Datetime.now().replace(tzinfo=dt.timezone.utc).astimezone(school_calendar.VN_TZ)
        marks = PrintMarks(
            reference=self.name, system=f"Hồ sơ chuyên môn điện tử — {self.school_id.sudo().name}",  # a name
            printed_by=self.env.user.name, printed_at=f"{now:%H:%M %d/%m/%Y}",
            verify_url=self._verify_url() if self.sudo().verify_token else "")  # token presence only, not shown
        files = [(read_binary(self, "file"), marks)] if self.file_kind == "pdf" else []
        self._log_download()
        return week_printout(files + [(sheet, marks)])

    # ------------------------------------------------------------------
    # Verification
    # ------------------------------------------------------------------
    def _signed_steps(self):
        self.ensure_one()
        return self._current_steps().filtered(lambda s: s.state == "approved" and s.signed_sha256)

    def _compute_signature_verification(self):
        """Verify the current file against what was recorded; store and
        return the report (a dict). Runs with the system's rights."""
        self.ensure_one()
        dossier = self.sudo()  # trust roots, CA revocation lists and the stored evidence
        version = dossier.version_ids.sorted("number")[-1:]
        steps = dossier._signed_steps()
        if dossier.file_kind != "pdf" or not version:
            report = {"verdict": "invalid", "reasons": ["the record has no submitted PDF"], "signatures": []}
        else:
            CA = self.env["hscm.certificate.authority"].sudo()  # public revocation facts
            report = pades_verify.verify_pdf(
                read_binary(dossier, "file"),
                versions=[(version.file_size, version.file_sha256)]
                + [(step.signed_size, step.signed_sha256) for step in steps],
                file_sha256=dossier.file_sha256,
                expected=[pades_verify.ExpectedSignature(step.signer_cert_sha256, step.decided_on)
                          for step in steps],
                trust_roots=self.env["hscm.trust.root"]._trusted_der(),
                crls=[ca._crl() for ca in CA.search([])],
                revocation=self._revocation_mode(),
                timeout=self._network_timeout(),
            ).as_dict()
            for item, step in zip(report["signatures"], steps):
                item["role"] = step.role
                item["step"] = step.sequence
        verdict = report["verdict"] if steps or report["verdict"] == "invalid" else "none"
        dossier._write_internal({"signature_report": report, "signature_verdict": verdict,
                                 "signature_checked_on": fields.Datetime.now()})
        return report

    def verify_signatures(self):
        """The verification report of this dossier's signatures (JSON-RPC):
        ``{"verdict": "valid"|"invalid", "reasons": [...], "signatures": [
        {signer, signer_sha256, signing_time, intact, trusted,
        valid_at_signing_time, revocation, modification_level, ...}]}``."""
        self.ensure_one()
        self.check_access("read")
        report = self._compute_signature_verification()
        self.env["hscm.audit.log"]._log("verify", self, {"verdict": report["verdict"]})
        return report

    @api.model
    def _cron_verify_signatures(self, limit=50):
        """Verify recently signed dossiers outside the request (difference
        analysis can take seconds on object-heavy files)."""
        dossiers = self.sudo().search([("signature_verdict", "=", "pending")], limit=limit, order="id")  # cron
        for dossier in dossiers:
            try:
                dossier._compute_signature_verification()
            except Exception:  # noqa: BLE001 - one bad file must not stop the others
                _logger.exception("verification of %s failed", dossier.name)
                dossier._write_internal({"signature_verdict": "invalid",
                                         "signature_checked_on": fields.Datetime.now()})
        if len(dossiers) == limit:
            self.env.ref("hscm_odoo.ir_cron_hscm_verify_signatures")._trigger()
