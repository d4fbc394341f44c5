"""The hub fixture's tokenizer loads with the real `tokenizers` library and its chat template renders with Jinja2.

The fixture is what the local hub serves as GLM-5.1-FP8 (`glm-ops hub fixture`); SGLang, transformers and
bench_serving read its tokenizer.json and tokenizer_config.json, so they must be valid for the real libraries
(a missing `single_word` field once made `tokenizers` refuse the file).
"""

import json
import subprocess
from pathlib import Path

import jinja2.sandbox
import pytest
from tokenizers import Tokenizer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLI = PROJECT_ROOT / "lib" / "cli" / "main.js"
SPECIAL = ["<|endoftext|>", "[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]
MARKUP = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>"]


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: build lib/ first (npx tsc -p tsconfig.build.json)")
    out = tmp_path_factory.mktemp("fixture")
    subprocess.run(
        ["node", str(CLI), "hub", "fixture", "--out", str(out), "--size-mb", "1"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def test_tokenizer_json_loads_and_round_trips_text(fixture_dir):
    tokenizer = Tokenizer.from_file(str(fixture_dir / "tokenizer.json"))
    text = "The weather in Paris is sunny today: 21 °C, 東京も晴れ."
    encoding = tokenizer.encode(text)
    assert len(encoding.ids) < len(text.encode("utf-8")), "merges should shorten common words"
    assert tokenizer.decode(encoding.ids) == text


def test_glm_tokens_are_single_ids_and_special_ones_are_marked(fixture_dir):
    tokenizer = Tokenizer.from_file(str(fixture_dir / "tokenizer.json"))
    for token in SPECIAL + MARKUP:
        token_id = tokenizer.token_to_id(token)
        assert token_id is not None, token
        assert tokenizer.encode(token).ids == [token_id], token
    prompt = "[gMASK]<sop><|user|>hi<|assistant|><think>"
    ids = tokenizer.encode(prompt).ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == "hi<think>"


def test_config_names_the_tokenizers_eos_ids(fixture_dir):
    tokenizer = Tokenizer.from_file(str(fixture_dir / "tokenizer.json"))
    config = json.loads((fixture_dir / "config.json").read_text())
    expected = [tokenizer.token_to_id(t) for t in ("<|endoftext|>", "<|user|>", "<|observation|>")]
    assert config["eos_token_id"] == expected
    assert config["vocab_size"] >= tokenizer.get_vocab_size()
    assert config["max_position_embeddings"] == 202752


def test_chat_template_renders_glm_turns_with_tools_and_reasoning(fixture_dir):
    config = json.loads((fixture_dir / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    # transformers renders chat templates in a Jinja2 sandbox with trim_blocks/lstrip_blocks.
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(config["chat_template"])
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "reasoning_content": "Use the tool.",
            "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
        },
        {"role": "tool", "content": '{"temperature": 21}'},
    ]
    text = template.render(messages=messages, tools=tools, add_generation_prompt=True)
    assert text.startswith("[gMASK]<sop><|system|>")
    assert '"name": "get_weather"' in text
    assert "<|user|>Weather in Paris?<|assistant|><think>Use the tool.</think>" in text
    assert "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>" in text
    assert text.endswith('<|observation|><tool_response>{"temperature": 21}</tool_response><|assistant|>')
    no_thinking = template.render(messages=messages[:1], add_generation_prompt=True, enable_thinking=False)
    assert no_thinking == "[gMASK]<sop><|user|>Weather in Paris?<|assistant|></think>"
    tokenizer = Tokenizer.from_file(str(fixture_dir / "tokenizer.json"))
    assert tokenizer.decode(tokenizer.encode(text).ids, skip_special_tokens=False) == text
