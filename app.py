"""Start the RLHF Playground UI: ``python app.py`` (also the Hugging Face Spaces entry point).

``python app.py --hosted`` serves it as a Space does: a private workspace per browser,
no local paths, smaller uploads (see README, "Hosting it for many people");
``--trust-remote-code`` lets Hub models run their own Python code (ignored when hosted).
"""

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if "--hosted" in sys.argv[1:]:
    os.environ["RLHF_HOSTED"] = "1"
if "--trust-remote-code" in sys.argv[1:]:  # let models run their own Python code (never when hosted)
    os.environ["RLHF_TRUST_REMOTE_CODE"] = "1"

from rlhf_playground.ui.app import launch  # noqa: E402

if __name__ == "__main__":
    launch()
