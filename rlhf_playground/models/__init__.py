"""Models: naming them, loading them, and what may be loaded where.

Every stage takes a model as one string. :mod:`.names` turns it into a :class:`ModelRef` (or a
:class:`UserError` saying what to type instead): the bundled default (:mod:`.bundled`, converted once from
its GGUF file), a local folder, a LoRA adapter or a Hub id. :mod:`.loading` loads it, from safetensors only,
in 4-bit when :mod:`.quantization` says bitsandbytes can run here, with an adapter attached when the folder
is one, and running a model's own Python code only where :mod:`.remote_code` allows it; :mod:`.sizes` caps
what a shared app loads. :mod:`.generation` answers prompts in batches, :mod:`.policy` prepares the model a
method trains, :mod:`.tiny` builds the tests' tiny model and :mod:`.minilm` is the MiniLM sentence encoder.
"""

from .bundled import DEFAULT_HUB_ID, DEFAULT_LABEL, DEFAULT_MODEL, DEFAULT_NAME, check_default_model, default_model_dir
from .devices import compute_device, gpu_present
from .library import from_transformers
from .loading import (
    contiguous_head_input,
    describe,
    load_causal_lm,
    load_sequence_classifier,
    load_tokenizer,
    shared_tokenizer,
    warm_up,
)
from .names import ModelRef, resolve
from .quantization import DTYPES, bnb_status, check_4bit, quantization_config, quiet_bitsandbytes, torch_dtype
from .remote_code import TRUST_REMOTE_CODE_ENV, allow_remote_code, remote_code_allowed, remote_code_refusal
from .sizes import check_model_size, check_model_sizes, weights_mb

__all__ = [
    "DEFAULT_HUB_ID",
    "DEFAULT_LABEL",
    "DEFAULT_MODEL",
    "DEFAULT_NAME",
    "DTYPES",
    "TRUST_REMOTE_CODE_ENV",
    "ModelRef",
    "allow_remote_code",
    "bnb_status",
    "check_4bit",
    "check_default_model",
    "check_model_size",
    "check_model_sizes",
    "compute_device",
    "contiguous_head_input",
    "default_model_dir",
    "describe",
    "from_transformers",
    "gpu_present",
    "load_causal_lm",
    "load_sequence_classifier",
    "load_tokenizer",
    "quantization_config",
    "quiet_bitsandbytes",
    "remote_code_allowed",
    "remote_code_refusal",
    "resolve",
    "shared_tokenizer",
    "torch_dtype",
    "warm_up",
    "weights_mb",
]
