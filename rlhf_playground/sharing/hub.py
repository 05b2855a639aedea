"""Talking to the Hugging Face Hub, with answers for people when it can't be reached.

transformers and datasets retry an unreachable hub for about 25 seconds before
failing with a long message. We check once, quickly, and say it in one sentence. The check is an
HTTP request through huggingface_hub's own client, so it goes where the downloads go: through
``HTTPS_PROXY`` on a campus or company network, to ``HF_ENDPOINT`` on a mirror.
"""

from __future__ import annotations

import os
import re
import time

from ..errors import OFFLINE_HINT, UserError, is_offline_error

_cache: dict[str, tuple[float, bool]] = {}
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


def hub_reachable(timeout: float = 3.0, max_age: float = 60.0) -> bool:
    """Whether the hub answers an HTTP request (any status) within ``timeout`` s, remembered for ``max_age`` s."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    endpoint = (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    now = time.monotonic()
    hit = _cache.get(endpoint)
    if hit and now - hit[0] < max_age:
        return hit[1]
    try:
        get_session().head(f"{endpoint}/api/models", timeout=timeout)
        ok = True
    except Exception:  # no route, no name, a refused or timed-out connection, a proxy that won't connect
        ok = False
    _cache[endpoint] = (now, ok)
    return ok


def hub_token() -> str | bool | None:
    """The token reads from the Hub go with: none at all in a shared app (the host's ``HF_TOKEN`` would let
    strangers read the host's private and gated repositories), else ``HF_TOKEN`` or the saved login."""
    from ..hosting import is_hosted

    return False if is_hosted() else None


def require_hub(what: str) -> None:
    """Raise a :class:`UserError` naming ``what`` when the hub can't be reached."""
    if not hub_reachable():
        raise UserError(f"Can't fetch '{what}': {OFFLINE_HINT}")


def looks_like_repo_id(text: str) -> bool:
    """Whether ``text`` has the shape of a Hub name (``name`` or ``owner/name``), not of a path."""
    return ".." not in text and bool(_REPO_ID.match(text))


def check_repo(repo_id: str, repo_type: str = "model") -> None:
    """Fail early, in one sentence, when ``repo_id`` isn't a Hub name, is unreachable or does not exist."""
    if not looks_like_repo_id(repo_id):
        raise UserError(
            f"'{repo_id}' isn't a Hugging Face Hub name (such as 'owner/name'): for a file of your own, upload it."
        )
    require_hub(repo_id)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    kind = "dataset" if repo_type == "dataset" else "model"
    try:
        HfApi().repo_info(repo_id, repo_type=repo_type, token=hub_token())
    except GatedRepoError:
        raise UserError(
            f"The {kind} '{repo_id}' is gated: accept its terms on huggingface.co "
            "and set HF_TOKEN, or pick another one."
        ) from None
    except RepositoryNotFoundError:
        raise UserError(
            f"No {kind} named '{repo_id}' on the Hugging Face Hub (or it is private). "
            "Check the spelling, e.g. 'owner/name'."
        ) from None
    except Exception as exc:  # network trouble mid-way
        if is_offline_error(exc):
            raise UserError(f"Can't fetch '{repo_id}': {OFFLINE_HINT}") from None
        raise
