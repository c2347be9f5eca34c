"""Reproducing the DeepEval study from its published data: its programs, its tables."""
