"""Reports of benchmark runs: the numbers (data), tables, HTML and plots (render, svg)."""
