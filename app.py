"""Start the RLHF Playground UI: ``python app.py`` (also the Hugging Face Spaces entry point)."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from rlhf_playground.ui.app import launch  # noqa: E402

if __name__ == "__main__":
    launch()
