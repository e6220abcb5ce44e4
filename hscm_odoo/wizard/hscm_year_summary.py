import io

from odoo import Command, api, fields, models

from ..tools import oversight_reports as orp
from ..tools import spreadsheets


class HscmYearSummary(models.TransientModel):
    """The year-end summary per teacher for the emulation evaluation (*thi
    đua, xếp loại*, FR-53): for a school year, each teacher's lesson plans
    owed, approved on time and late, rejected, missing, the on-time
    percentage, their other records and the violation records issued.
    Computed with the user's rights; exported to Excel or printed."""

    _name = "hscm.year.summary"
    _description = "Year-end summary per teacher"

    school_id = fields.Many2one("hscm.school", required=True, default=lambda self: self._default_school())
    department_id = fields.Many2one("hscm.school.department", string="Department",
                                    domain="[('school_id', '=', school_id)]")
    school_year_id = fields.Many2one("hscm.school.year", string="School year", required=True,
                                     default=lambda self: self._default_year())
    computed_on = fields.Datetime(readonly=True)
    line_ids = fields.One2many("hscm.year.summary.line", "summary_id", string="Teachers", readonly=True)

    @api.model
    def _default_school(self):
        return self.env.user._hscm_school()

    @api.model
    def _default_year(self):
        return self.env.user._hscm_school_year()

    def action_compute(self):
        self.ensure_one()
        rows = self.env["hscm.oversight.report"]._year_rows(self.school_id, self.school_year_id,
                                                           self.department_id or None)
        self.write({
            "computed_on": fields.Datetime.now(),
            "line_ids": [Command.clear()] + [Command.create(dict(
                orp.year_row(summary), staff_id=member.id, department_id=member.school_department_id.id,
                on_time_pct=orp.year_row(summary)["on_time_pct"] or 0.0,
                has_owed=summary.totals.owed > 0,
            )) for member, summary in rows],
        })
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "current"}

    def _ensure_computed(self):
        for summary in self:
            if not summary.computed_on:
                summary.action_compute()

    def _xlsx_headers(self):
        _ = self.env._
        return [_("Teacher"), _("Department"), _("Lesson plans owed"), _("Approved on time"), _("Approved late"),
                _("Waiting for approval"), _("Rejected (now)"), _("Missing"), _("On time (%)"),
                _("Times rejected"), _("Other records"), _("Other records approved"), _("Violation records issued")]

    def _xlsx(self):
        """The summary as ``.xlsx`` bytes (openpyxl write-only)."""
        self.ensure_one()
        self._ensure_computed()

        def rows():
            for line in self.line_ids:
                yield [line.staff_id.name, line.department_id.name or "", line.owed, line.on_time, line.late,
                       line.pending, line.rejected, line.missing, line.on_time_pct if line.has_owed else None,
                       line.rejections, line.other_records, line.other_approved, line.violations]

        stream = io.BytesIO()
        spreadsheets.write_rows(stream, self.school_year_id.name, self._xlsx_headers(), rows())
        return stream.getvalue()

    def action_export_xlsx(self):
        self.ensure_one()
        content = self._xlsx()
        attachment = self.env["ir.attachment"].create({
            "name": f"tong-hop-nam-hoc-{self.school_year_id.name}.xlsx", "raw": content,
            "res_model": self._name, "res_id": self.id,
            "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        })
        self.env["hscm.audit.log"]._log("export", self.school_id, {
            "what": "year_summary", "school_year": self.school_year_id.name, "rows": len(self.line_ids)})
        return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true",
                "target": "self"}

    def action_print(self):
        self._ensure_computed()
        return self.env.ref("hscm_odoo.action_report_year_summary").report_action(self)

    def action_print_teachers(self):
        self._ensure_computed()
        return self.env.ref("hscm_odoo.action_report_year_summary_teacher").report_action(self.line_ids)
