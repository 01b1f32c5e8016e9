"""Benchmarks (not tests): each prints a table with its reference measured in the same run."""
