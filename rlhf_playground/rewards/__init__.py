"""Where rewards come from: :mod:`.scorers` turns a reward spec (a trained reward model, VADER's lexicon, the
bundled judge, a Python function) into one scorer with one interface, and :mod:`.judge` is the sentiment judge
fitted once from the MiniLM encoder, which shares neither data nor model with the reward models trained here."""
