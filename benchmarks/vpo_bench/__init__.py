"""Machinery of benchmarks/vpo_vs_grpo.py: plan and arms, resumable parts, statistics, report."""
