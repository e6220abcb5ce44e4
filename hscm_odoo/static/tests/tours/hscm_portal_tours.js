/** @odoo-module **/

import { registry } from "@web/core/registry";

// The staff portal's weekly cycle, driven in a real (headless) Chromium.
// The passphrase of the test certificates and the test accounts' password
// are the ones of hscm_odoo/tests/test_portal.py.
const PASSPHRASE = "mat-khau-chung-thu";
const PASSWORD = "hscm-test-password";

/**
 * A small valid PDF made in the browser (ASCII only, so its length is its
 * byte count); ``extra`` adds entries to the catalog (e.g. a JavaScript
 * action, which the upload checks refuse).
 */
function makePdf(label, extra = "") {
    const content = `BT /F1 12 Tf 72 720 Td (${label}) Tj ET`;
    const objects = [
        `<< /Type /Catalog /Pages 2 0 R ${extra}>>`,
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R " +
            "/Resources << /Font << /F1 5 0 R >> >> >>",
        `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ];
    let out = "%PDF-1.7\n";
    const offsets = [];
    objects.forEach((object, index) => {
        offsets.push(out.length);
        out += `${index + 1} 0 obj\n${object}\nendobj\n`;
    });
    const xref = out.length;
    out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
    out += offsets.map((offset) => `${String(offset).padStart(10, "0")} 00000 n \n`).join("");
    out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    return new File([out], `${label.replace(/\W+/g, "-")}.pdf`, { type: "application/pdf" });
}

function attach(input, file) {
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
}

function fillLessonPlan(lesson, file) {
    return [
        {
            content: "Lesson number",
            trigger: "input[name=lesson_number]",
            run: `edit ${lesson}`,
        },
        {
            content: "Lesson title",
            trigger: "input[name=title]",
            run: `edit Bài ${lesson}: Hình thang cân`,
        },
        {
            content: "Subject: the first one",
            trigger: "select[name=subject_id]",
            run() {
                this.anchor.selectedIndex = 1;
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Class 8A1",
            trigger: "label.form-check:contains('8A1') input",
            run: "click",
        },
        {
            content: "The file",
            trigger: "input[name=file]",
            run() {
                attach(this.anchor, file());
            },
        },
    ];
}

registry.category("web_tour.tours").add("hscm_portal_teacher_submits", {
    url: "/my/hscm/new",
    steps: () => [
        ...fillLessonPlan(21, () => makePdf(`Lesson 21 ${Date.now()}`)),
        { content: "Submit", trigger: "button.o_hscm_submit", run: "click" },
        { content: "Submitted", trigger: ".o_hscm_done[data-done=submitted]" },
        { content: "Waiting for the first signer", trigger: ".o_hscm_steps .o_hscm_step_pending" },
    ],
});

registry.category("web_tour.tours").add("hscm_portal_bad_file", {
    url: "/my/hscm/new",
    steps: () => [
        ...fillLessonPlan(22, () => makePdf("Lesson 22", "/OpenAction << /S /JavaScript /JS (app.alert(1)) >> ")),
        { content: "Submit", trigger: "button.o_hscm_submit", run: "click" },
        {
            content: "The reason is shown next to the file field",
            trigger: "input[name=file] ~ .o_hscm_field_error[data-field=file]:contains('JavaScript')",
        },
    ],
});

function approveFirst(label) {
    return [
        { content: "Open the first record", trigger: ".o_hscm_queue_item:first", run: "click" },
        { content: "The PDF is shown inline", trigger: "iframe.o_hscm_pdf" },
        { content: "Passphrase", trigger: "input[name=passphrase]", run: `edit ${PASSPHRASE}` },
        { content: "Password", trigger: "input[name=password]", run: `edit ${PASSWORD}` },
        { content: "Comment", trigger: "input[name=comment]", run: `edit ${label}` },
        { content: "Approve and sign", trigger: "button.o_hscm_approve", run: "click" },
        { content: "Approved", trigger: ".o_hscm_done[data-done=approved]" },
    ];
}

registry.category("web_tour.tours").add("hscm_portal_deputy_approves", {
    url: "/my/hscm/approvals",
    steps: () => approveFirst("Đạt (tổ phó thay tổ trưởng)"),
});

registry.category("web_tour.tours").add("hscm_portal_vp_approves", {
    url: "/my/hscm/approvals",
    steps: () => approveFirst("Duyệt"),
});

registry.category("web_tour.tours").add("hscm_portal_teacher_verifies", {
    url: "/my/hscm",
    steps: () => [
        { content: "Open the approved record", trigger: ".o_hscm_dossier_row:contains('Bài 21')", run: "click" },
        { content: "The signed PDF can be downloaded", trigger: "a.o_hscm_download" },
        { content: "Open the verification report", trigger: "a.o_hscm_verify", run: "click" },
        { content: "It verifies", trigger: ".o_hscm_verdict.alert-success" },
    ],
});

registry.category("web_tour.tours").add("hscm_portal_head_rejects", {
    url: "/my/hscm/approvals",
    steps: () => [
        { content: "Open the first record", trigger: ".o_hscm_queue_item:first", run: "click" },
        { content: "Reject without a reason", trigger: "button.o_hscm_reject", run: "click" },
        { content: "A reason is required", trigger: ".o_hscm_field_error[data-field=reason]" },
        { content: "The reason", trigger: "textarea[name=reason]", run: "edit Thiếu mục tiêu bài học." },
        { content: "Reject", trigger: "button.o_hscm_reject", run: "click" },
        { content: "Rejected", trigger: ".o_hscm_done[data-done=rejected]" },
    ],
});

registry.category("web_tour.tours").add("hscm_portal_teacher_resubmits", {
    url: "/my/hscm",
    steps: () => [
        { content: "Open the rejected record", trigger: ".o_hscm_dossier_row:contains('Thiếu mục tiêu')", run: "click" },
        { content: "The reason is shown", trigger: ".o_hscm_reason:contains('Thiếu mục tiêu bài học')" },
        {
            content: "The corrected file",
            trigger: "input#resubmit_file",
            run() {
                attach(this.anchor, makePdf(`Lesson 23 corrected ${Date.now()}`));
            },
        },
        { content: "What changed", trigger: "textarea[name=change_note]", run: "edit Đã bổ sung mục tiêu." },
        { content: "Resubmit", trigger: "button.o_hscm_submit", run: "click" },
        { content: "Submitted again", trigger: ".o_hscm_done[data-done=submitted]" },
    ],
});
