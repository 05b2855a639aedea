"""Start the RLHF Playground UI: ``python app.py`` (also the Hugging Face Spaces entry point).

The same as the ``rlhf-playground`` command: ``python app.py --hosted`` serves it as a Space does
(a private workspace per browser, no local paths, smaller uploads; see README, "Hosting it for many
people"), ``--share`` adds a public link, ``--trust-remote-code`` lets Hub models run their own Python
code (ignored when hosted).
"""

from rlhf_playground.cli import console

if __name__ == "__main__":
    console()
