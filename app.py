"""Start the RLHF Playground UI: ``python app.py`` (also the Hugging Face Spaces entry point).

``python app.py --hosted`` serves it as a Space does: a private workspace per browser,
no local paths, smaller uploads (see README, "Hosting it for many people").
"""

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if "--hosted" in sys.argv[1:]:
    os.environ["RLHF_HOSTED"] = "1"

from rlhf_playground.ui.app import launch  # noqa: E402

if __name__ == "__main__":
    launch()
