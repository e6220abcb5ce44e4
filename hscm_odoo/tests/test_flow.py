import base64
import errno
import hashlib
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..tools import background_writer
from .common import HscmFlowCase, make_pdf

# Wednesday of teaching week 11 (16-22 Nov 2026), 10:00 in Hà Nội.
WEEK_11 = "2026-11-18 03:00:00"


@tagged("post_install", "-at_install")
@freeze_time(WEEK_11)
class TestApprovalFlow(HscmFlowCase, TransactionCase):
    def activities(self, dossier):
        return dossier.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("hscm_odoo.mail_act_hscm_approval"))

    def test_full_chain_head_then_vice_principal(self):
        plan = self.new_plan()
        self.assertEqual(plan.file_kind, "pdf")
        self.assertEqual(plan.file_pages, 1)
        self.assertEqual(len(plan.file_sha256), 64)
        self.submit(plan)
        self.assertEqual(plan.state, "submitted")
        steps = plan.approval_ids.sorted("sequence")
        self.assertEqual(steps.expected_user_id, self.head | self.vp)
        self.assertEqual(steps.mapped("state"), ["pending", "waiting"])
        self.assertEqual(self.activities(plan).user_id, self.head, "only the current approver has an activity")
        self.assertEqual(plan.current_approver_ids, self.head)
        self.assertFalse(plan.is_late)
        # the deadline: Saturday of week 11, 23:59 in Vietnam = 16:59 UTC
        self.assertEqual(plan.deadline, fields.Datetime.to_datetime("2026-11-21 16:59:00"))

        with self.assertRaises(UserError):
            plan.with_user(self.vp).action_approve()  # not their turn yet
        plan.with_user(self.head).action_approve(comment="Đạt yêu cầu")
        self.assertEqual(steps.mapped("state"), ["approved", "pending"])
        self.assertEqual(steps[0].decided_by_id, self.head)
        self.assertEqual(steps[0].comment, "Đạt yêu cầu")
        self.assertEqual(self.activities(plan).user_id, self.vp)
        plan.with_user(self.vp).action_approve()
        self.assertEqual(plan.state, "approved")
        self.assertTrue(plan.approved_on)
        self.assertFalse(self.activities(plan))
        events = self.env["hscm.audit.log"].search([("res_model", "=", "hscm.dossier"), ("res_id", "=", plan.id)])
        self.assertEqual(sorted(events.mapped("event")), ["approve", "approve", "submit"])

    def test_deputy_acts_only_under_a_delegation(self):
        plan = self.new_plan()
        self.submit(plan)
        with self.assertRaises(UserError):
            plan.with_user(self.deputy).action_approve()
        self.assertTrue(plan.with_user(self.head).can_approve)
        self.assertFalse(plan.with_user(self.deputy).can_approve)

        delegated = self.new_plan(lesson=2)
        delegation = self.env["hscm.delegation"].with_user(self.head).create({
            "kind": "department", "school_id": self.s1.id, "school_department_id": self.k1.id,
            "delegate_id": self.deputy.id, "date_from": "2026-11-16", "date_to": "2026-11-29",
        })
        self.submit(delegated)
        step = delegated.current_approval_id
        self.assertEqual(step.expected_user_id, self.head)
        self.assertEqual(step.acting_user_id, self.deputy)
        self.assertEqual(step.delegation_id, delegation)
        self.assertIn("acting for", step.display_name)
        self.assertEqual(self.activities(delegated).user_id, self.deputy, "the delegate gets the activity")
        delegated.with_user(self.deputy).action_approve()
        self.assertEqual(step.state, "approved")
        self.assertEqual(step.decided_by_id, self.deputy)

        with freeze_time("2026-12-01 03:00:00"):  # the delegation has ended
            later = self.new_plan(week=14, lesson=3)
            self.submit(later)
            self.assertFalse(later.current_approval_id.acting_user_id)

    def test_delegation_rules(self):
        Delegation = self.env["hscm.delegation"]
        with self.assertRaises(ValidationError):  # to someone who is not a deputy
            Delegation.with_user(self.head).create({
                "kind": "department", "school_id": self.s1.id, "school_department_id": self.k1.id,
                "delegate_id": self.teacher.id, "date_from": "2026-11-16", "date_to": "2026-11-29",
            })
        with self.assertRaises(UserError):  # not the head
            Delegation.with_user(self.deputy).create({
                "kind": "department", "school_id": self.s1.id, "school_department_id": self.k1.id,
                "delegate_id": self.deputy.id, "date_from": "2026-11-16", "date_to": "2026-11-29",
            })
        with self.assertRaises(AccessError):  # teachers cannot delegate at all
            Delegation.with_user(self.teacher).create({
                "kind": "department", "school_id": self.s1.id, "school_department_id": self.k1.id,
                "delegate_id": self.deputy.id, "date_from": "2026-11-16", "date_to": "2026-11-29",
            })

    def test_principal_delegates_to_vice_principal(self):
        school_plan_type = self.env.ref("hscm_odoo.dossier_type_school_education_plan")
        vp2_user = self.vp  # the VP uploads the school plan; the principal approves
        plan = self.env["hscm.dossier"].with_user(vp2_user).create({
            "title": "Kế hoạch giáo dục nhà trường 2026-2027", "type_id": school_plan_type.id,
            "school_year_id": self.year.id, "file": base64.b64encode(make_pdf("school-plan")),
            "file_name": "khgd.pdf",
        })
        self.submit(plan)
        self.assertEqual(plan.current_approval_id.expected_user_id, self.principal)
        plan.with_user(self.principal).action_approve()
        self.assertEqual(plan.state, "approved")
        self.assertEqual(plan.forwarded_to_id, self.office_d, "a THCS school plan goes to its Phòng (FR-34)")

    def test_rejection_needs_a_reason_and_resubmission_keeps_versions(self):
        plan = self.new_plan()
        self.submit(plan)
        for reason in ("", "   ", None):
            with self.assertRaises(UserError):
                plan.with_user(self.head).action_reject(reason)
        self.assertEqual(plan.state, "submitted")
        plan.with_user(self.head).action_reject("Thiếu mục tiêu bài học")
        self.assertEqual(plan.state, "rejected")
        self.assertFalse(self.activities(plan))
        self.assertEqual(plan.rejection_reason, "Thiếu mục tiêu bài học")
        notified = plan.message_ids.filtered(lambda m: self.teacher.partner_id in m.partner_ids)
        self.assertTrue(notified, "the owner is notified of the rejection")
        first_hash = plan.file_sha256

        # the owner corrects the file and submits again
        plan.with_user(self.teacher).write({
            "file": base64.b64encode(make_pdf("corrected")), "change_note": "Bổ sung mục tiêu",
        })
        plan.with_user(self.teacher).action_submit()
        self.assertEqual(plan.state, "submitted")
        versions = plan.version_ids.sorted("number")
        self.assertEqual(versions.mapped("number"), [1, 2])
        self.assertEqual(versions[0].file_sha256, first_hash)
        self.assertEqual(versions[0].rejection_reason, "Thiếu mục tiêu bài học")
        self.assertEqual(versions[1].change_note, "Bổ sung mục tiêu")
        self.assertNotEqual(versions[1].file_sha256, first_hash)
        self.assertEqual(plan.current_approval_id.expected_user_id, self.head, "a new chain starts")
        self.assertEqual(plan._current_steps().mapped("version_number"), [2, 2])
        events = self.env["hscm.audit.log"].search([("res_id", "=", plan.id), ("res_model", "=", "hscm.dossier")])
        self.assertIn("resubmit", events.mapped("event"))

    def test_nobody_approves_their_own_record(self):
        own = self.new_plan(user=self.head, label="head-own")
        own.with_user(self.head).action_submit()
        self.assertEqual(own.approval_ids.expected_user_id, self.vp, "a head's own plan goes to the leadership")
        with self.assertRaises(UserError):
            own.with_user(self.head).action_approve()

    def test_batch_approval(self):
        plans = self.new_plan(lesson=1) | self.new_plan(lesson=2) | self.new_plan(lesson=3)
        self.submit(plans)
        plans.with_user(self.head).action_approve()
        self.assertEqual(plans.current_approval_id.expected_user_id, self.vp)
        plans.with_user(self.vp).action_approve()
        self.assertEqual(set(plans.mapped("state")), {"approved"})

    def test_double_approval_in_one_transaction_is_refused(self):
        plan = self.new_plan()
        self.submit(plan)
        plan.with_user(self.head).action_approve()
        with self.assertRaises(UserError):
            plan.with_user(self.head).action_approve()  # a double click
        self.assertEqual(plan.approval_ids.filtered(lambda s: s.state == "approved").decided_by_id, self.head)

    def test_extra_signers_and_required_levels(self):
        plan = self.new_plan()
        plan.with_user(self.teacher).action_propose_chain()
        proposed = plan.approval_ids
        self.assertEqual(proposed.mapped("state"), ["proposed", "proposed"])
        with self.assertRaises(UserError):  # a required level cannot be removed
            proposed[0].with_user(self.teacher).unlink()
        with self.assertRaises(UserError):  # the type takes no extra signers
            self.env["hscm.dossier.approval"].with_user(self.teacher).create({
                "dossier_id": plan.id, "expected_user_id": self.group_leader.id, "sequence": 15,
            })
        self.lesson_plan.allow_extra_signers = True
        self.env["hscm.dossier.approval"].with_user(self.teacher).create({
            "dossier_id": plan.id, "expected_user_id": self.group_leader.id, "sequence": 15,
        })
        with self.assertRaises(UserError):  # the order of required levels is fixed
            proposed[0].with_user(self.teacher).sequence = 30
            self.submit(plan)
        proposed[0].with_user(self.teacher).sequence = 10
        self.submit(plan)
        chain = plan._current_steps()
        self.assertEqual(chain.expected_user_id.ids, [self.head.id, self.group_leader.id, self.vp.id])
        with self.assertRaises(UserError):  # decisions are the system's
            chain[0].with_user(self.teacher).write({"state": "approved"})

    def test_chain_fails_clearly_without_an_approver(self):
        self.k1.head_id = False
        plan = self.new_plan()
        with self.assertRaises(UserError) as error:
            self.submit(plan)
        self.assertIn("administrator", str(error.exception))
        self.assertEqual(plan.state, "draft", "nothing half-saved")
        self.assertFalse(plan.version_ids)


