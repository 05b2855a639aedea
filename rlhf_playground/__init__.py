"""RLHF Playground: the whole RLHF pipeline, small enough to run and watch on a laptop.

The library never imports gradio; the UI lives in :mod:`rlhf_playground.ui`.
Heavy libraries (torch, transformers, trl, datasets) are imported inside the
functions that need them so that the app starts fast.
"""

__version__ = "0.1.0"
