"""Microsoft Dynamics 365 Business Central connector (API v2.0, OData V4)."""
