import base64
import errno
import gc
import hashlib
import json
import os
import socket
import sys
import threading
import time
from datetime import datetime
from unittest.mock import patch

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from ..models import hscm_dossier_signing
from ..models import ir_attachment as ir_attachment_module
from ..models.hscm_dossier import INTERNAL, known_content, read_binary, store_binary
from ..tools import background_writer, org_ca, pades, signing_process
from .common import PASSWORD, HscmFlowCase
from .doubles.csc_server import CscCredential, CscTestServer
from .doubles.softhsm import SoftHsmToken
from .doubles.test_pki import LocalPki

PASSPHRASE = "mat-khau-chung-thu"


class SigningCase(HscmFlowCase):
    """An organisation CA of Sở A has issued certificates to the approvers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lesson_plan.signature_policy = "pki"
        cls.ca = cls.env["hscm.certificate.authority"].create({
            "name": "CA nội bộ Sở GDĐT A", "organisation": "Sở GDĐT A", "authority_id": cls.sgd_a.id})
        cls.credentials = {user: cls.ca._issue(user, PASSPHRASE) for user in (cls.head, cls.deputy, cls.vp)}

    def approve(self, dossier, user, **kwargs):
        kwargs.setdefault("passphrase", PASSPHRASE)
        return dossier.with_user(user).action_approve(**kwargs)

    def submitted_plan(self, **kwargs):
        plan = self.new_plan(**kwargs)
        self.submit(plan)
        return plan

    def p12_key(self, user):
        data = base64.b64decode(self.credentials[user].with_context(bin_size=False).sudo().pkcs12_data)
        key, cert, _chain = pkcs12.load_key_and_certificates(data, PASSPHRASE.encode())
        return key, cert


@tagged("post_install", "-at_install")
@freeze_time("2026-11-18 03:00:00")
class TestSignatures(SigningCase, TransactionCase):

    def test_each_approval_signs_incrementally_and_verifies(self):
        plan = self.submitted_plan()
        original = read_binary(plan, "file")
        version = plan.version_ids
        self.approve(plan, self.head, comment="Đạt")
        after_head = read_binary(plan, "file")
        self.assertTrue(after_head.startswith(original), "an incremental update")
        self.assertNotEqual(after_head, original)
        self.assertEqual(plan.file_sha256, hashlib.sha256(after_head).hexdigest())
        self.assertEqual(read_binary(version, "file"), original, "the unsigned original is kept")
        self.assertEqual(version.file_sha256, hashlib.sha256(original).hexdigest())
        step1 = plan.approval_ids.filtered(lambda s: s.state == "approved")
        self.assertEqual((step1.signature_method, step1.signer_cert_sha256),
                         ("pkcs12", self.credentials[self.head].cert_sha256))
        self.assertEqual(read_binary(step1, "signed_file"), after_head)

        self.approve(plan, self.vp)
        final = read_binary(plan, "file")
        self.assertTrue(final.startswith(after_head), "the head's signature is kept")
        self.assertEqual(plan.state, "approved")
        summary = pades.signature_summary(final)
        self.assertEqual([s["signer_sha256"] for s in summary],
                         [self.credentials[self.head].cert_sha256, self.credentials[self.vp].cert_sha256])
        self.assertTrue(all(s["intact"] for s in summary))

        report = plan.with_user(self.teacher).verify_signatures()
        self.assertEqual(report["verdict"], "valid", report["reasons"])
        self.assertEqual(len(report["signatures"]), 2)
        for item in report["signatures"]:
            self.assertTrue(item["intact"] and item["trusted"] and item["expected_signer"]
                            and item["valid_at_signing_time"])
            self.assertTrue(item["internal"], "organisation-CA certificates are marked internal")
        self.assertEqual(plan.signature_verdict, "valid")
        signs = self.env["hscm.audit.log"].search([("event", "=", "sign"), ("res_id", "=", plan.id)])
        self.assertEqual(len(signs), 2)

    def test_second_copy_of_a_file_is_not_read_back(self):
        """The signed file is kept twice (current file, step evidence) and a
        submitted file twice (dossier, version): one stored file, and the
        filestore's collision check reads it back only for other bytes."""
        Attachment = self.env["ir.attachment"].sudo()

        def stored(record, field="file"):
            return Attachment.search([("res_model", "=", record._name), ("res_id", "=", record.id),
                                      ("res_field", "=", field)])

        plan = self.submitted_plan()
        self.assertEqual(stored(plan.version_ids).store_fname, stored(plan).store_fname)
        reads = []
        real_open = open

        def counting_open(path, *args, **kwargs):
            reads.append(path)
            return real_open(path, *args, **kwargs)

        with patch.object(ir_attachment_module, "open", counting_open, create=True):
            self.approve(plan, self.head)
        step = plan.approval_ids.filtered(lambda s: s.state == "approved")
        self.assertEqual(read_binary(step, "signed_file"), read_binary(plan, "file"))
        self.assertEqual(stored(step, "signed_file").store_fname, stored(plan).store_fname)
        self.assertEqual(reads, [], "the evidence copy did not read the signed file back")
        # equal bytes in another object, at the same path: compared for real (and found equal)
        current = stored(plan)
        path = current._full_path(current.store_fname)
        copy = bytes(bytearray(read_binary(plan, "file")))
        with patch.object(ir_attachment_module, "open", counting_open, create=True):
            with known_content(read_binary(plan, "file"), stored_path=path):
                self.assertTrue(Attachment._same_content(copy, path))
        self.assertEqual(reads, [path])
        self.assertFalse(Attachment._same_content(copy + b"x", path))

    def test_stored_bytes_do_not_outlive_the_call(self):
        """store_binary keeps no reference to the bytes it stored (in an
        environment's context they lived until the next garbage collection:
        a batch grew by one signed file per dossier)."""
        plan = self.submitted_plan()
        data = read_binary(plan, "file") + b"\n% a copy\n"
        sha1 = hashlib.sha1(data).hexdigest()
        gc.disable()
        try:
            before = sys.getrefcount(data)
            with background_writer.BackgroundFileWriter() as writer:
                stored = store_binary(plan, "file", data, "application/pdf", sha1=sha1, writer=writer)
                store_binary(plan.version_ids.sudo(), "file", data, "application/pdf",  # system record
                             sha1=sha1, same_as=stored.sudo(), writer=writer)  # the same stored file
            self.assertEqual(sys.getrefcount(data), before)
        finally:
            gc.enable()
        self.assertEqual(read_binary(plan.version_ids, "file"), data)

    def test_a_batch_writes_its_signed_files_in_another_thread(self):
        """Each signed file is written by the batch's writer thread (once,
        though kept as the current file and as the step's evidence), and is
        on disk with the digests recorded when the approval returns."""
        plans = self.submitted_plan(lesson=1) | self.submitted_plan(lesson=2) | self.submitted_plan(lesson=3)
        written = []
        real_write = background_writer.write_file

        def recording_write(path, data, temporary_dir):
            written.append((threading.current_thread(), path, hashlib.sha256(data).hexdigest()))
            return real_write(path, data, temporary_dir)

        with patch.object(background_writer, "write_file", recording_write):
            self.approve(plans, self.head)
        self.assertEqual(len(written), 3)
        self.assertNotIn(threading.current_thread(), {thread for thread, _path, _digest in written})
        Attachment = self.env["ir.attachment"].sudo()
        for plan in plans:
            current = Attachment.search([("res_model", "=", plan._name), ("res_id", "=", plan.id),
                                         ("res_field", "=", "file")])
            path = current._full_path(current.store_fname)
            self.assertIn(path, {path for _thread, path, _digest in written})
            with open(path, "rb") as stored:
                data = stored.read()
            self.assertEqual((hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest(), len(data)),
                             (plan.file_sha256, current.checksum, plan.file_size))
            step = plan.approval_ids.filtered(lambda s: s.state == "approved")
            self.assertEqual(step.signed_sha256, plan.file_sha256)
            self.assertEqual(read_binary(step, "signed_file"), data)
        self.assertEqual(plans[0].verify_signatures()["verdict"], "valid")

    def plans(self, count, first=1):
        return self.env["hscm.dossier"].union(*(self.submitted_plan(lesson=n) for n in range(first, first + count)))

    def test_a_batch_is_signed_by_the_signing_process(self):
        """From PROCESS_BATCH_MIN files, the signing process signs them while
        the worker writes the steps: the same signatures, files and digests
        as in the worker; a smaller batch is signed in the worker."""
        process = signing_process.get_signing_process()
        small = self.plans(hscm_dossier_signing.PROCESS_BATCH_MIN - 1)
        before = process.signed
        self.approve(small, self.head)
        self.assertEqual(process.signed, before, "a small batch is signed in the worker")
        plans = self.plans(hscm_dossier_signing.PROCESS_BATCH_MIN + 1, first=len(small) + 1)
        originals = {plan: read_binary(plan, "file") for plan in plans}
        self.approve(plans, self.head)
        self.assertEqual(process.signed, before + len(plans))
        self.assertTrue(process.child_pid, "the process stays for the next batch")
        Attachment = self.env["ir.attachment"].sudo()
        for plan in plans:
            current = Attachment.search([("res_model", "=", plan._name), ("res_id", "=", plan.id),
                                         ("res_field", "=", "file")])
            with open(current._full_path(current.store_fname), "rb") as stored:
                data = stored.read()
            self.assertTrue(data.startswith(originals[plan]) and len(data) > len(originals[plan]))
            self.assertEqual((hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest(), len(data)),
                             (plan.file_sha256, current.checksum, plan.file_size))
            step = plan.approval_ids.filtered(lambda s: s.state == "approved")
            self.assertEqual((step.signed_sha256, step.signer_cert_sha256),
                             (plan.file_sha256, self.credentials[self.head].cert_sha256))
            self.assertEqual(read_binary(step, "signed_file"), data)
            self.assertEqual(plan._current_steps().filtered(lambda s: s.state == "pending").expected_user_id,
                             self.vp)
        for plan in plans | small:
            self.assertEqual(plan.verify_signatures()["verdict"], "valid")
        # the next approver's batch: the process now holds the other key
        self.approve(plans, self.vp)
        self.assertEqual(set(plans.mapped("state")), {"approved"})
        summary = pades.signature_summary(read_binary(plans[0], "file"))
        self.assertEqual([s["signer_sha256"] for s in summary],
                         [self.credentials[u].cert_sha256 for u in (self.head, self.vp)])
        self.assertEqual(plans[0].verify_signatures()["verdict"], "valid")

    def test_a_batch_whose_signature_fails_writes_nothing(self):
        """A failure in the signing process after the worker wrote the steps
        undoes them, even in a transaction that goes on."""
        plans = self.plans(hscm_dossier_signing.PROCESS_BATCH_MIN)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.env["ir.config_parameter"].set_param("hscm_odoo.tsa_url",
                                                      "http://127.0.0.1:%d/tsa" % probe.getsockname()[1])
        before = {plan: (plan.state, plan.file_sha256, plan.activity_ids.user_id) for plan in plans}
        answers = []
        real_result = signing_process.SigningBatch.result

        def result(batch):
            answers.append(batch)
            return real_result(batch)

        # not assertRaises: Odoo's rolls back to a savepoint of its own
        with patch.object(signing_process.SigningBatch, "result", result):
            try:
                self.approve(plans, self.head)
            except UserError as error:
                caught = error
            else:
                self.fail("approved without the timestamp authority")
        self.assertIn("timestamp authority cannot be reached", str(caught))
        self.assertEqual(len(answers), 1, "the signing process refused the first file, after the steps were written")
        for plan in plans:
            self.assertEqual((plan.state, plan.file_sha256, plan.activity_ids.user_id), before[plan])
            self.assertEqual(plan._current_steps()[:1].state, "pending")
            self.assertFalse(plan.approval_ids.filtered("signed_sha256"))

    def test_a_changed_stored_file_is_not_signed(self):
        """The signing process reads the file from the filestore: a file
        changed there since Odoo recorded it is refused, nothing written."""
        plans = self.plans(hscm_dossier_signing.PROCESS_BATCH_MIN)
        Attachment = self.env["ir.attachment"].sudo()
        current = Attachment.search([("res_model", "=", plans._name), ("res_id", "=", plans[-1].id),
                                     ("res_field", "=", "file")])
        path = current._full_path(current.store_fname)
        with open(path, "rb") as stored:
            original = stored.read()
        try:
            with open(path, "wb") as stored:
                stored.write(original.replace(b"%%EOF", b"%%EOF\n% changed", 1))
            with self.assertRaises(UserError) as caught, \
                    self.assertLogs("odoo.addons.hscm_odoo.models.hscm_dossier_signing", "WARNING"):
                self.approve(plans, self.head)
        finally:
            with open(path, "wb") as stored:
                stored.write(original)
        self.assertIn("is not the one recorded", str(caught.exception))
        self.assertIn("không phải tệp đã ghi nhận", str(caught.exception))
        self.assertIn(plans[-1].name, str(caught.exception))
        for plan in plans:
            self.assertEqual(plan._current_steps()[:1].state, "pending")
            self.assertFalse(plan.approval_ids.filtered("signed_sha256"))
        self.approve(plans, self.head)
        self.assertEqual(plans[-1].verify_signatures()["verdict"], "valid")

    def test_a_signed_file_the_disk_refuses_approves_nothing(self):
        def refusing_write(path, data, temporary_dir):
            raise OSError(errno.ENOSPC, "No space left on device", path)

        process = signing_process.get_signing_process()
        # signed in the worker, then by the signing process
        for count, first, by_process in ((2, 1, False), (hscm_dossier_signing.PROCESS_BATCH_MIN, 3, True)):
            plans = self.plans(count, first=first)
            before = {plan: (plan.state, plan.file_sha256) for plan in plans}
            signed = process.signed
            with patch.object(background_writer, "write_file", refusing_write), \
                    mute_logger("odoo.addons.hscm_odoo.models.hscm_dossier_signing"), \
                    self.assertRaises(UserError) as caught:
                self.approve(plans, self.head)
            self.assertEqual(process.signed > signed, by_process)
            self.assertIn("could not be stored", str(caught.exception))
            self.assertIn("Không lưu được tệp đã ký", str(caught.exception))
            for plan in plans:
                self.assertEqual((plan.state, plan.file_sha256), before[plan])
                self.assertEqual(plan._current_steps()[:1].state, "pending")
                self.assertFalse(plan.approval_ids.filtered("signed_sha256"))

    def test_an_unreachable_timestamp_authority_signs_nothing(self):
        """A TSA that does not answer is not a disk that refuses a file: its
        own message, and nothing saved."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.env["ir.config_parameter"].set_param("hscm_odoo.tsa_url",
                                                      "http://127.0.0.1:%d/tsa" % probe.getsockname()[1])
        plan = self.submitted_plan()
        before = plan.file_sha256
        with self.assertRaises(UserError) as caught:
            self.approve(plan, self.head)
        self.assertIn("timestamp authority cannot be reached", str(caught.exception))
        self.assertNotIn("could not be stored", str(caught.exception))
        self.assertEqual((plan.state, plan.file_sha256, plan._current_steps()[:1].state),
                         ("submitted", before, "pending"))

    def test_files_kept_in_the_database(self):
        """With ir_attachment.location = db nothing goes through the
        filestore (nor the batch's writer): submitting, signing and verifying
        work the same."""
        self.env["ir.config_parameter"].set_param("ir_attachment.location", "db")
        plans = self.submitted_plan(lesson=1) | self.submitted_plan(lesson=2)
        self.approve(plans, self.head)
        self.approve(plans[0], self.vp)
        Attachment = self.env["ir.attachment"].sudo()
        stored = Attachment.search([("res_model", "=", plans._name), ("res_id", "in", plans.ids),
                                    ("res_field", "=", "file")])
        self.assertEqual(len(stored), 2)
        self.assertFalse(any(stored.mapped("store_fname")))
        for plan in plans:
            self.assertEqual(hashlib.sha256(read_binary(plan, "file")).hexdigest(), plan.file_sha256)
        self.assertEqual(plans[0].verify_signatures()["verdict"], "valid")

    def test_temporaries_a_killed_worker_left_are_removed_after_a_day(self):
        Attachment = self.env["ir.attachment"].sudo()
        folder = Attachment._hscm_temporary_dir()
        old, fresh = os.path.join(folder, "old.1.2.tmp"), os.path.join(folder, "fresh.1.2.tmp")
        for path in (old, fresh):
            with open(path, "wb") as file:
                file.write(b"half a file")
        self.addCleanup(lambda: [os.path.exists(p) and os.unlink(p) for p in (old, fresh)])
        two_days_ago = time.time() - 2 * 24 * 3600
        os.utime(old, (two_days_ago, two_days_ago))
        Attachment._gc_hscm_temporaries()
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(fresh))

    def test_stamp_of_a_deputy_acting_for_the_head(self):
        self.env["hscm.delegation"].with_user(self.head).create({
            "kind": "department", "school_id": self.s1.id, "school_department_id": self.k1.id,
            "delegate_id": self.deputy.id, "date_from": "2026-11-16", "date_to": "2026-11-29"})
        plan = self.submitted_plan()
        step = plan._current_steps()[:1]
        self.assertEqual(step.acting_user_id, self.deputy)
        stamp = plan.with_user(self.deputy)._stamp_for(step)
        self.assertEqual((stamp.delegation, stamp.position), ("KT. TỔ TRƯỞNG", "TỔ PHÓ"))
        self.assertEqual(stamp.name, self.deputy.name)
        self.assertEqual(stamp.signed_at, "Ngày ký: 18/11/2026 10:00", "Vietnam time")
        self.assertTrue(stamp.qr_url.endswith(f"/hscm/verify/{plan.verify_token}"))
        self.approve(plan, self.deputy)
        signer = pades.signature_summary(read_binary(plan, "file"))[0]["signer_sha256"]
        self.assertEqual(signer, self.credentials[self.deputy].cert_sha256)

    def test_wrong_passphrase_or_no_certificate_changes_nothing(self):
        plan = self.submitted_plan()
        before = plan.file_sha256
        with self.assertRaisesRegex(UserError, "passphrase or PIN"):
            self.approve(plan, self.head, passphrase="sai")
        self.assertEqual((plan.state, plan.file_sha256), ("submitted", before))
        self.assertEqual(plan._current_steps()[:1].state, "pending")

        self.credentials[self.head].action_revoke("mất khoá")
        with self.assertRaisesRegex(UserError, "no certificate"):
            self.approve(plan, self.head)
        # a Sở still rolling certificates out lets accounts approve
        self.env["hscm.dossier.type.override"].create({
            "type_id": self.lesson_plan.id, "authority_id": self.sgd_a.id, "signature_policy": "account"})
        self.approve(plan, self.head)
        step = plan.approval_ids.filtered(lambda s: s.state == "approved")
        self.assertEqual((step.signature_method, plan.file_sha256), ("account", before))

    def test_tampering_is_found(self):
        plan = self.submitted_plan()
        self.approve(plan, self.head)
        self.approve(plan, self.vp)
        signed = read_binary(plan, "file")
        self.assertEqual(plan.verify_signatures()["verdict"], "valid")
        store_binary(plan, "file", signed + b"\n% added later\n", "application/pdf")
        report = plan.verify_signatures()
        self.assertEqual(report["verdict"], "invalid")
        self.assertTrue(report["reasons"])
        store_binary(plan, "file", signed, "application/pdf")
        last = plan.approval_ids.filtered(lambda s: s.state == "approved").sorted("sequence")[-1]
        last.sudo().with_context(hscm_internal=INTERNAL).write(
            {"signer_cert_sha256": self.credentials[self.head].cert_sha256})
        report = plan.verify_signatures()
        self.assertEqual(report["verdict"], "invalid")
        self.assertFalse(report["signatures"][1]["expected_signer"])

    def test_revocation_counts_at_signing_time(self):
        """Decree 23/2025: what matters is the certificate's status when it signed."""
        plan = self.submitted_plan()
        self.approve(plan, self.head)
        self.approve(plan, self.vp)
        self.env["ir.config_parameter"].set_param("hscm_odoo.revocation_mode", "hard")
        self.assertEqual(plan.verify_signatures()["verdict"], "valid", "every certificate proven good")
        with freeze_time("2026-11-20 03:00:00"):
            self.credentials[self.vp].action_revoke("nghỉ việc")
        self.assertEqual(plan.verify_signatures()["verdict"], "valid", "revoked after it signed")
        # a key reported compromised before the approval it signed
        self.credentials[self.vp].sudo().revoked_on = "2026-11-17 03:00:00"
        report = plan.verify_signatures()
        self.assertEqual(report["verdict"], "invalid")
        self.assertEqual(report["signatures"][1]["revocation"], "revoked")
        self.assertEqual(report["signatures"][0]["revocation"], "good")

    def test_evidence_files_cannot_be_changed(self):
        plan = self.submitted_plan()
        self.approve(plan, self.head)
        Attachment = self.env["ir.attachment"]
        # each model with its own ids: ids of different models may be equal
        files = Attachment.sudo().search(expression.AND([[("res_field", "!=", False)], expression.OR([
            [("res_model", "=", records._name), ("res_id", "in", records.ids)]
            for records in (plan, plan.version_ids, plan.approval_ids)])]))
        self.assertEqual(len(files), 3, "current file, submitted version, signed revision")
        admin = self.env.ref("base.user_admin")
        for user in (self.teacher, admin):
            for attachment in files.with_user(user):
                with self.assertRaises(UserError):  # AccessError is a UserError
                    attachment.write({"raw": b"%PDF-1.7 forged"})
                with self.assertRaises(UserError):  # AccessError is a UserError
                    attachment.unlink()
        with self.assertRaises(UserError):  # AccessError is a UserError
            Attachment.with_user(admin).create({"name": "file", "res_model": "hscm.dossier.version",
                                                "res_field": "file", "res_id": plan.version_ids.id,
                                                "raw": b"%PDF-1.7 forged"})
        self.assertEqual(read_binary(plan.version_ids, "file")[:5], b"%PDF-")
        # a draft with its file can still be deleted by its owner
        draft = self.new_plan(lesson=9)
        draft.with_user(self.teacher).unlink()
        self.assertFalse(draft.exists())

    def test_device_signature(self):
        """The server prepares, the approver's device signs, the server embeds."""
        key, cert = self.p12_key(self.head)
        device = self.env["hscm.signing.credential"].with_user(self.head).create({
            "method": "client_token", "certificate": base64.b64encode(cert.public_bytes(Encoding.DER)), "sequence": 1})
        self.credentials[self.head].sudo().active = False
        plan = self.submitted_plan()
        with self.assertRaisesRegex(UserError, "own device"):
            self.approve(plan, self.head)
        prepared = plan.with_user(self.head).action_prepare_device_signature()
        value = key.sign(base64.b64decode(prepared["to_sign"]), PKCS1v15(), SHA256())
        with self.assertRaises(UserError):  # someone else cannot use the head's prepared signature
            plan.with_user(self.vp).action_approve_device_signature(prepared["request_id"],
                                                                    base64.b64encode(value).decode())
        with self.assertRaisesRegex(UserError, "does not match"):
            plan.with_user(self.head).action_approve_device_signature(prepared["request_id"],
                                                                      base64.b64encode(b"x" * 256).decode())
        prepared = plan.with_user(self.head).action_prepare_device_signature()
        value = key.sign(base64.b64decode(prepared["to_sign"]), PKCS1v15(), SHA256())
        plan.with_user(self.head).action_approve_device_signature(prepared["request_id"],
                                                                  base64.b64encode(value).decode())
        step = plan.approval_ids.filtered(lambda s: s.state == "approved")
        self.assertEqual((step.signature_method, step.signer_cert_sha256), ("client_token", device.cert_sha256))
        with self.assertRaises(UserError):  # a prepared signature is used once
            plan.with_user(self.head).action_approve_device_signature(prepared["request_id"],
                                                                      base64.b64encode(value).decode())
        self.approve(plan, self.vp)
        self.assertEqual(plan.verify_signatures()["verdict"], "valid")

    def test_remote_signing_and_token(self):
        """The vice principal signs through a CSC service, the head with a
        PKCS#11 token (SoftHSM2)."""
        head_key, head_cert = self.p12_key(self.head)
        vp_key, vp_cert = self.p12_key(self.vp)
        der = Encoding.DER
        ca_der = base64.b64decode(self.ca.certificate)
        Credential = self.env["hscm.signing.credential"]
        with SoftHsmToken(head_key, head_cert.public_bytes(der), chain_der=[ca_der]) as token, \
                CscTestServer([CscCredential("vp-1", vp_key, [vp_cert.public_bytes(der), ca_der], "1234")],
                              username="vp.remote", password="dich-vu") as csc:
            Credential.with_user(self.head).create({
                "method": "pkcs11", "certificate": base64.b64encode(head_cert.public_bytes(der)), "sequence": 1,
                "pkcs11_module": token.module_path, "pkcs11_token_label": token.token_label,
                "pkcs11_key_label": token.key_label, "pkcs11_cert_label": token.cert_label or False})
            Credential.with_user(self.vp).create({
                "method": "csc", "certificate": base64.b64encode(vp_cert.public_bytes(der)), "sequence": 1,
                "csc_url": csc.url, "csc_username": "vp.remote", "csc_credential_id": "vp-1"})
            plan = self.submitted_plan()
            with self.assertRaisesRegex(UserError, "passphrase or PIN"):
                self.approve(plan, self.head, passphrase="000000")
            self.approve(plan, self.head, passphrase=token.pin)
            with self.assertRaisesRegex(UserError, "passphrase or PIN"):
                self.approve(plan, self.vp, passphrase="dich-vu:9999")
            self.approve(plan, self.vp, passphrase="dich-vu:1234")
        methods = plan.approval_ids.filtered(lambda s: s.state == "approved").sorted("sequence").mapped(
            "signature_method")
        self.assertEqual(methods, ["pkcs11", "csc"])
        self.assertEqual(plan.verify_signatures()["verdict"], "valid")

    def test_remote_signing_csc_api_v2(self):
        """The vice principal signs through a service speaking only CSC API
        v2 (OAuth 2.0 client credentials, authData, hashes); a wrong client
        secret or PIN changes nothing."""
        vp_key, vp_cert = self.p12_key(self.vp)
        vp_der = vp_cert.public_bytes(Encoding.DER)
        ca_der = base64.b64decode(self.ca.certificate)
        with CscTestServer([CscCredential("vp-v2", vp_key, [vp_der, ca_der], "2468")],
                           username="vp.oauth-client", password="bi-mat", versions=("v2",)) as csc:
            credential = self.env["hscm.signing.credential"].with_user(self.vp).create({
                "method": "csc", "certificate": base64.b64encode(vp_der), "sequence": 1,
                "csc_url": csc.url, "csc_api_version": "v2", "csc_username": "vp.oauth-client"})
            self.assertEqual(self.env["hscm.signing.credential"]._for_user(self.vp), credential)
            plan = self.submitted_plan()
            self.approve(plan, self.head)
            before = plan.file_sha256
            for wrong in ("sai-bi-mat:2468", "bi-mat:1357"):
                with self.assertRaisesRegex(UserError, "passphrase or PIN"):
                    self.approve(plan, self.vp, passphrase=wrong)
                self.assertEqual((plan.state, plan.file_sha256), ("submitted", before))
            csc.calls.clear()
            self.approve(plan, self.vp, passphrase="bi-mat:2468")
            # spoken in v2: OAuth 2.0 token, never the v1 login; one SAD, one signHash
            self.assertEqual(csc.calls[:3], ["info", "oauth2/token", "credentials/list"])
            self.assertNotIn("auth/login", csc.calls)
            self.assertEqual(csc.calls[-2:], ["credentials/authorize", "signatures/signHash"])
            self.assertEqual(csc.calls.count("signatures/signHash"), 1)
        self.assertEqual(plan.state, "approved")
        step = plan.approval_ids.filtered(lambda s: s.state == "approved").sorted("sequence")[-1]
        self.assertEqual((step.signature_method, step.signer_cert_sha256), ("csc", credential.cert_sha256))
        report = plan.verify_signatures()
        self.assertEqual(report["verdict"], "valid", report["reasons"])
        self.assertEqual(report["signatures"][-1]["signer_sha256"], credential.cert_sha256)

    def _chain(self, roles):
        template = self.env["hscm.approval.template"].create({
            "name": " → ".join(roles), "code": "test_" + "_".join(roles),
            "step_ids": [(0, 0, {"sequence": i, "role": role, "required": True}) for i, role in enumerate(roles)]})
        self.lesson_plan.approval_template_id = template

    def test_one_step_chain(self):
        self.credentials[self.principal] = self.ca._issue(self.principal, PASSPHRASE)
        self._chain(["principal"])
        plan = self.submitted_plan()
        self.approve(plan, self.principal)
        self.assertEqual(plan.state, "approved")
        report = plan.verify_signatures()
        self.assertEqual((report["verdict"], len(report["signatures"])), ("valid", 1), report["reasons"])
        self.assertTrue(report["signatures"][0]["covers_whole_file"])

    def test_three_step_chain(self):
        self.credentials[self.group_leader] = self.ca._issue(self.group_leader, PASSPHRASE)
        self._chain(["group_leader", "department_head", "vice_principal"])
        plan = self.submitted_plan()
        for user in (self.group_leader, self.head, self.vp):
            self.approve(plan, user)
        self.assertEqual(plan.state, "approved")
        report = plan.verify_signatures()
        self.assertEqual(report["verdict"], "valid", report["reasons"])
        self.assertEqual([s["signer_sha256"] for s in report["signatures"]],
                         [self.credentials[u].cert_sha256 for u in (self.group_leader, self.head, self.vp)])
        versions = [read_binary(plan.version_ids, "file")] + [
            read_binary(step, "signed_file") for step in plan.approval_ids.sorted("sequence")]
        for earlier, later in zip(versions, versions[1:]):
            self.assertTrue(later.startswith(earlier), "each version is a prefix of the next")

    def test_expired_and_wrong_person_certificates_are_refused(self):
        issued = org_ca.issue_certificate(
            self.ca._bundle(), self.ca._key_passphrase(), common_name=self.head.name, organisation="THCS S1",
            valid_days=30, p12_passphrase=PASSPHRASE.encode(), now=datetime(2025, 1, 1))
        self.credentials[self.head].action_revoke("hết hạn, cấp lại")
        self.env["hscm.signing.credential"].sudo().create({
            "user_id": self.head.id, "certificate": base64.b64encode(issued.cert_der),
            "pkcs12_data": base64.b64encode(issued.pkcs12)})
        plan = self.submitted_plan()
        with self.assertRaisesRegex(UserError, "cannot sign now"):
            self.approve(plan, self.head)
        self.assertEqual(plan._current_steps()[:1].state, "pending")

        # someone else's certificate cannot be registered to one's account
        vp_cert = self.credentials[self.vp].certificate
        with self.assertRaisesRegex(ValidationError, "issued to|another account"):
            self.env["hscm.signing.credential"].with_user(self.deputy).create({
                "method": "client_token", "certificate": vp_cert})
        other = org_ca.issue_certificate(
            self.ca._bundle(), self.ca._key_passphrase(), common_name="Người Khác", organisation="THCS S1",
            p12_passphrase=PASSPHRASE.encode())
        with self.assertRaisesRegex(ValidationError, "issued to"):
            self.env["hscm.signing.credential"].with_user(self.deputy).create({
                "method": "client_token", "certificate": base64.b64encode(other.cert_der)})

    def test_credentials_are_their_holders_own(self):
        head_credential = self.credentials[self.head]
        self.assertEqual(self.env["hscm.signing.credential"].with_user(self.head).search([]), head_credential)
        self.assertFalse(self.env["hscm.signing.credential"].with_user(self.teacher).search([]))
        with self.assertRaises(UserError):  # AccessError: another person's certificate
            head_credential.with_user(self.vp).read(["subject"])
        with self.assertRaises(UserError):
            head_credential.with_user(self.teacher).write({"sequence": 1})
        manager = self.env["res.users"].create({"name": "Platform manager", "login": "t.manager.sig",
                                                "groups_id": [(6, 0, [self.env.ref("hscm_odoo.group_manager").id])]})
        self.assertIn(head_credential, self.env["hscm.signing.credential"].with_user(manager).search([]))

    def test_batch_approval_asks_once(self):
        plans = self.submitted_plan(lesson=1) | self.submitted_plan(lesson=2)
        wizard = self.env["hscm.dossier.approve.wizard"].with_user(self.head).with_context(
            active_ids=plans.ids).create({"passphrase": PASSPHRASE})
        self.assertTrue(wizard.needs_signature)
        wizard.action_approve()
        self.assertFalse(wizard.passphrase, "the passphrase is not kept")
        self.assertEqual(len(plans.approval_ids.filtered(lambda s: s.signature_method == "pkcs12")), 2)


@tagged("post_install", "-at_install")
class TestSignaturesOverHttp(SigningCase, HttpCase):

    def rpc(self, model, method, args, kwargs=None, expect_error=False):
        payload = {"jsonrpc": "2.0", "method": "call",
                   "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}}
        with mute_logger("odoo.http") if expect_error else mute_logger():
            response = self.url_open("/web/dataset/call_kw", data=json.dumps(payload),
                                     headers={"Content-Type": "application/json"})
        answer = response.json()
        self.assertEqual("error" in answer, expect_error, answer.get("error", {}).get("data", {}).get("message"))
        return answer

    def test_approve_over_rpc_asks_for_the_password_and_verifies(self):
        plan = self.submitted_plan()
        self.authenticate(self.head.login, PASSWORD)
        answer = self.rpc("hscm.dossier", "action_approve", [plan.ids], {"passphrase": PASSPHRASE},
                          expect_error=True)
        self.assertIn("password again", answer["error"]["data"]["message"])
        answer = self.rpc("hscm.dossier", "action_approve", [plan.ids],
                          {"passphrase": PASSPHRASE, "password": "wrong-password"}, expect_error=True)
        self.assertIn("password is not right", answer["error"]["data"]["message"])
        self.rpc("hscm.dossier", "action_approve", [plan.ids], {"passphrase": PASSPHRASE, "password": PASSWORD})
        self.authenticate(self.vp.login, PASSWORD)
        self.rpc("hscm.dossier", "action_approve", [plan.ids], {"passphrase": PASSPHRASE, "password": PASSWORD})
        self.authenticate(self.teacher.login, PASSWORD)
        report = self.rpc("hscm.dossier", "verify_signatures", [plan.ids])["result"]
        self.assertEqual(report["verdict"], "valid", report["reasons"])
        self.assertEqual([s["signer_sha256"] for s in report["signatures"]],
                         [self.credentials[u].cert_sha256 for u in (self.head, self.vp)])
        self.authenticate(self.teacher2.login, PASSWORD)
        self.rpc("hscm.dossier", "verify_signatures", [plan.ids], expect_error=True)

    def test_public_verification_page(self):
        plan = self.submitted_plan()
        self.approve(plan, self.head)
        self.approve(plan, self.vp)
        self.assertEqual(plan.signature_verdict, "pending")
        self.env["hscm.dossier"]._cron_verify_signatures()
        self.assertEqual(plan.signature_verdict, "valid")
        self.authenticate(None, None)
        page = self.url_open(f"/hscm/verify/{plan.verify_token}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Chữ ký số hợp lệ", page.text)
        self.assertIn("PHÓ HIỆU TRƯỞNG", page.text)
        self.assertIn(plan.file_sha256, page.text)
        for personal in (self.teacher.name, self.head.name, self.vp.name):
            self.assertNotIn(personal, page.text)
        self.assertEqual(self.url_open(f"/hscm/verify/{plan.id}").status_code, 404)
        self.assertEqual(self.url_open(f"/hscm/verify/{plan.verify_token[:-2]}xx").status_code, 404)

    def test_timestamped_signatures(self):
        """With a TSA, signatures are PAdES B-T and verify with the TSA's time."""
        with LocalPki() as pki:
            self.env["hscm.trust.root"].create({"name": "Test PKI", "kind": "test",
                                                "certificate": base64.b64encode(pki.root_der)})
            self.env["ir.config_parameter"].set_param("hscm_odoo.tsa_url", pki.tsa_url)
            plan = self.submitted_plan()
            self.approve(plan, self.head)
            self.approve(plan, self.vp)
            report = plan.verify_signatures()
        self.assertEqual(report["verdict"], "valid", report["reasons"])
        self.assertTrue(all(s["timestamped"] for s in report["signatures"]))
