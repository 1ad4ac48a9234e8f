"""The integration layer's own records: connections, their health, dead letters, the inbox."""
