"""Benchmark harness for promptgen (run with ``python -m bench.run``; see bench/README.md)."""
