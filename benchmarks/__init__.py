"""Benchmarks for conv1dify: ``python -m benchmarks NAME`` (``python -m benchmarks --help`` lists them)."""
