"""Sandbox: runs untrusted candidate programs against a problem's tests; returns per-test outcomes."""
