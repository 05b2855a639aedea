"""Judging what training did, by what didn't train it: :mod:`.compare` answers held-out prompts with the base and
tuned models side by side and scores them, :mod:`.methods` puts every RL method's run in one table,
:mod:`.diversity` and :mod:`.relevance` say whether answers stayed varied and on the prompt, and
:mod:`.explore` is the course's "try pretrained models" step."""
