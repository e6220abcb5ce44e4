from . import hscm_dossier_reject_wizard
