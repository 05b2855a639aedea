"""The Gradio face of the library: one module per tab, each only wiring widgets to library calls."""
