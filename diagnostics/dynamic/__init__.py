"""The dynamic pass, parent side: worker pools, the job, its result, fixes verified by re-running.

`zygote.py` is the warm process a pool starts, `framing.py` the frames they exchange; everything
under `child/` runs inside the sandboxed worker child instead.
"""
