import base64

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..tools import spreadsheets

SPECS = {"staff": spreadsheets.StaffImport, "assignments": spreadsheets.AssignmentImport}


class HscmImportWizard(models.TransientModel):
    """Import a school's staff (creating their accounts with the roles their
    positions give) or its teaching assignments from Excel. The template is
    downloadable; every wrong row is named with its row number, and an
    import with any wrong row changes nothing."""

    _name = "hscm.import.wizard"
    _description = "Import staff or teaching assignments from Excel"

    kind = fields.Selection([("staff", "Staff"), ("assignments", "Teaching assignments")], required=True,
                            default="assignments")
    school_id = fields.Many2one("hscm.school", required=True, default=lambda self: self._default_school())
    file = fields.Binary(string="Excel file (.xlsx)")
    file_name = fields.Char()
    template = fields.Binary(compute="_compute_template", string="Template")
    template_name = fields.Char(compute="_compute_template")
    result = fields.Text(readonly=True)

    @api.model
    def _default_school(self):
        return self.env.user.hscm_staff_ids.filtered("is_school_admin")[:1].school_id

    @api.depends("kind", "school_id")
    def _compute_template(self):
        for wizard in self:
            wizard.template = base64.b64encode(spreadsheets.make_template(SPECS[wizard.kind], wizard._known()))
            wizard.template_name = f"mau-nhap-{wizard.kind}.xlsx"

    def _known(self):
        """The allowed values of each coded column, as spelling → record id."""
        self.ensure_one()
        school = self.school_id
        subjects = {s.code: s.id for s in self.env["hscm.subject"].search([])}
        if self.kind == "assignments":
            staff = self.env["hscm.staff"].search([("school_id", "=", school.id), ("user_id", "!=", False)])
            return {
                # Sudoed: the logins of the school's own staff, to match the sheet's column
                "teacher": {s.sudo().user_id.login: s.id for s in staff},  # logins of the school's own staff, to match rows
                "subject": subjects,
                "class_name": {c.name: c.id for c in self.env["hscm.school.class"].search(
                    [("school_id", "=", school.id)])},
            }
        return {
            "department": {d.name: d.id for d in school.department_ids},
            "subjects": subjects,
        }

    def _taken(self):
        if self.kind != "staff":
            return {}
        # Sudoed: which logins and e-mails already exist, so a row cannot take one
        users = self.env["res.users"].sudo().with_context(active_test=False).search([])  # logins only, so a new login never collides
        return {"login": {u.login for u in users}, "email": {u.email for u in users if u.email}}

    def action_import(self):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose the Excel file to import."))
        self.school_id.check_access("write")  # the school admin of this school, or the platform manager
        rows, errors = spreadsheets.read_rows(base64.b64decode(self.file), SPECS[self.kind], known=self._known(),
                                              taken=self._taken())
        if errors:
            raise UserError("\n".join(error.text() for error in errors))
        count = self._import_staff(rows) if self.kind == "staff" else self._import_assignments(rows)
        self.env["hscm.audit.log"]._log("import", self.school_id, {"kind": self.kind, "rows": count,
                                                                   "file": self.file_name or None})
        self.result = self.env._("%(count)s rows imported.", count=count)
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new"}

    def _import_assignments(self, rows):
        Assignment = self.env["hscm.teaching.assignment"]
        for row in rows:
            values = row.values
            existing = Assignment.search([("staff_id", "=", values["teacher"]), ("subject_id", "=", values["subject"]),
                                          ("class_id", "=", values["class_name"])], limit=1)
            if existing:
                existing.periods_per_week = values["periods"]
            else:
                Assignment.create({"staff_id": values["teacher"], "subject_id": values["subject"],
                                   "class_id": values["class_name"], "periods_per_week": values["periods"]})
        return len(rows)

    def _import_staff(self, rows):
        positions = {p.code: p.id for p in self.env["hscm.position"].search([])}
        for row in rows:
            values = row.values
            # Sudoed: the school admin creates the accounts of their own staff
            # (checked above with check_access on the school); the groups come
            # from the positions only, through the staff sync.
            user = self.env["res.users"].sudo().with_context(no_reset_password=True).create({  # school admin imports its staff; groups come from positions
                "name": values["name"], "login": values["login"], "email": values.get("email") or False,
                "groups_id": [Command.set(self.env.ref("base.group_portal").ids)],
            })
            self.env["hscm.staff"].create({
                "name": values["name"], "user_id": user.id, "school_id": self.school_id.id,
                "school_department_id": values.get("department") or False,
                "position_ids": [Command.set([positions[c] for c in values["positions"] if c in positions])],
                "subject_ids": [Command.set(values.get("subjects") or [])],
            })
        return len(rows)
