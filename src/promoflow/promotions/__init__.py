"""Promotions: the request, its revisions, items, locations and validation findings."""
