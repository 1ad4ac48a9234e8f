"""Launch gates: a versioned YAML policy, vectorised evaluation, stored evidence."""
