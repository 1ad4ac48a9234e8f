"""The REST API (/api/v1): thin handlers over services, repositories and commands."""
