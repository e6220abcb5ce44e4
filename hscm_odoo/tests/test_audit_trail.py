from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

from .common import HscmFlowCase


@tagged("post_install", "-at_install")
class TestAuditTrail(HscmFlowCase, TransactionCase):
    def setUp(self):
        super().setUp()
        plan = self.new_plan()
        self.submit(plan)
        plan.with_user(self.head).action_reject("Thiếu phần III")
        self.Log = self.env["hscm.audit.log"]
        self.entries = self.Log.search([], order="sequence")

    def test_chain_is_intact(self):
        self.assertGreaterEqual(len(self.entries), 2)
        self.assertEqual(self.Log._verify(), (True, None, ""))
        action = self.Log.action_verify_chain()
        self.assertEqual(action["params"]["type"], "success")

    def test_edited_entry_is_found(self):
        victim = self.entries[-2]
        self.env.cr.execute(SQL("UPDATE hscm_audit_log SET details = %s WHERE id = %s", '{"forged":1}', victim.id))
        ok, bad, reason = self.Log._verify()
        self.assertFalse(ok)
        self.assertEqual(bad, victim.sequence)
        self.assertIn("edited", reason)
        with mute_logger("odoo.addons.hscm_odoo.models.hscm_audit_log"):  # a broken chain logs an ERROR
            self.assertEqual(self.Log.action_verify_chain()["params"]["type"], "danger")

    def test_deleted_entry_is_found(self):
        victim = self.entries[-2]
        sequence = victim.sequence
        self.env.cr.execute(SQL("DELETE FROM hscm_audit_log WHERE id = %s", victim.id))
        ok, bad, _reason = self.Log._verify()
        self.assertFalse(ok)
        self.assertEqual(bad, sequence + 1)

    def test_cut_tail_is_found(self):
        last = self.entries[-1]
        sequence = last.sequence
        self.env.cr.execute(SQL("DELETE FROM hscm_audit_log WHERE id = %s", last.id))
        ok, bad, reason = self.Log._verify()
        self.assertFalse(ok)
        self.assertEqual(bad, sequence)
        self.assertIn("head", reason)

    def test_nobody_changes_the_trail_through_the_orm(self):
        entry = self.entries[-1]
        with self.assertRaises(UserError):
            entry.write({"details": "{}"})
        with self.assertRaises(UserError):
            entry.unlink()
        with self.assertRaises(UserError):
            self.Log.create({"event": "submit"})
        with self.assertRaises(AccessError):
            entry.with_user(self.principal).read(["details"])

    def test_entries_name_who_when_and_what(self):
        reject = self.entries.filtered(lambda e: e.event == "reject")
        self.assertEqual(reject.user_id, self.head)
        self.assertEqual(reject.login, self.head.login)
        self.assertIn("Thiếu phần III", reject.details)
        self.assertEqual(reject.previous_digest, self.entries[list(self.entries).index(reject) - 1].digest)
