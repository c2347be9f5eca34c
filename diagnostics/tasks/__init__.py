"""Benchmark tasks as the checkers and the benchmark see them: the task model (`model`), the
suite loader (`suite`) with its two task formats (`toml_tasks`, `study_tasks`), and the built-in
suite's files (`suites/builtin`). A file names its task with `# deepeval: task=ID`
(diagnostics/pragmas.py)."""
