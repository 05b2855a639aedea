"""Detection and prompt extraction, on clean and ugly inputs."""

from __future__ import annotations

import pytest

from rlhf_playground import data
from rlhf_playground.data import Table, detect, extract_prompt
from rlhf_playground.errors import UserError


def table(rows):
    return Table(rows, list(dict.fromkeys(k for r in rows for k in r)), "test")


def chat(*turns):
    return [{"role": role, "content": text} for role, text in zip(["user", "assistant"] * len(turns), turns)]


@pytest.mark.parametrize(
    "value, prompt",
    [
        ("Plain question?", "Plain question?"),
        ("  padded  \n", "padded"),
        ("###Human: Name a fruit ###Assistant:", "Name a fruit"),
        ("### Human: Name a fruit ### Assistant: an apple", "Name a fruit"),
        ("Below is a chat. ###Human:   spaced out   ###Assistant:  ", "spaced out"),
        ("\n\nHuman: Name a fruit\n\nAssistant:", "Name a fruit"),
        ("\r\n\r\nHuman: crlf text\r\n\r\nAssistant: ok", "crlf text"),
        ("\n\nHuman: no reply turn at all", "no reply turn at all"),
        ("\n\nHuman: first\n\nAssistant: a\n\nHuman: second\n\nAssistant:", "first"),
        ("\n\nHuman: Is my Assistant manager right?\n\nAssistant:", "Is my Assistant manager right?"),
        ("Input= Describe a day\nOutput=", "Describe a day"),
        ("Input=Describe a day", "Describe a day"),
        ("Reply to the text below.\n{{Text}}: A sunny park", "A sunny park"),
        ("###Human: Input= nested x ###Assistant:", "nested x"),
        ("{{Text}}: Human: doubly wrapped", "doubly wrapped"),
        ("{{Text}}: ###Human: doubly wrapped ###Assistant:", "doubly wrapped"),
        ("{{Text}}: ### Human: spaced  ### Assistant:", "spaced"),
        ("###Human: Write a ### heading ###Assistant:", "Write a ### heading"),
        ("###Human: Summarise this\n### Response:", "Summarise this"),
        ("\t###Human:\r\n  tabs and crlf \r\n###Assistant:\r\n", "tabs and crlf"),
        (chat("hello there", "hi"), "hello there"),
        ([{"role": "system", "content": "be nice"}, *chat("  the ask ", "ok")], "the ask"),
    ],
)
def test_extract_prompt(value, prompt):
    assert extract_prompt(value) == (prompt, None)


