"""Fixtures shared by every test suite."""

import os

import pytest

from rlhf_playground.labels import guesses
from rlhf_playground.models.tiny import make_tiny_model

# One job at a time at full priority whatever the machine has, so the queue's tests mean the same everywhere (and
# apps and jobs the tests start inherit it); the scheduler's own tests set other values.
os.environ.setdefault("RLHF_JOB_SLOTS", "1")
os.environ.setdefault("RLHF_JOB_NICENESS", "0")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny random Llama model and its tokenizer, built once per test session (about a second)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def isolated_workspace(tmp_path, monkeypatch):
    """Each test gets its own workspace, and nothing waits on the Hugging Face Hub."""
    monkeypatch.setenv("RLHF_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for counter in ("SESSIONS", "ADDRESSES"):  # wrong class codes of one test don't slow the next one down
        monkeypatch.setattr(guesses, counter, guesses.Misses(getattr(guesses, counter).free))


@pytest.fixture(scope="session")
def fine_adapter(tmp_path_factory, tiny_model_dir):
    """A LoRA adapter on the tiny model that makes it say " fine" after any text (VADER: positive)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    target = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(" fine"))[0]
    torch.manual_seed(0)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=2e-2)
    for _ in range(40):
        ids = torch.randint(0, len(tokenizer), (8, 24))
        logits = model(input_ids=ids).logits
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), torch.full((8 * 24,), target))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    folder = tmp_path_factory.mktemp("fine-adapter")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
