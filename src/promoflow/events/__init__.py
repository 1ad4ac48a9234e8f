"""Events: the immutable, CloudEvents-shaped log that doubles as the outbox."""
