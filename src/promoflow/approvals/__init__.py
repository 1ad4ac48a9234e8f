"""Approvals: the policy-driven matrix, tasks, SLAs and segregation of duties."""
