from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import audit_chain


class HscmAuditHead(models.Model):
    """The head of the audit chain: one row holding the last sequence and
    digest. Writers lock it (``SELECT … FOR UPDATE``) so entries are added one
    at a time and the chain never forks; it also reveals entries cut off the
    end of the trail."""

    _name = "hscm.audit.head"
    _description = "Audit chain head"
    _log_access = False

    sequence = fields.Integer(required=True, default=0)
    digest = fields.Char(required=True, default=audit_chain.GENESIS)

    @api.model
    def _get(self):
        # Sudoed: the single system row, created at install; nobody has rights on it.
        return self.env.ref("hscm_odoo.audit_head").sudo()  # see the comment above

    @api.model
    def _lock(self):
        head = self._get()
        self.env.cr.execute(SQL("SELECT sequence, digest FROM hscm_audit_head WHERE id = %s FOR UPDATE", head.id))
        head.invalidate_recordset()
        return head

    def _advance(self, sequence, digest):
        self.ensure_one()
        self.env.cr.execute(SQL(
            "UPDATE hscm_audit_head SET sequence = %s, digest = %s WHERE id = %s", sequence, digest, self.id))
        self.invalidate_recordset()
