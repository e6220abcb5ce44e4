from odoo.tools import SQL

# Tables of records that reference the addon's own data (types, templates,
# activity type): emptied first, so that removing that data raises nothing.
TRANSACTIONAL_TABLES = (
    "hscm_dossier_approval",
    "hscm_dossier_version",
    "hscm_dossier",
    "hscm_unlock_request",
    "hscm_period_lock",
    "hscm_delegation",
    "hscm_dossier_type_override",
    "hscm_audit_log",
)


def uninstall_hook(env):
    """Uninstalling drops every table of the addon anyway. Records of users'
    work (dossiers, decisions, audit entries…) are removed first, with their
    activities, messages and followers, so that the addon's data records they
    point to can then be deleted cleanly."""
    models = tuple(model for model in env.registry if model.startswith("hscm."))
    env.cr.execute(SQL("DELETE FROM mail_activity WHERE res_model IN %s", models))
    env.cr.execute(SQL("DELETE FROM mail_followers WHERE res_model IN %s", models))
    env.cr.execute(SQL("DELETE FROM mail_message WHERE model IN %s", models))
    env.cr.execute(SQL("TRUNCATE %s CASCADE", SQL(", ").join(SQL.identifier(t) for t in TRANSACTIONAL_TABLES)))
    env.invalidate_all()
