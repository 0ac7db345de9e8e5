"""Helpers shared by tests and test-like runners (fuzzing, durability, benchmarks)."""
