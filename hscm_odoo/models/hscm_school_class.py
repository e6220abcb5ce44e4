from odoo import fields, models


class HscmSchoolClass(models.Model):
    """A class of pupils (*lớp*), e.g. 8A1."""

    _name = "hscm.school.class"
    _description = "Class"
    _order = "school_id, grade, name"

    name = fields.Char(required=True)
    grade = fields.Integer(required=True, help="1 to 12.")
    school_id = fields.Many2one("hscm.school", required=True, index=True, ondelete="cascade")
    homeroom_teacher_id = fields.Many2one(
        "hscm.staff",
        string="Homeroom teacher (GVCN)",
        domain="[('school_id', '=', school_id)]",
        ondelete="set null",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_school_uniq", "unique(school_id, name)", "A school cannot have two classes with the same name."),
        ("grade_range", "CHECK(grade BETWEEN 1 AND 12)", "The grade must be between 1 and 12."),
    ]