@tagged("post_install", "-at_install")
@freeze_time(WEEK_11)
class TestSubmissionChecks(HscmFlowCase, TransactionCase):
    def test_lookahead_cap(self):
        self.submit(self.new_plan(week=13, lesson=1))  # week 11 + 2
        too_far = self.new_plan(week=14, lesson=2)
        with self.assertRaises(UserError) as error:
            self.submit(too_far)
        self.assertIn("13", str(error.exception))
        self.assertEqual(too_far.state, "draft")
        self.submit(self.new_plan(week=3, lesson=3))  # back-filling an old week is allowed (late)

    def test_late_submission_is_accepted_and_marked(self):
        # week 12's deadline: Saturday 21 November 2026, 23:59 in Vietnam (16:59 UTC)
        with freeze_time("2026-11-21 16:58:00"):
            on_time = self.new_plan(lesson=1)
            self.submit(on_time)
        with freeze_time("2026-11-21 17:00:00"):  # Sunday 00:00 in Vietnam, still Saturday in UTC
            late = self.new_plan(lesson=2)
            self.submit(late)
        self.assertFalse(on_time.is_late)
        self.assertTrue(late.is_late)
        self.assertEqual(late.state, "submitted")
        self.assertEqual(late.deadline, fields.Datetime.to_datetime("2026-11-21 16:59:00"))
        self.assertIn("late", late.message_ids[:1].body)

    def test_school_overrides_the_weekly_deadline(self):
        self.env["hscm.dossier.type.override"].with_user(self.school_admin).create({
            "type_id": self.lesson_plan.id, "school_id": self.s1.id, "deadline_weekday": "6",  # Sunday [002]
        })
        plan = self.new_plan()
        self.submit(plan)
        self.assertEqual(plan.deadline, fields.Datetime.to_datetime("2026-11-22 16:59:00"))
        with self.assertRaises(AccessError):  # not for another school
            self.env["hscm.dossier.type.override"].with_user(self.school_admin).create({
                "type_id": self.lesson_plan.id, "school_id": self.s2.id, "deadline_weekday": "4",
            })
        self.lesson_plan.school_may_override = False
        self.assertEqual(self.lesson_plan._policy_for(self.s1), self.lesson_plan)

    def test_settings_changes_apply_at_once(self):
        """A Sở's settings govern its schools, a school's own come first, and
        creating, archiving, moving or deleting settings applies to the very
        next lookup and upload."""
        Override = self.env["hscm.dossier.type.override"]
        plan = self.lesson_plan
        self.assertEqual(plan._policy_for(self.s1), plan)
        city = Override.create({"type_id": plan.id, "authority_id": self.sgd_a.id, "max_pages": 40})
        self.assertEqual(plan._policy_for(self.s1), city, "the Sở's settings, for each of its schools")
        self.assertEqual(plan._policy_for(self.s2), city)
        school = Override.create({"type_id": plan.id, "school_id": self.s1.id, "max_pages": 20})
        self.assertEqual(plan._policy_for(self.s1), school, "the school's own settings come first")
        school.active = False
        self.assertEqual(plan._policy_for(self.s1), city)
        school.write({"active": True, "school_id": self.s2.id})
        self.assertEqual((plan._policy_for(self.s1), plan._policy_for(self.s2)), (city, school))
        school.unlink()
        self.assertEqual(plan._policy_for(self.s2), city)
        city.authority_id = self.sgd_b
        self.assertEqual(plan._policy_for(self.s1), plan)
        self.assertEqual(plan._policy_for(self.s4), city)
        # an upload is checked against the settings in force
        two_pages = base64.b64encode(make_pdf("two pages", pages=2))
        self.new_plan(lesson=1, file=two_pages)
        city.write({"authority_id": self.sgd_a.id, "max_pages": 1})
        with self.assertRaises(ValidationError):
            self.new_plan(lesson=2, file=two_pages)

    def test_duplicates_are_refused(self):
        first = self.new_plan(lesson=1, label="same")
        self.submit(first)
        same_file = self.new_plan(lesson=2, label="same")
        with self.assertRaises(UserError):
            self.submit(same_file)
        same_lesson = self.new_plan(lesson=1, label="other file")
        with self.assertRaises(UserError):
            self.submit(same_lesson)
        other_class = self.new_plan(lesson=1, label="other class", classes=self.class_8a2)
        self.submit(other_class)

    def test_required_fields(self):
        plan = self.new_plan(week=0)
        with self.assertRaises(UserError) as error:
            self.submit(plan)
        self.assertIn("teaching week", str(error.exception))
        self.assertIn("tuần thực dạy", str(error.exception), "the message is in Vietnamese too")

    def test_hostile_upload_is_refused_and_nothing_is_saved(self):
        count = self.env["hscm.dossier"].search_count([])
        with self.assertRaises(ValidationError) as error:
            self.new_plan(file=base64.b64encode(make_pdf("js", extra="javascript")))
        self.assertIn("JavaScript", str(error.exception))
        self.assertEqual(self.env["hscm.dossier"].search_count([]), count)

        plan = self.new_plan()
        good_hash = plan.file_sha256
        with self.assertRaises(ValidationError):
            with self.env.cr.savepoint():
                plan.with_user(self.teacher).write({"file": base64.b64encode(b"MZ\x90\x00 not a pdf"),
                                                    "file_name": "bai.pdf"})
        plan.invalidate_recordset()
        self.assertEqual(plan.file_sha256, good_hash, "the saved file is kept")
        with self.assertRaises(UserError):
            self.new_plan(file=b"%%%not base64%%%")

    def test_uploads_are_written_durably_and_a_refusing_disk_saves_nothing(self):
        """A record's file goes through background_writer.write_file (synced,
        renamed from the filestore's temporary folder); other attachments are
        left to Odoo; a disk that refuses the file fails the upload whole."""
        written = []
        real_write = background_writer.write_file

        def recording_write(path, data, temporary_dir):
            written.append((path, temporary_dir, hashlib.sha256(data).hexdigest()))
            return real_write(path, data, temporary_dir)

        Attachment = self.env["ir.attachment"].sudo()  # to create and read attachments directly
        with patch.object(background_writer, "write_file", recording_write):
            plan = self.new_plan(label="durable")
            Attachment.create({"name": "note.txt", "raw": b"not a record's file"})
        stored = Attachment.search([("res_model", "=", plan._name), ("res_id", "=", plan.id),
                                    ("res_field", "=", "file")])
        self.assertEqual(written, [(stored._full_path(stored.store_fname), Attachment._hscm_temporary_dir(),
                                    plan.file_sha256)])
        with open(written[0][0], "rb") as file:
            self.assertEqual(hashlib.sha256(file.read()).hexdigest(), plan.file_sha256)

        # the same bytes stored before by Odoo's own write (not synced): synced, not written again
        data = make_pdf("stored by Odoo first")
        plain = Attachment.create({"name": "copy.pdf", "raw": data})
        written.clear()
        synced = []
        with patch.object(background_writer, "write_file", recording_write), \
                patch.object(background_writer, "sync_file", synced.append):
            self.new_plan(label="same bytes", lesson=2, file=base64.b64encode(data))
        self.assertEqual((written, synced), ([], [plain._full_path(plain.store_fname)]))

        count = self.env["hscm.dossier"].search_count([])

        def refusing_write(path, data, temporary_dir):
            raise OSError(errno.ENOSPC, "No space left on device", path)

        with patch.object(background_writer, "write_file", refusing_write), \
                mute_logger("odoo.addons.hscm_odoo.models.ir_attachment"), self.assertRaises(UserError) as caught:
            self.new_plan(label="refused")
        self.assertIn("could not be stored", str(caught.exception))
        self.assertIn("Không lưu được tệp", str(caught.exception))
        self.assertEqual(self.env["hscm.dossier"].search_count([]), count)

    def test_word_only_where_allowed(self):
        import io
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as docx:
            docx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
            docx.writestr("word/document.xml", '<?xml version="1.0"?><document/>')
        data = base64.b64encode(buffer.getvalue())
        with self.assertRaises(ValidationError):
            self.new_plan(file=data, file_name="bai.docx")
        self.env["hscm.dossier.type.override"].create({
            "type_id": self.lesson_plan.id, "school_id": self.s1.id, "allowed_formats": "pdf_docx",
        })
        plan = self.new_plan(file=data, file_name="bai.docx")
        self.assertEqual(plan.file_kind, "docx")

    def test_period_lock_and_unlock(self):
        lock = self.env["hscm.period.lock"].with_user(self.vp).create({
            "name": "Khóa tuần 10-14", "school_id": self.s1.id, "school_year_id": self.year.id,
            "week_from": 10, "week_to": 14,
        })
        plan = self.new_plan()
        with self.assertRaises(UserError):
            self.submit(plan)
        with self.assertRaises(UserError):  # a reason is needed
            self.env["hscm.unlock.request"].with_user(self.teacher).create(
                {"lock_id": lock.id, "school_id": self.s1.id, "reason": " "})
        request = self.env["hscm.unlock.request"].with_user(self.teacher).create(
            {"lock_id": lock.id, "school_id": self.s1.id, "reason": "Nộp bổ sung", "hours": 2})
        with self.assertRaises(UserError):  # only the principal decides
            request.with_user(self.vp).action_approve()
        request.with_user(self.principal).action_approve()
        self.assertEqual(request.state, "approved")
        self.submit(plan)
        self.assertEqual(plan.state, "submitted")
        with freeze_time("2026-11-18 06:00:00"):  # three hours later: locked again
            late = self.new_plan(lesson=2)
            with self.assertRaises(UserError):
                self.submit(late)
            self.env["hscm.unlock.request"]._cron_relock()
            self.assertEqual(request.state, "expired")
        class_s2 = self.env["hscm.school.class"].create({"name": "8B", "grade": 8, "school_id": self.s2.id})
        other_school = self.new_plan(user=self.teacher2, label="s2", classes=class_s2)
        self.submit(other_school)  # the lock is S1's only
        events = self.env["hscm.audit.log"].search([("res_model", "=", "hscm.unlock.request")]).mapped("event")
        self.assertEqual(sorted(events), ["relock", "unlock_approve", "unlock_request"])


