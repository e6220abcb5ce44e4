from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from ..models.hscm_dossier import read_binary
from ..tools import pades
from .test_signatures import SigningCase


@tagged("post_install", "-at_install")
@freeze_time("2026-11-18 03:00:00")
class TestSchoolSeal(SigningCase, TransactionCase):
    """A type may ask for the school's seal as the final, organisational
    signature after the last approval."""

    def issue_seal(self):
        # the seal's file is protected with a passphrase derived from the
        # database secret: the one given here is not used
        return self.ca._issue(self.principal, "ignored", kind="seal", school=self.s1)

    def approve_chain(self, plan):
        self.approve(plan, self.head)
        self.approve(plan, self.vp)

    def test_sealed_type_ends_with_the_seal_and_verifies(self):
        self.lesson_plan.seal_final_signature = True
        seal = self.issue_seal()
        self.assertEqual((seal.kind, seal.school_id), ("seal", self.s1))
        plan = self.submitted_plan()
        self.approve(plan, self.head)
        self.assertFalse(plan.approval_ids.filtered(lambda s: s.role == "seal"), "sealed after the last step only")
        self.approve(plan, self.vp)
        self.assertEqual(plan.state, "approved")

        steps = plan._current_steps()
        self.assertEqual(steps.mapped("role"), ["department_head", "vice_principal", "seal"])
        seal_step = steps[-1]
        self.assertEqual((seal_step.state, seal_step.signer_cert_sha256, seal_step.signature_method),
                         ("approved", seal.cert_sha256, "pkcs12"))
        final = read_binary(plan, "file")
        self.assertEqual(read_binary(seal_step, "signed_file"), final)
        self.assertTrue(final.startswith(read_binary(steps[1], "signed_file")), "an incremental signature")
        self.assertEqual((seal_step.signed_size, plan.file_sha256), (len(final), seal_step.signed_sha256))
        self.assertEqual([s["signer_sha256"] for s in pades.signature_summary(final)], [
            self.credentials[self.head].cert_sha256, self.credentials[self.vp].cert_sha256, seal.cert_sha256])

        report = plan.verify_signatures()
        self.assertEqual(report["verdict"], "valid", report["reasons"])
        self.assertEqual([s["signer_sha256"] for s in report["signatures"]], [
            self.credentials[self.head].cert_sha256, self.credentials[self.vp].cert_sha256, seal.cert_sha256])
        self.assertEqual(report["signatures"][-1]["role"], "seal")
        self.assertTrue(report["signatures"][-1]["covers_whole_file"])
        signs = self.env["hscm.audit.log"].search([("event", "=", "sign"), ("res_id", "=", plan.id)])
        self.assertEqual(len(signs), 3)
        self.assertEqual(self.env["hscm.audit.log"]._verify()[0], True)

    def test_batch_of_sealed_records(self):
        self.lesson_plan.seal_final_signature = True
        seal = self.issue_seal()
        plans = self.submitted_plan(lesson=1) | self.submitted_plan(lesson=2)
        plans.with_user(self.head).action_approve(passphrase="mat-khau-chung-thu")
        plans.with_user(self.vp).action_approve(passphrase="mat-khau-chung-thu")
        for plan in plans:
            report = plan.verify_signatures()
            self.assertEqual((report["verdict"], len(report["signatures"])), ("valid", 3), report["reasons"])
            self.assertEqual(report["signatures"][-1]["signer_sha256"], seal.cert_sha256)

    def test_without_a_valid_seal_the_last_approval_is_refused(self):
        self.lesson_plan.seal_final_signature = True
        plan = self.submitted_plan()
        self.approve(plan, self.head)
        before = plan.file_sha256
        with self.assertRaisesRegex(UserError, "no valid seal certificate"):
            self.approve(plan, self.vp)
        self.assertEqual(plan.state, "submitted")
        self.assertEqual(plan._current_steps().mapped("state"), ["approved", "pending"])
        self.assertEqual(plan.file_sha256, before, "nothing was signed")
        self.assertFalse(plan.approval_ids.filtered(lambda s: s.role == "seal"))

        # a revoked seal does not count either
        seal = self.issue_seal()
        seal.action_revoke("lost")
        with self.assertRaisesRegex(UserError, "no valid seal certificate"):
            self.approve(plan, self.vp)
        self.assertEqual(plan.state, "submitted")

        # with a valid seal the same approval goes through
        self.issue_seal()
        self.approve(plan, self.vp)
        self.assertEqual(plan.state, "approved")
        self.assertEqual(plan.verify_signatures()["verdict"], "valid")

    def test_a_school_override_asks_for_the_seal(self):
        self.issue_seal()
        self.env["hscm.dossier.type.override"].create({
            "type_id": self.lesson_plan.id, "school_id": self.s1.id, "seal_final_signature": True})
        plan = self.submitted_plan()
        self.approve_chain(plan)
        self.assertEqual(plan._current_steps().mapped("role")[-1], "seal")

    def test_a_type_without_the_setting_is_unchanged(self):
        self.assertFalse(self.lesson_plan.seal_final_signature)
        self.issue_seal()
        plan = self.submitted_plan()
        self.approve_chain(plan)
        self.assertEqual(plan.state, "approved")
        self.assertEqual(plan._current_steps().mapped("role"), ["department_head", "vice_principal"])
        report = plan.verify_signatures()
        self.assertEqual((report["verdict"], len(report["signatures"])), ("valid", 2), report["reasons"])
