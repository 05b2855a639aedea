"""Reward sources: VADER, a text classifier (tiny, random, saved here) and a reward model.

The classifier and reward models are random, so their scores mean nothing; what is
checked is that the scorers read the right column, build the right text, handle
padding, find models inside run folders, and refuse what they can't use.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from rlhf_playground.errors import UserError
from rlhf_playground.rewards.scorers import ClassifierScorer, LexiconScorer, RewardModelScorer, join_text, make_scorer

PROMPTS = ["How was the film?", "Describe your day.", "Any news?"]
RESPONSES = ["I loved it, wonderful acting", "terrible and sad", "The cat sat on the mat and looked at the bird"]


def save_classifier(folder, tiny_model_dir, num_labels: int, id2label: dict | None = None, seed: int = 0):
    """A tiny random LlamaForSequenceClassification with the tiny model's tokenizer."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    labels = id2label or {i: f"LABEL_{i}" for i in range(num_labels)}
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=4,
        num_labels=num_labels,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
        pad_token_id=tokenizer.pad_token_id,
        initializer_range=0.5,
    )
    torch.manual_seed(seed)
    LlamaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def sentiment_dir(tmp_path_factory, tiny_model_dir):
    folder = tmp_path_factory.mktemp("sentiment")
    return save_classifier(folder, tiny_model_dir, 3, {0: "negative", 1: "neutral", 2: "Positive"})


@pytest.fixture(scope="module")
def binary_dir(tmp_path_factory, tiny_model_dir):
    return save_classifier(tmp_path_factory.mktemp("binary"), tiny_model_dir, 2, seed=1)


# ------------------------------------------------------------------ lexicon
def test_lexicon_orders_happy_above_sad():
    scorer = LexiconScorer()
    happy, sad = scorer.score(["", ""], ["I love this wonderful day", "This is terrible and sad"])
    assert happy > 0.5 and sad < -0.5
    rows = scorer.describe(["", "", ""], ["I love this wonderful day", "This is terrible and sad", "It is a table."])
    assert [r["label"] for r in rows] == ["positive", "negative", "neutral"]
    assert rows[0]["score"] == pytest.approx(happy) and 0 < rows[0]["positive"] <= 1 and rows[1]["positive"] == 0


def test_make_scorer_specs_and_errors(sentiment_dir):
    assert isinstance(make_scorer("lexicon"), LexiconScorer)
    scorer = make_scorer(f"classifier:{sentiment_dir}:neutral")
    assert isinstance(scorer, ClassifierScorer) and scorer.label == "neutral"
    assert make_scorer(f"classifier:{sentiment_dir}").label == "Positive"
    for bad in ("", "sentiment", "reward:", "classifier:", "lexicon:extra"):
        with pytest.raises(UserError, match="Unknown reward"):
            make_scorer(bad)


# ------------------------------------------------------------------ classifier
def manual_logits(folder, texts):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.no_grad():  # one text at a time: no padding involved
        return torch.cat([model(**tokenizer(t, return_tensors="pt")).logits for t in texts])


def manual_probabilities(folder, texts):
    return manual_logits(folder, texts).softmax(-1)


def test_classifier_picks_labels_by_name_index_and_default(sentiment_dir, binary_dir):
    expected = manual_probabilities(sentiment_dir, RESPONSES)
    default = ClassifierScorer(str(sentiment_dir), batch_size=2)  # 2: padding across batches is exercised
    assert default.label == "Positive" and default.label_index == 2
    assert default.score(PROMPTS, RESPONSES) == pytest.approx(expected[:, 2].tolist(), abs=1e-5)
    by_name = ClassifierScorer(str(sentiment_dir), label="NEGATIVE")  # names match without case
    by_index = ClassifierScorer(str(sentiment_dir), label="1")
    assert by_name.score(PROMPTS, RESPONSES) == pytest.approx(expected[:, 0].tolist(), abs=1e-5)
    assert by_index.label == "neutral"
    total = [
        sum(col)
        for col in zip(*(ClassifierScorer(str(sentiment_dir), label=i).score(PROMPTS, RESPONSES) for i in range(3)))
    ]
    assert total == pytest.approx([1.0] * 3, abs=1e-5)
    binary = ClassifierScorer(str(binary_dir))
    assert binary.label == "LABEL_1"
    assert all(0 < x < 1 for x in binary.score(["a", "b"], ["", "hello"]) + binary.score(["a"], [""]))  # empty


