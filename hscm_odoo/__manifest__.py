# Copyright 2026 hscm_odoo contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl.html).
{
    "name": "Hồ sơ chuyên môn điện tử (HSCM)",
    "summary": "Electronic professional records for Vietnamese schools: "
    "organisation, roles, school calendar, lesson-plan dossiers",
    "version": "18.0.1.0.0",
    "category": "Education",
    "website": "https://github.com/hscm-odoo/hscm_odoo",
    "author": "hscm_odoo contributors",
    "license": "AGPL-3",
    "application": True,
    "installable": True,
    "depends": ["mail", "portal"],
    "external_dependencies": {
        "python": ["pypdf>=5", "pyhanko>=0.38", "openpyxl>=3.1"],
    },
    "data": [
        "security/hscm_security.xml",
        "security/ir.model.access.csv",
        "security/ir_rule.xml",
        "data/hscm_duty_area_data.xml",
        "data/hscm_position_data.xml",
        "data/hscm_subject_data.xml",
        "data/hscm_dossier_type_data.xml",
        "data/ir_sequence_data.xml",
        "views/hscm_authority_views.xml",
        "views/hscm_school_department_views.xml",
        "views/hscm_subject_group_views.xml",
        "views/hscm_subject_views.xml",
        "views/hscm_school_class_views.xml",
        "views/hscm_position_views.xml",
        "views/hscm_duty_area_views.xml",
        "views/hscm_staff_views.xml",
        "views/hscm_school_views.xml",
        "views/hscm_school_year_views.xml",
        "views/hscm_dossier_type_views.xml",
        "views/hscm_dossier_views.xml",
        "views/res_users_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/hscm_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "hscm_odoo/static/tests/tours/*.js",
        ],
    },
}
