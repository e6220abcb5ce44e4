from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HscmTeachingAssignment(models.Model):
    """A teacher teaches a subject to a class, so many periods a week
    (*phân công chuyên môn*): what tells the product which lesson plans each
    teacher owes each week (FR-51). Importable from Excel."""

    _name = "hscm.teaching.assignment"
    _description = "Teaching assignment"
    _order = "school_id, staff_id, subject_id, class_id"

    staff_id = fields.Many2one("hscm.staff", string="Teacher", required=True, index=True, ondelete="cascade")
    user_id = fields.Many2one(related="staff_id.user_id", store=True, index=True)
    school_id = fields.Many2one(related="staff_id.school_id", store=True, index=True)
    school_department_id = fields.Many2one(related="staff_id.school_department_id", store=True, index=True,
                                           string="Department")
    subject_id = fields.Many2one("hscm.subject", required=True, index=True, ondelete="restrict")
    class_id = fields.Many2one("hscm.school.class", string="Class", required=True, index=True, ondelete="cascade",
                               domain="[('school_id', '=', school_id)]")
    periods_per_week = fields.Integer(required=True, default=1)
    from_week = fields.Integer(help="First teaching week of the assignment (empty: from the start).")
    to_week = fields.Integer(help="Last teaching week of the assignment (empty: to the end).")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("periods_range", "CHECK(periods_per_week BETWEEN 1 AND 20)", "Periods per week: from 1 to 20."),
        ("unique_assignment", "unique(staff_id, subject_id, class_id, from_week)",
         "This teacher already teaches this subject to this class."),
    ]

    @api.constrains("class_id", "staff_id")
    def _check_same_school(self):
        for assignment in self:
            if assignment.class_id.school_id != assignment.staff_id.school_id:
                raise ValidationError(self.env._("The class %(cls)s is not a class of %(school)s.",
                                                 cls=assignment.class_id.name,
                                                 school=assignment.staff_id.school_id.name))

    @api.depends("staff_id", "subject_id", "class_id")
    def _compute_display_name(self):
        for assignment in self:
            assignment.display_name = (f"{assignment.staff_id.name} — {assignment.subject_id.name} — "
                                       f"{assignment.class_id.name}")

    # Periods a week of the 2018 general-education programme, lower secondary
    # (a starting point the school corrects: the timetable decides)
    PERIODS_BY_SUBJECT = {"toan": 4, "ngu_van": 4, "tieng_anh": 3, "khtn": 4, "ls_dl": 3, "gdcd": 1,
                          "tin_hoc": 1, "cong_nghe": 1, "gdtc": 2, "nghe_thuat": 2}

    @api.model
    def _create_from_staff(self, school_ids):
        """First setup (and the demo): one assignment per subject and class a
        teacher of these schools is linked to, with the programme's periods;
        existing assignments are kept."""
        created = self.browse()
        staff = self.env["hscm.staff"].search([("school_id", "in", list(school_ids))])
        for member in staff:
            for subject in member.subject_ids:
                for school_class in member.class_ids:
                    if not self.search_count([("staff_id", "=", member.id), ("subject_id", "=", subject.id),
                                              ("class_id", "=", school_class.id)]):
                        created |= self.create({
                            "staff_id": member.id, "subject_id": subject.id, "class_id": school_class.id,
                            "periods_per_week": self.PERIODS_BY_SUBJECT.get(subject.code, 2)})
        return created
