import base64
import hashlib
import json
import threading
import uuid
from contextlib import nullcontext
from urllib.parse import urlencode

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import BaseCase, get_db_name
from odoo.tools import mute_logger

from .common import PASSWORD, HscmFlowCase, make_pdf


@tagged("post_install", "-at_install")
@freeze_time("2026-11-18 03:00:00")
class TestJsonRpc(HscmFlowCase, HttpCase):
    """What a user can do in the portal they can do over JSON-RPC, with the
    same checks (FR: integrations with other school systems)."""

    def rpc(self, model, method, args, kwargs=None, expect_error=False):
        payload = {"jsonrpc": "2.0", "method": "call",
                   "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}}
        with mute_logger("odoo.http") if expect_error else nullcontext():
            response = self.url_open("/web/dataset/call_kw", data=json.dumps(payload),
                                     headers={"Content-Type": "application/json"})
        answer = response.json()
        self.assertEqual("error" in answer, expect_error, answer.get("error", {}).get("data", {}).get("message"))
        return answer

    def test_create_submit_approve_over_rpc(self):
        self.authenticate(self.teacher.login, PASSWORD)
        created = self.rpc("hscm.dossier", "create", [{
            "title": "Bài 7: Hình thang cân",
            "type_id": self.lesson_plan.id,
            "subject_id": self.math.id,
            "class_ids": [Command.set(self.class_8a1.ids)],
            "lesson_number": 7,
            "school_year_id": self.year.id,
            "week_number": 12,
            "file": base64.b64encode(make_pdf("rpc")).decode(),
            "file_name": "bai-7.pdf",
        }])
        dossier_id = created["result"]
        self.assertEqual(self.rpc("hscm.dossier", "action_submit", [[dossier_id]])["result"], True)
        self.rpc("hscm.dossier", "action_approve", [[dossier_id]], expect_error=True)  # not the owner
        self.rpc("hscm.dossier", "write", [[dossier_id], {"state": "approved"}], expect_error=True)

        self.authenticate(self.head.login, PASSWORD)
        self.rpc("hscm.dossier", "action_reject", [[dossier_id], ""], expect_error=True)
        self.assertEqual(self.rpc("hscm.dossier", "action_approve", [[dossier_id]])["result"], True)
        self.authenticate(self.vp.login, PASSWORD)
        self.assertEqual(self.rpc("hscm.dossier", "action_approve", [[dossier_id]],
                                  {"comment": "Duyệt"})["result"], True)
        dossier = self.env["hscm.dossier"].browse(dossier_id)
        self.assertEqual(dossier.state, "approved")

        # outsiders get an access error, not the record
        self.authenticate(self.teacher2.login, PASSWORD)
        self.rpc("hscm.dossier", "read", [[dossier_id], ["title"]], expect_error=True)

    def test_hostile_upload_over_rpc_gets_a_bilingual_message(self):
        self.authenticate(self.teacher.login, PASSWORD)

        answer = self.rpc("hscm.dossier", "create", [{
            "title": "x", "type_id": self.lesson_plan.id, "school_year_id": self.year.id,
            "file": base64.b64encode(make_pdf("js", extra="javascript")).decode(), "file_name": "x.pdf",
        }], expect_error=True)
        message = answer["error"]["data"]["message"]
        self.assertIn("JavaScript", message)
        self.assertNotEqual(message.encode("ascii", "ignore").decode(), message, "a Vietnamese line is there")

    def test_multipart_upload(self):
        self.authenticate(self.teacher.login, PASSWORD)
        form = {"title": "Bài 8", "type_id": self.lesson_plan.id, "subject_id": self.math.id,
                "class_ids": str(self.class_8a1.id), "lesson_number": 8, "school_year_id": self.year.id,
                "week_number": 12}
        headers = {"X-HSCM-Upload": "1"}
        response = self.url_open("/hscm/api/dossiers", data=form, headers=headers,
                                 files={"file": ("bai-8.pdf", make_pdf("multipart"), "application/pdf")})
        self.assertEqual(response.status_code, 201, response.text)
        answer = response.json()
        dossier = self.env["hscm.dossier"].browse(answer["id"])
        self.assertEqual(dossier.owner_id, self.teacher)
        self.assertEqual(dossier.file_sha256, answer["sha256"])
        self.assertEqual(dossier.class_ids, self.class_8a1)
        self.assertTrue(dossier.with_context(bin_size=False).file)
        self.submit(dossier)
        self.assertEqual(dossier.state, "submitted")

        count = self.env["hscm.dossier"].search_count([])
        hostile = self.url_open("/hscm/api/dossiers", data=dict(form, lesson_number=9), headers=headers,
                                files={"file": ("x.pdf", make_pdf("js", extra="javascript"), "application/pdf")})
        self.assertEqual(hostile.status_code, 400)
        self.assertIn("JavaScript", hostile.json()["error"])
        self.assertEqual(self.env["hscm.dossier"].search_count([]), count, "nothing saved")
        no_header = self.url_open("/hscm/api/dossiers", data=form,
                                  files={"file": ("bai-8.pdf", make_pdf("nh"), "application/pdf")})
        self.assertEqual(no_header.status_code, 400, "a cross-site form post is refused")
        no_file = self.url_open("/hscm/api/dossiers", data=form, headers=headers,
                                files={"other": ("a.txt", b"x", "text/plain")})
        self.assertEqual(no_file.status_code, 400)
        self.assertIn("Attach the file", no_file.json()["error"])
        urlencoded = self.url_open("/hscm/api/dossiers", data=form, headers=headers)
        self.assertEqual(urlencoded.status_code, 415, "a form without a file part is not an upload")

        self.authenticate(self.district.login, PASSWORD)  # inspectors cannot create
        refused = self.url_open("/hscm/api/dossiers", data=form, headers=headers,
                                files={"file": ("bai-8.pdf", make_pdf("district"), "application/pdf")})
        self.assertIn(refused.status_code, (400, 403))

    def test_raw_body_upload(self):
        """The file as the request body, the fields in the query string."""
        self.authenticate(self.teacher.login, PASSWORD)
        query = urlencode({"title": "Bài 10", "type_id": self.lesson_plan.id, "subject_id": self.math.id,
                           "class_ids": str(self.class_8a1.id), "lesson_number": 10,
                           "school_year_id": self.year.id, "week_number": 12, "file_name": "bai-10.pdf"})
        content = make_pdf("raw body")
        headers = {"X-HSCM-Upload": "1", "Content-Type": "application/pdf"}
        response = self.url_open(f"/hscm/api/dossiers?{query}", data=content, headers=headers)
        self.assertEqual(response.status_code, 201, response.text)
        dossier = self.env["hscm.dossier"].browse(response.json()["id"])
        self.assertEqual((dossier.file_name, dossier.lesson_number, dossier.class_ids),
                         ("bai-10.pdf", 10, self.class_8a1))
        self.assertEqual(dossier.file_sha256, hashlib.sha256(content).hexdigest())

        count = self.env["hscm.dossier"].search_count([])
        hostile = self.url_open(f"/hscm/api/dossiers?{query}", data=make_pdf("js", extra="javascript"),
                                headers=headers)
        self.assertEqual(hostile.status_code, 400)
        self.assertIn("JavaScript", hostile.json()["error"])
        renamed = self.url_open(f"/hscm/api/dossiers?{query}", data=b"MZ\x90\x00 not a pdf", headers=headers)
        self.assertEqual(renamed.status_code, 400, "the content decides, not the declared type")
        self.assertEqual(self.env["hscm.dossier"].search_count([]), count, "nothing saved")
        text = self.url_open(f"/hscm/api/dossiers?{query}", data=b"hello",
                             headers={"X-HSCM-Upload": "1", "Content-Type": "text/plain"})
        self.assertEqual(text.status_code, 415)

    def test_download_is_scoped_and_traced(self):
        plan = self.new_plan()
        self.submit(plan)
        self.authenticate(self.district.login, PASSWORD)
        response = self.url_open(f"/hscm/dossier/{plan.id}/file")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"%PDF-"))
        log = self.env["hscm.audit.log"].search([("event", "=", "download"), ("res_id", "=", plan.id)])
        self.assertEqual(log.user_id, self.district)
        self.assertTrue(log.ip_address)
        self.authenticate(self.teacher2.login, PASSWORD)
        self.assertEqual(self.url_open(f"/hscm/dossier/{plan.id}/file").status_code, 404)
        self.assertEqual(self.url_open(f"/hscm/dossier/{plan.id}/version/1/file").status_code, 404)


