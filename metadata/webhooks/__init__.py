"""Change events: recorded with each change (outbox), signed and delivered at least once."""