@tagged("post_install", "-at_install")
@freeze_time(WEEK_11)
class TestDecisionRights(HscmFlowCase, TransactionCase):
    """Every action refused for every role that may not perform it."""

    def test_only_the_owner_submits(self):
        plan = self.new_plan()
        for user in (self.head, self.vp, self.principal, self.teacher2):
            with self.assertRaises(UserError, msg=user.login):
                plan.with_user(user).action_submit()
        for user in (self.district, self.city, self.specialist, self.school_admin):
            with self.assertRaises(AccessError, msg=user.login):
                plan.with_user(user).action_submit()

    def test_only_the_current_approver_decides(self):
        plan = self.new_plan()
        self.submit(plan)
        for user in (self.teacher, self.deputy, self.group_leader, self.vp, self.principal):
            with self.assertRaises(UserError, msg=user.login):
                plan.with_user(user).action_approve()
            with self.assertRaises(UserError, msg=user.login):
                plan.with_user(user).action_reject("không")
        for user in (self.teacher_k2, self.teacher2, self.city_b, self.school_admin):
            with self.assertRaises(AccessError, msg=user.login):
                plan.with_user(user).action_approve()
        for user in (self.district, self.city, self.specialist):  # inspectors see, never decide
            with self.assertRaises(UserError, msg=user.login):
                plan.with_user(user).action_approve()
        self.assertEqual(plan.state, "submitted")
        self.assertEqual(plan.current_approval_id.state, "pending")

    def test_protected_fields_and_frozen_records(self):
        plan = self.new_plan()
        for vals in ({"state": "approved"}, {"file_sha256": "0" * 64}, {"is_late": False},
                     {"owner_id": self.teacher2.id}):
            with self.assertRaises(UserError, msg=str(vals)):
                plan.with_user(self.teacher).write(vals)
        with self.assertRaises(UserError):
            self.env["hscm.dossier"].with_user(self.teacher).create({
                "title": "x", "type_id": self.lesson_plan.id, "state": "approved"})
        self.submit(plan)
        with self.assertRaises(UserError):
            plan.with_user(self.teacher).write({"title": "changed after submission"})
        with self.assertRaises(UserError):
            plan.with_user(self.teacher).write({"file": base64.b64encode(make_pdf("swap"))})
        with self.assertRaises(UserError):
            plan.unlink()  # even the superuser: submitted records are never deleted
        version = plan.version_ids
        with self.assertRaises(UserError):
            version.write({"rejection_reason": "forged"})
        with self.assertRaises(UserError):
            version.unlink()
        plan.action_archive()
        self.assertFalse(plan.active)

    def test_owner_withdraws_before_any_approval(self):
        plan = self.new_plan()
        self.submit(plan)
        with self.assertRaises(UserError):
            plan.with_user(self.head).action_cancel()
        plan.with_user(self.teacher).action_cancel()
        self.assertEqual(plan.state, "cancelled")
        self.assertFalse(plan.activity_ids)
        approved_once = self.new_plan(lesson=2)
        self.submit(approved_once)
        approved_once.with_user(self.head).action_approve()
        with self.assertRaises(UserError):
            approved_once.with_user(self.teacher).action_cancel()

    def test_approval_rows_follow_the_dossier_scope(self):
        plan = self.new_plan()
        self.submit(plan)
        Approval = self.env["hscm.dossier.approval"]
        self.assertEqual(Approval.with_user(self.teacher).search([("dossier_id", "=", plan.id)]),
                         plan.approval_ids)
        self.assertFalse(Approval.with_user(self.teacher2).search([("dossier_id", "=", plan.id)]))
        self.assertTrue(Approval.with_user(self.district).search([("dossier_id", "=", plan.id)]))
        with self.assertRaises(AccessError):
            plan.version_ids.with_user(self.city_b).read(["file_sha256"])
        with self.assertRaises(AccessError):
            self.env["hscm.audit.log"].with_user(self.vp).search([])
        self.env["hscm.audit.log"].with_user(self.env.ref("base.user_admin")).search([])

    def test_dossier_type_catalogue(self):
        types = self.env["hscm.dossier.type"].search([])
        codes = set(types.mapped("code"))
        for code in ("school_education_plan", "department_teaching_plan", "department_activity_plan",
                     "teacher_education_plan", "lesson_plan", "lesson_plan_extra", "th_enrolment_register",
                     "th_student_records", "th_class_results", "th_strategy_plan", "th_staff_register",
                     "th_universal_education", "th_assets_finance", "th_document_register",
                     "th_iep_semester_1", "th_professional_notes", "th_homeroom_book", "th_youth_book",
                     "th_department_book"):
            self.assertIn(code, codes)
        for dossier_type in types:
            self.assertTrue(dossier_type.approval_template_id.step_ids, dossier_type.code)
        plan = self.new_plan()
        self.assertEqual(plan._policy().lookahead_weeks, 2)
        self.assertEqual(plan._policy().file_unit, "lesson")
        with self.assertRaises(AccessError):
            self.lesson_plan.with_user(self.school_admin).write({"lookahead_weeks": 5})
        with self.assertRaises(ValidationError):
            with self.env.cr.savepoint():
                self.env["hscm.dossier.type.override"].create({
                    "type_id": self.lesson_plan.id, "school_id": self.s1.id,
                    "authority_id": self.sgd_a.id,
                })


