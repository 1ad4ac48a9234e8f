"""Odoo connector: the external API over JSON-2 (Odoo 19+) or JSON-RPC (/jsonrpc)."""
