/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A vice principal opens the app, finds their school's records (and only
// theirs), opens one, then looks their school up in the organisation.
registry.category("web_tour.tours").add("hscm_backoffice_vice_principal", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("hscm_odoo.hscm_menu_root", "Open Professional records"),
        {
            content: "Open the Records menu",
            trigger: '.o_main_navbar button[data-menu-xmlid="hscm_odoo.hscm_dossier_menu"]',
            run: "click",
        },
        {
            content: "Every record in my scope",
            trigger: '.dropdown-item[data-menu-xmlid="hscm_odoo.hscm_dossier_inspection_menu"]',
            run: "click",
        },
        {
            content: "The school's record is listed",
            trigger: ".o_list_view .o_data_cell:contains('S1 KHTN Toán')",
        },
        {
            content: "Another school's record is not",
            trigger: ".o_list_view:not(:has(.o_data_cell:contains('S2 Toán')))",
        },
        {
            content: "Open the record",
            trigger: ".o_data_cell:contains('S1 KHTN Toán')",
            run: "click",
        },
        {
            content: "The form shows its department",
            trigger: ".o_form_view .o_field_widget[name=school_department_id]:contains('Tổ KHTN')",
        },
        {
            content: "Open the Organisation menu",
            trigger: '.o_main_navbar button[data-menu-xmlid="hscm_odoo.hscm_organisation_menu"]',
            run: "click",
        },
        {
            content: "Go to Schools",
            trigger: '.dropdown-item[data-menu-xmlid="hscm_odoo.hscm_school_menu"]',
            run: "click",
        },
        {
            content: "Open the school",
            trigger: ".o_data_cell:contains('THCS S1')",
            run: "click",
        },
        {
            content: "It reports to its district office",
            trigger: ".o_field_widget[name=reports_to_id]:contains('Phòng GDĐT D')",
        },
    ],
});
