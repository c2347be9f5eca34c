"""What runs INSIDE the sandboxed worker child (the parent only names these modules in jobs).

job (the entry, `job:run_job`, and the fix-and-rerun loop) -> plan (entry kind, frameworks, from
the syntax tree) -> execute (one run: slice, stubs, patches, meta device) -> entry_point (find the
model) -> build (torch forward, Keras build/summary/compile) with input_shapes and summary ->
culprit (the error, its layer, its fix); edits maps positions back through applied fixes; stubs,
meta_patches, tf_compat, program_slice, shape_fixes, error_classifier serve them; warm is the
zygote's warm-up.
"""
