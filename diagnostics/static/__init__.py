"""The static pass: what can be found without running the program (DESIGN.md §5)."""
