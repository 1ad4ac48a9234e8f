"""The durable promotion lifecycle: workflows decide, steps act, commands wake them."""
