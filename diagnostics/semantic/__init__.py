"""The semantic pass: a program's API structure against a reference program (DESIGN.md §7)."""
