"""Machinery of benchmarks/search_efficiency.py: arms, one run per (arm, seed, problem), metrics."""
