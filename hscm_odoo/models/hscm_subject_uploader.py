from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HscmSubjectUploader(models.Model):
    """For a subject several teachers teach (KHTN, LS&ĐL, Nghệ thuật…), the
    one teacher the department head names to upload its plans (FR-04)."""

    _name = "hscm.subject.uploader"
    _description = "Appointed uploader of a shared subject"
    _order = "school_department_id, subject_id"

    school_department_id = fields.Many2one("hscm.school.department", string="Department", required=True,
                                           index=True, ondelete="cascade")
    school_id = fields.Many2one(related="school_department_id.school_id", store=True, index=True)
    subject_id = fields.Many2one("hscm.subject", required=True, index=True, ondelete="cascade")
    staff_id = fields.Many2one("hscm.staff", string="Uploader", required=True, index=True, ondelete="cascade",
                               domain="[('school_department_id', '=', school_department_id)]")

    _sql_constraints = [
        ("subject_uniq", "unique(school_department_id, subject_id)",
         "A shared subject has one appointed uploader per department."),
    ]

    @api.constrains("staff_id", "school_department_id")
    def _check_member(self):
        for appointment in self:
            if appointment.staff_id.school_department_id != appointment.school_department_id:
                raise ValidationError(self.env._("The uploader must belong to the department."))
