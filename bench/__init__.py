"""Benchmarks (`make bench`): figures as ratios to baselines measured in the same run."""
