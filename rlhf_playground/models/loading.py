"""Loading models and tokenizers: safetensors only, in 4-bit too, with an adapter attached when the folder is
one, and the failures people cause said in one sentence."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from pathlib import Path

from ..errors import OFFLINE_HINT, UserError, first_line, is_offline_error
from ..workspace import cache_dir
from .attention import math_attention_on_cpu
from .bundled import DEFAULT_MODEL, DEFAULT_NAME, is_converted
from .devices import compute_device
from .library import from_transformers
from .names import ModelRef, as_ref, resolve
from .quantization import check_4bit, quantization_config, torch_dtype
from .remote_code import remote_code_allowed, remote_code_refusal


def warm_up() -> None:
    """Import what a job's start checks and load the default model's tokenizer (a few seconds the first time),
    so that the first person to press Start doesn't wait for it; the app runs it in the background as it starts.

    Only a bundled model converted already is read: converting it (half a minute of CPU) is left to whoever
    first needs the model.
    """
    from_transformers("AutoTokenizer", "AutoConfig")
    if is_converted(cache_dir() / DEFAULT_NAME):
        with shared_tokenizer(DEFAULT_MODEL):
            pass


def load_tokenizer(ref: str | ModelRef | None):
    """The model's tokenizer with a pad token (eos when it has none); padding side left as it is."""
    return _tokenizer(_tokenizer_ref(ref))


def _tokenizer_ref(ref: str | ModelRef | None) -> ModelRef:
    """Where ``ref``'s tokenizer is: its own folder, or an adapter's base when the adapter has none."""
    model_ref = as_ref(ref)
    if model_ref.adapter_of and not _has_tokenizer(Path(model_ref.path)):
        model_ref = resolve(model_ref.adapter_of)
    return model_ref


TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")  # a folder with either has a tokenizer
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
    files = [Path(model_ref.path) / name for name in TOKENIZER_FILES]
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
    return any((folder / name).is_file() for name in TOKENIZER_FILES)


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
    model_ref = as_ref(ref)
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
    math_attention_on_cpu(model)
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
            raise UserError(f"Couldn't load {ref.label} from '{ref.path}': {first_line(exc)}") from None
        raise


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