@tagged("post_install", "-at_install")
@freeze_time(WEEK_11)
class TestChainPerType(HscmFlowCase, TransactionCase):
    """Every shipped type resolves a chain from the organisation."""

    def test_every_type_resolves_its_chain(self):
        clerk = self.env["res.users"].create({"name": "Văn thư", "login": "t.clerk"})
        self.env["hscm.staff"].create({
            "name": "Văn thư", "user_id": clerk.id, "school_id": self.s1.id,
            "position_ids": [Command.set(self.env.ref("hscm_odoo.position_clerk").ids)],
        })
        owners = {"teacher": self.teacher, "class": self.teacher, "group": self.group_leader,
                  "department": self.head, "school": self.vp, "office": clerk}
        expected_roles = {
            "teacher": ["department_head", "vice_principal"],
            "leadership": ["vice_principal"],
            "principal": ["principal"],
        }
        for dossier_type in self.env["hscm.dossier.type"].search([]):
            level = next(lv for lv in ("thcs", "th", "thpt", "multi") if dossier_type[f"level_{lv}"])
            self.s1.level = level
            owner = owners[dossier_type.owner_level]
            dossier = self.env["hscm.dossier"].create({
                "title": dossier_type.code, "type_id": dossier_type.id, "owner_id": owner.id,
                "school_year_id": self.year.id,
            })
            roles = [vals["role"] for vals in dossier._required_steps()]
            template = dossier_type.approval_template_id.code
            wanted = expected_roles[template]
            if owner == self.head:  # a head's own records skip the head level
                wanted = [role for role in wanted if role != "department_head"]
            self.assertEqual(roles, wanted, dossier_type.code)
            deciders = [vals["expected_user_id"] for vals in dossier._required_steps()]
            self.assertNotIn(owner.id, deciders, f"{dossier_type.code}: nobody approves their own record")
