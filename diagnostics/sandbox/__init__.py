"""The sandbox a checked program runs in: limits, Landlock, seccomp, the audit hook (DESIGN §6)."""
