from . import hscm_dossier_reject_wizard
from . import hscm_dossier_approve_wizard
from . import hscm_certificate_issue_wizard
from . import hscm_import_wizard
from . import hscm_progress_report_wizard
from . import hscm_year_summary
from . import hscm_year_summary_line