@tagged("post_install", "-at_install")
class TestConcurrentApprovals(BaseCase):
    """Two approvals of the same step in two real transactions (two workers,
    or a double click): exactly one decision and one audit entry.

    A ``BaseCase``, not a ``TransactionCase``: the latter puts the registry in
    test mode, where every cursor shares the test's one transaction, so no two
    transactions could ever compete. The data here is really committed (with
    codes unique to each run) in the throw-away test database."""

    def test_two_transactions(self):
        registry = Registry(get_db_name())
        self.assertIsNone(registry.test_cr, "real cursors are needed")
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            ids = self._committed_fixture(env)
            cr.commit()
        dossier_id, head_id = ids
        barrier = threading.Barrier(2)
        outcomes = []

        def approve():
            with registry.cursor() as cr:
                # bind the transaction to the loaded registry: looking it up by
                # name would wait on the registry lock the test runner holds;
                # mails are queued, not sent after commit (same reason)
                cr.transaction = api.Transaction(registry)
                env = api.Environment(cr, head_id, {"mail_notify_force_send": False})
                barrier.wait()
                try:
                    env["hscm.dossier"].browse(dossier_id).action_approve()
                    cr.commit()
                    outcomes.append("approved")
                except UserError:
                    cr.rollback()
                    outcomes.append("refused")
                except Exception as error:  # noqa: BLE001 - reported by the assertion below
                    cr.rollback()
                    outcomes.append(repr(error))

        threads = [threading.Thread(target=approve) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertFalse(any(thread.is_alive() for thread in threads), "an approval hung")
        self.assertEqual(sorted(outcomes), ["approved", "refused"])
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            dossier = env["hscm.dossier"].browse(dossier_id)
            steps = dossier._current_steps()
            self.assertEqual(steps.mapped("state"), ["approved", "pending"])
            approvals = env["hscm.audit.log"].search_count(
                [("event", "=", "approve"), ("res_model", "=", "hscm.dossier"), ("res_id", "=", dossier_id)])
            self.assertEqual(approvals, 1)
            self.assertEqual(env["hscm.audit.log"]._verify()[0], True, "the chain did not fork")

    def _committed_fixture(self, env):
        """A school, a head, a VP and a submitted plan, committed so that two
        other transactions see them. Codes are unique to this test."""
        tag = uuid.uuid4().hex[:8]  # committed data: unique on every run
        sgd = env["hscm.authority"].create({"name": "Sở C", "code": f"T-CONC-SGD-{tag}", "kind": "department"})
        school = env["hscm.school"].create({"name": "THCS C", "code": f"T-CONC-S-{tag}", "authority_id": sgd.id})
        year = env["hscm.school.year"].create({
            "name": "C 2026-2027", "authority_id": sgd.id, "date_start": "2026-09-07", "date_end": "2027-05-31"})
        department = env["hscm.school.department"].create({"name": "Tổ C", "school_id": school.id})
        position = {code: env.ref(f"hscm_odoo.position_{code}") for code in
                    ("teacher", "department_head", "vice_principal")}

        def person(login, codes):
            user = new_test_user(env, login=f"{login}.{tag}", groups="base.group_portal", password=PASSWORD)
            env["hscm.staff"].create({
                "name": login, "user_id": user.id, "school_id": school.id,
                "school_department_id": department.id,
                "position_ids": [Command.set([position[c].id for c in codes])],
            })
            return user

        teacher = person("t.conc.teacher", ["teacher"])
        head = person("t.conc.head", ["department_head", "teacher"])
        person("t.conc.vp", ["vice_principal"])
        department.head_id = head.hscm_staff_ids
        plan_type = env.ref("hscm_odoo.dossier_type_teacher_education_plan")
        # approvals with the account: the race is about the decision, signatures have their own tests
        env["hscm.dossier.type.override"].create({
            "type_id": plan_type.id, "authority_id": sgd.id, "signature_policy": "account"})
        plan = env["hscm.dossier"].with_user(teacher).create({
            "title": "Bài C", "type_id": plan_type.id,
            "subject_id": env.ref("hscm_odoo.subject_toan").id, "school_year_id": year.id,
            "file": base64.b64encode(make_pdf("concurrency")), "file_name": "c.pdf",
        })
        plan.with_user(teacher).action_submit()
        return plan.id, head.id
