"""The benchmark runner of deepeval-lsp: tasks, prompting, generation, scoring, store, reports."""
