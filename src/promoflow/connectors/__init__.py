"""Connectors: typed ports per capability and one folder per external system."""
