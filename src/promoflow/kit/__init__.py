"""Shared infrastructure: database, errors, time. Imports nothing else of promoflow."""
