"""Pure-Python helpers: no Odoo import here, so each is testable on its own."""