@pytest.mark.parametrize(
    "value, reason",
    [
        ("", "empty text"),
        ("   \n ", "empty text"),
        (None, "empty text"),
        ("###Human:    ###Assistant:", "empty after marker"),
        ("\n\nHuman:\n\nAssistant: hi", "empty after marker"),
        ([{"role": "assistant", "content": "only me"}], "no user turn"),
        (42, "not text"),
        ({"a": 1}, "not text"),
        ([{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "not text"),
        ([{"role": "system", "content": "rules"}, {"role": "assistant", "content": "hi"}], "no user turn"),
    ],
)
def test_extract_prompt_skips(value, reason):
    assert extract_prompt(value) == (None, reason)


def test_custom_marker_and_regex():
    assert extract_prompt("Question: why? Answer: because", marker="Question:") == ("why? Answer: because", None)
    assert extract_prompt("Q: why?\nAssistant: because", marker="Q:") == ("why?", None)
    assert extract_prompt("no marker here", marker="Q:") == (None, "marker not found")
    assert extract_prompt("Q: why? A: so", regex=r"Q: (.*?) A:") == ("why?", None)
    assert extract_prompt("Q: why? A: so", regex=r"why\?") == ("why?", None)
    assert extract_prompt("nothing", regex=r"Q: (.*)") == (None, "marker not found")
    assert extract_prompt("Q:   A:", regex=r"Q:(.*)A:") == (None, "empty after marker")
    with pytest.raises(UserError, match="regex"):
        extract_prompt("x", regex="(unclosed")


def test_extract_prompts_counts_reasons():
    t = table([{"prompt": "###Human: a ###Assistant:"}, {"prompt": ""}, {"prompt": "Input=  "}, {"prompt": "b"}])
    ext = data.extract_prompts(t, detect(t))
    assert ext.prompts == ["a", None, None, "b"]
    assert (ext.extracted, ext.skipped) == (2, 2)
    assert ext.reasons == {"empty text": 1, "empty after marker": 1}
    with pytest.raises(UserError, match="prompt"):
        data.extract_prompts(t, detect(t), column="nope")


def test_preference_prompt_is_the_first_user_turn_of_the_shared_prefix():
    multi = chat("first ask", "answer", "follow-up", "good")
    t = table(
        [
            {"chosen": multi, "rejected": multi[:-1] + [{"role": "assistant", "content": "bad"}]},
            {
                "chosen": "\n\nHuman: q1\n\nAssistant: a1\n\nHuman: q2\n\nAssistant: yes",
                "rejected": "\n\nHuman: q1\n\nAssistant: a1\n\nHuman: q2\n\nAssistant:",
            },
        ]
    )
    assert data.extract_prompts(t, detect(t)).prompts == ["first ask", "q1"]


def test_implicit_preference_prompts_without_transcripts():
    t = table(
        [
            {"chosen": "Best fruit? Apples.", "rejected": "Best fruit? Rocks."},
            {"chosen": "yes", "rejected": "no"},
            {"chosen": chat("q"), "rejected": chat("q")},
            {"chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]},
        ]
    )
    ext = data.extract_prompts(t, detect(t))
    assert ext.prompts == ["Best fruit?", None, None, None]
    assert ext.reasons == {"no shared prompt": 1, "no assistant reply": 1, "no user turn": 1}


@pytest.mark.parametrize(
    "rows, kind, description",
    [
        ([{"prompt": "a"}], "prompt", "Prompts only"),
        ([{"Question": "a"}], "prompt", "Prompts only"),
        ([{"instruction": "a", "output": "b"}], "prompt_completion", "Prompt-completion pairs (standard)"),
        (
            [{"chosen": chat("q", "a"), "rejected": chat("q", "b")}],
            "preference",
            "Preference pairs (conversational, implicit prompt)",
        ),
        (
            [{"prompt": "q", "chosen": "a", "rejected": "b"}],
            "preference",
            "Preference pairs (standard, explicit prompt)",
        ),
        ([{"messages": chat("q", "a")}], "conversation", "Conversations (conversational)"),
        ([{"dialog": chat("q", "a")}], "conversation", "Conversations (conversational)"),
        (
            [{"review": "good", "sentiment": "pos"}, {"review": "bad", "sentiment": "neg"}],
            "labelled_text",
            "Labelled text (2 labels)",
        ),
        ([{"sentence": "hello"}], "text", "Plain text"),
        ([{"text": "good", "score": 1}, {"text": "bad", "score": 0}], "labelled_text", "Labelled text (2 labels)"),
        ([{"text": "good", "score": 0.9}, {"text": "bad", "score": 0.1}], "text", "Plain text"),
        ([{"foo": 1, "bar": "x"}], "unknown", None),
    ],
)
def test_detect(rows, kind, description):
    found = detect(table(rows))
    assert found.kind == kind
    if description:
        assert found.description == description
    else:
        assert "prompt" in found.description and "chosen" in found.description


def test_detect_records_columns_style_and_prompt():
    found = detect(table([{"Query": "q", "chosen": chat("q", "a"), "rejected": chat("q", "b")}]))
    assert found.columns == {"prompt": "Query", "chosen": "chosen", "rejected": "rejected"}
    assert (found.style, found.prompt) == ("conversational", "explicit")
    found = detect(table([{"Question": "q", "response_chosen": "a", "response_rejected": "b"}]))
    assert found.columns == {"prompt": "Question", "chosen": "response_chosen", "rejected": "response_rejected"}
    assert found.description == "Preference pairs (standard, explicit prompt)"


def test_column_types():
    t = table(
        [
            {"a": "x", "b": 1, "c": 1.5, "d": True, "e": chat("q", "a"), "f": [1], "g": {"k": 1}, "h": None, "m": 1},
            {"a": "y", "b": 2, "c": 2, "d": False, "e": chat("q", "b"), "f": [], "g": {}, "h": None, "m": "x"},
        ]
    )
    assert data.column_types(t) == {
        "a": "text",
        "b": "integer",
        "c": "number",
        "d": "boolean",
        "e": "chat messages",
        "f": "list",
        "g": "object",
        "h": "empty",
        "m": "mixed (integer, text)",
    }


@pytest.mark.parametrize(
    "sample, kind, style, prompt",
    [
        ("prompts", "prompt", "standard", None),
        ("preference-chat", "preference", "conversational", "implicit"),
        ("preference-transcripts", "preference", "standard", "implicit"),
        ("preference-sentiment", "preference", "conversational", "implicit"),
        ("reviews", "labelled_text", None, None),
    ],
)
def test_bundled_samples_are_detected(sample, kind, style, prompt):
    t = data.load_sample(sample)
    assert t.source == data.SAMPLES[sample]
    found = detect(t)
    assert (found.kind, found.style, found.prompt) == (kind, style, prompt)


def test_every_marker_in_the_prompt_sample_is_stripped():
    t = data.load_sample("prompts")
    ext = data.extract_prompts(t, detect(t))
    assert ext.skipped == 0 and ext.extracted == len(t.rows) == 360
    for p in ext.prompts:
        assert p == p.strip() and p
        for marker in ("Input=", "Output=", "{{Text}}", "Human:", "Assistant:", "###"):
            assert marker not in p