def test_classifier_describe_logit_and_prompt_options(sentiment_dir):
    scorer = ClassifierScorer(str(sentiment_dir), label="neutral")
    rows = scorer.describe(PROMPTS, RESPONSES)
    expected = manual_probabilities(sentiment_dir, RESPONSES)
    for row, probs in zip(rows, expected):
        assert row["score"] == pytest.approx(float(probs[1]), abs=1e-5) == row["positive"]
        assert row["label"] == ["negative", "neutral", "Positive"][int(probs.argmax())]
    logits = ClassifierScorer(str(sentiment_dir), label="neutral", output="logit").score(PROMPTS, RESPONSES)
    assert logits == pytest.approx(manual_logits(sentiment_dir, RESPONSES)[:, 1].tolist(), abs=1e-4)
    with_prompt = ClassifierScorer(str(sentiment_dir), include_prompt=True).score(PROMPTS, RESPONSES)
    joined = [join_text(p, r) for p, r in zip(PROMPTS, RESPONSES)]
    assert with_prompt == pytest.approx(ClassifierScorer(str(sentiment_dir)).score([""] * 3, joined), abs=1e-6)
    assert join_text("Hi.", "Yes") == "Hi. Yes" and join_text("Hi ", "Yes") == "Hi Yes"


def test_classifier_refuses_missing_labels_and_non_classifiers(sentiment_dir, tiny_model_dir):
    with pytest.raises(UserError, match="negative, neutral, Positive"):
        ClassifierScorer(str(sentiment_dir), label="joy")
    with pytest.raises(UserError, match="no label '7'"):
        ClassifierScorer(str(sentiment_dir), label=7)
    with pytest.raises(UserError, match="isn't a text-classification model"):
        ClassifierScorer(str(tiny_model_dir))
    with pytest.raises(UserError, match="Hub can't be reached"):  # the tests run with HF_HUB_OFFLINE=1
        make_scorer("classifier:lvwerra/distilbert-imdb")


# ------------------------------------------------------------------ reward model
@pytest.fixture(scope="module")
def reward_run(tmp_path_factory, tiny_model_dir):
    """A reward-model run folder: a LoRA adapter (with its score head) on the tiny LM, in artifacts/adapter."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    base = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    base.config.pad_token_id = tokenizer.pad_token_id
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, task_type="SEQ_CLS", init_lora_weights=False))
    with torch.no_grad():
        model.base_model.model.score.modules_to_save["default"].weight.normal_(0, 1.0)
    run = tmp_path_factory.mktemp("rm-run")
    model.save_pretrained(run / "artifacts" / "adapter")
    tokenizer.save_pretrained(run / "artifacts" / "adapter")
    return run, model.eval(), tokenizer


def test_reward_model_scores_the_chat_formatted_text(reward_run):
    run, model, tokenizer = reward_run
    scorer = RewardModelScorer(run, batch_size=2)  # found in artifacts/adapter, base loaded under it
    text = scorer.format("Hello?", "Hi there.")
    assert text == "<|user|>\nHello?</s>\n<|assistant|>\nHi there.</s>\n"
    scores = scorer.score(PROMPTS, RESPONSES)
    with torch.no_grad():  # the in-memory model, one text at a time: same numbers, padding or not
        expected = [
            model(**tokenizer(scorer.format(p, r), return_tensors="pt", add_special_tokens=False)).logits[0, 0].item()
            for p, r in zip(PROMPTS, RESPONSES)
        ]
    assert scores == pytest.approx(expected, abs=1e-4)
    assert len(set(round(s, 4) for s in scores)) == 3 and all(math.isfinite(s) for s in scores)
    assert [r["score"] for r in scorer.describe(PROMPTS, RESPONSES)] == pytest.approx(scores)
    assert isinstance(make_scorer(f"reward:{run}"), RewardModelScorer)


def test_reward_model_found_by_run_id_in_the_workspace(reward_run, tmp_path, monkeypatch):
    import shutil

    from rlhf_playground.workspace import runs_dir

    run, _, _ = reward_run
    shutil.copytree(run, runs_dir() / "20250101-000000-reward-abcd")
    monkeypatch.chdir(tmp_path)  # not found relative to the working directory, so looked up in the workspace
    scorer = make_scorer("reward:20250101-000000-reward-abcd")
    assert scorer.score(PROMPTS, RESPONSES) == pytest.approx(RewardModelScorer(run).score(PROMPTS, RESPONSES))


def test_reward_model_from_a_plain_folder_without_chat_template(tmp_path, tiny_model_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.chat_template = None
    torch.manual_seed(1)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(tmp_path / "rm")
    tokenizer.save_pretrained(tmp_path / "rm")
    scorer = RewardModelScorer(tmp_path / "rm")
    assert scorer.format("Q: hi.", " A: hello.") == "Q: hi. A: hello.</s>"  # as TRL's RewardTrainer builds it
    assert len(scorer.score(PROMPTS, RESPONSES)) == 3


def test_reward_model_errors(tmp_path, sentiment_dir):
    with pytest.raises(UserError, match="doesn't exist"):
        RewardModelScorer(tmp_path / "nowhere")
    (tmp_path / "empty-run" / "artifacts").mkdir(parents=True)
    (tmp_path / "empty-run" / "config.txt").write_text(json.dumps({}))
    with pytest.raises(UserError, match="No reward model found"):
        RewardModelScorer(tmp_path / "empty-run")
    with pytest.raises(UserError):  # three labels can't load as a one-output reward model
        RewardModelScorer(sentiment_dir)
