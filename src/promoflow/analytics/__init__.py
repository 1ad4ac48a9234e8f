"""Process analytics over the event log: flow, timing, rework, bottlenecks, conformance."""
