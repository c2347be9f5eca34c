"""The dynamic pass, parent side: worker pools, the job, its result, fixes verified by re-running.

Everything under `child/` runs inside the sandboxed worker child instead.
"""
