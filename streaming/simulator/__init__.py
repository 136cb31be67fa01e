"""The race simulator: cars, their six event types, faults, and replay of recorded races into Kafka."""
