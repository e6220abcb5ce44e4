from odoo import api, models


class ReportHscmProgress(models.AbstractModel):
    """The values of the progress report (QWeb PDF): computed from the
    report's ``data`` (school, department, year, week or month) with the
    rights of the user who prints, whether from the back-office wizard or
    from the department head's portal page."""

    _name = "report.hscm_odoo.report_progress"
    _description = "Progress report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        values = self.env["hscm.oversight.report"]._progress_values(
            data.get("school_id"), data.get("school_year_id"), data.get("kind"), week=data.get("week"),
            month=data.get("month"), department_id=data.get("department_id"))
        values.update(doc_ids=docids, doc_model="hscm.progress.report.wizard",
                      docs=self.env["hscm.progress.report.wizard"].browse(docids))
        return values
