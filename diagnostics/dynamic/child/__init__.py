"""What runs INSIDE the sandboxed worker child: the model runner, meta patches, slicing, fixes.

The parent process never imports these modules to run them; it only names them in jobs.
"""
