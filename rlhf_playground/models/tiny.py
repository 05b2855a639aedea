"""A tiny, randomly initialised Llama model with a real tokenizer, built offline in a blink.

The tests run every stage (SFT, reward model, PPO, compare) on it:
its answers are noise, but every code path is the one a real model takes.
Its layer widths are multiples of 64, NF4's block size, so 4-bit (QLoRA)
loading quantizes it the way it quantizes a real model.
"""

from __future__ import annotations

from pathlib import Path

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"
ROLES = ("<|system|>", "<|user|>", "<|assistant|>")

# Each turn is "<|role|>\n" + content + eos + "\n", so a prompt rendered with
# add_generation_prompt is a prefix of the same chat with the answer added.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

# Enough everyday English for byte-level BPE to learn common words and pieces;
# any other text still encodes, byte by byte.
CORPUS = """
The quick brown fox jumps over the lazy dog. A good answer is short, kind and true.
What is the capital of France? The capital of France is Paris. Berlin is in Germany.
How do I boil an egg? Put the egg in boiling water for about eight minutes.
I loved this movie, the acting was wonderful and the story made me smile.
This film was boring and far too long; I would not watch it again.
The weather today is sunny with a light breeze, a fine day for a walk in the park.
Please write a short poem about the sea. The sea is blue, the waves are white.
Can you help me with my homework? Of course, tell me what the question is.
Thank you very much for your help. You are welcome, have a nice day.
Water freezes at zero degrees and boils at one hundred degrees Celsius.
A cat sat on the mat and looked at the bird in the tree outside the window.
Reinforcement learning from human feedback trains a reward model on preferences,
then tunes the policy with proximal policy optimization to earn higher rewards.
The user asks a question and the assistant gives a helpful, honest and harmless answer.
Good morning! How are you? I am fine, thanks. What would you like to learn today?
Numbers: one two three four five six seven eight nine ten eleven twelve.
Colors: red orange yellow green blue purple black white gray brown pink.
Days: Monday Tuesday Wednesday Thursday Friday Saturday Sunday.
She reads a book every night before she goes to sleep, and he plays the piano.
We should always check the facts before we share a story with other people.
"""


def build_tokenizer(vocab_size: int = 512):
    """A byte-level BPE tokenizer trained on :data:`CORPUS`, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = [PAD, BOS, EOS, UNK, *ROLES]
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS.strip().splitlines(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        additional_special_tokens=list(ROLES),
        model_max_length=1024,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def make_tiny_model(out_dir: str | Path, *, vocab_size: int = 512, seed: int = 0) -> Path:
    """Save a tiny Llama causal LM (safetensors) and its tokenizer into ``out_dir``; return it.

    ``vocab_size`` is an upper bound: the built-in corpus runs out of merges at about 770.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    tokenizer = build_tokenizer(vocab_size)
    ids = {
        name: tokenizer.convert_tokens_to_ids(tok)
        for name, tok in (("bos_token_id", BOS), ("eos_token_id", EOS), ("pad_token_id", PAD))
    }
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        **ids,
        # tied random embeddings make greedy decoding repeat the prompt's last token
        tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):  # the caller's random state stays as it was
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(**ids)
    model.save_pretrained(out)  # safetensors
    tokenizer.save_pretrained(out)
    return out
