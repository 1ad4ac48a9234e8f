"""The web console: server-rendered pages (Jinja + htmx) for the people who run promotions.

Pages call the same services as /api/v1 and obey the same access policy
(policies/access.yaml); a person signs in with what the API accepts (web/auth.py).
"""
