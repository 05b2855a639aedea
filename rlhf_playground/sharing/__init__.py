"""The Hugging Face Hub: :mod:`.hub` says whether it can be reached and whether a name is a repository there,
:mod:`.share` pushes a run or a dataset with a model card (or zips it to take home); the ``push`` command is
:mod:`rlhf_playground.cli.push`."""
