"""Training jobs: run folders, the one-at-a-time queue, starting, watching and stopping.

Which stages queue and which can resume is the stage registry's to say
(:mod:`rlhf_playground.registry`); a :class:`runs.Run` knows its own files,
its adapter folder and its eval.json included.

The app uses :func:`runner.start` / :func:`runner.stop` and reads a
:class:`runs.Run`; the CLI runs a stage in the foreground through
:func:`execute.run_stage`; trainers report through
:class:`callbacks.RunCallback` (imports transformers, so import it lazily).
"""

from .runner import start, stop
from .runs import Run, create_run, list_runs, open_run

__all__ = ["Run", "create_run", "list_runs", "open_run", "start", "stop"]
