"""``rlhf-playground`` (or ``python -m rlhf_playground serve``): start the app in the browser.

Gradio is imported only when the command runs, so ``--help`` of every command stays fast;
the hosted switch goes into the environment first, because the app reads it as it is built.
"""

from __future__ import annotations

import os


def register(subparsers) -> None:
    help_text = "serve the app in the browser (what a bare `rlhf-playground` does)"
    parser = subparsers.add_parser("serve", help=help_text, description=help_text)
    parser.add_argument(
        "--hosted",
        action="store_true",
        help="serve it as a Space does: a private workspace per browser, no local paths, smaller uploads",
    )
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (as on Colab)")
    parser.add_argument("--host", help="the address to listen on (default 127.0.0.1, or GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, help="the port to listen on (default 7860, or GRADIO_SERVER_PORT)")
    parser.set_defaults(func=command)


def command(args) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if args.hosted:
        os.environ["RLHF_HOSTED"] = "1"
    from ..hosting import is_hosted

    if is_hosted():  # a shared app (a Space included) reads the Hub with no token, in its jobs too
        os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
    from ..ui.app import launch

    options = {"share": True} if args.share else {}
    if args.host:
        options["server_name"] = args.host
    if args.port:
        options["server_port"] = args.port
    launch(**options)
    return 0
