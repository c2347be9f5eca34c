"""Benchmark tasks as the checkers see them: the task model, tensor specs, suites, task pragmas."""
