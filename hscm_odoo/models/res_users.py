from odoo import Command, api, fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    hscm_staff_ids = fields.One2many(
        "hscm.staff", "user_id", string="Staff records", context={"active_test": False}
    )
    hscm_authority_id = fields.Many2one(
        "hscm.authority",
        string="Office account of",
        index=True,
        ondelete="restrict",
        help="For accounts of a Sở or an intermediate office: the authority "
        "whose scope the account inspects.",
    )
    hscm_subject_ids = fields.Many2many(
        "hscm.subject",
        "hscm_subject_specialist_rel",
        "user_id",
        "subject_id",
        string="Specialist subjects",
        help="For Sở subject specialists: the subjects they inspect.",
    )

    def _get_invalidation_fields(self):
        # record rules read these fields of the user: their cache must follow
        return super()._get_invalidation_fields() | {"hscm_authority_id", "hscm_subject_ids"}

    def _hscm_school(self, leader=False):
        """The school of the user's active staff record (of one where they
        lead, with ``leader``): the default of the school's forms."""
        staff = self.hscm_staff_ids.filtered(lambda s: s.active and (s.is_leader or not leader))
        return staff[:1].school_id

    def _hscm_school_year(self, leader=False):
        """The school year in progress at the user's school, or False."""
        school = self._hscm_school(leader)
        return school._get_school_year(fields.Datetime.now()) if school else False

    def _hscm_teaching_week(self, leader=False):
        """The teaching week in progress at the user's school (1 outside one)."""
        school = self._hscm_school(leader)
        return ((school.get_teaching_week() if school else False) or {}).get("week") or 1

    @api.model
    def _hscm_school_groups(self):
        """The groups that school positions grant, managed by the sync."""
        return self.env["hscm.position"].with_context(active_test=False).search([]).group_id

    def _hscm_sync_groups(self):
        """Give each account exactly the groups its active positions grant.

        Staff accounts are portal users unless one of their positions needs
        the back office (leadership, school admin). Office accounts and
        system administrators are managed by hand: only the school groups
        are added or removed for them.
        """
        managed = self._hscm_school_groups()
        group_user = self.env.ref("base.group_user")
        group_portal = self.env.ref("base.group_portal")
        # Sudoed: the school admin may edit staff and positions of their own
        # school (checked by the record rules on hscm.staff before we get
        # here), but not res.users; the groups written are only the ones that
        # positions grant, a mapping only the platform manager can edit.
        for user in self.sudo().with_context(active_test=False):  # see comment above
            staff = user.hscm_staff_ids.filtered("active")
            target = staff.position_ids.group_id & managed
            if user._is_superuser() or user._is_system() or user.hscm_authority_id or not staff:
                user.write(
                    {"groups_id": [Command.unlink(g.id) for g in managed - target]
                     + [Command.link(g.id) for g in target]}
                )
                continue
            internal = any(group_user in (g | g.trans_implied_ids) for g in target)
            base_group = group_user if internal else group_portal
            user.write({"groups_id": [Command.set((target | base_group).ids)]})
