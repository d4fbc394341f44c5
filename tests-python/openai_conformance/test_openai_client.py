"""The official OpenAI Python client against the SGLang emulator, straight and through the local router.

What a real client of GLM-5.1 on SGLang does: chat, streaming with usage, tools, reasoning deltas, thinking off,
models list/retrieve, n choices, logprobs, and the errors it maps to exception classes. Each test runs against the
engine and against the router in front of it (conftest.py). Real SGLang 0.5.17 was recorded answering the same
requests (test/fixtures/sglang-real/http); these tests prove a real client reads the emulator's answers without
tripping over a shape.
"""

import json

import openai
import pytest

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
TWO_CALLS = {
    "reasoning": "Two cities.",
    "tool_calls": [
        {"name": "get_weather", "arguments": {"city": "Paris"}},
        {"name": "get_weather", "arguments": {"city": "Tokyo"}},
    ],
}


def test_chat_returns_reasoning_content_and_usage(client, model):
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi there"}], max_tokens=200
    )
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.message.reasoning_content
    assert choice.finish_reason == "stop"
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert 0 < reply.usage.reasoning_tokens < reply.usage.completion_tokens
    assert reply.model == model


def test_any_model_name_is_served_and_echoed(client):
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], max_tokens=20
    )
    assert reply.model == "gpt-4o"


def test_stream_every_chunk_has_reasoning_content_and_usage_comes_last(client, model):
    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Stream please"}],
            max_tokens=200,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    # SGLang always serialises the key (null when absent): the attribute exists on every chunk.
    reasoning = "".join(c.choices[0].delta.reasoning_content or "" for c in with_choices)
    content = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert reasoning and content
    assert with_choices[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens > 1
    assert len({c.id for c in chunks}) == 1


def test_stream_without_include_usage_sends_no_usage_chunk(client, model):
    chunks = list(
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=40, stream=True
        )
    )
    assert all(c.choices for c in chunks)
    assert all(getattr(c, "usage", None) is None for c in chunks)


def test_thinking_off_gives_no_reasoning(client, model):
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Hi"}],
        max_tokens=100,
        extra_body={"chat_template_kwargs": {"enable_thinking": False}},
    )
    assert reply.choices[0].message.reasoning_content is None
    assert reply.choices[0].message.content
    assert reply.usage.reasoning_tokens == 0


def test_stream_reasoning_false_delivers_the_reasoning_in_one_delta(client, model):
    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Think first"}],
            max_tokens=200,
            stream=True,
            extra_body={"stream_reasoning": False},
        )
    )
    reasoning_deltas = [c.choices[0].delta.reasoning_content for c in chunks if c.choices[0].delta.reasoning_content]
    assert len(reasoning_deltas) == 1
    assert any(c.choices[0].delta.content for c in chunks)


def test_tool_call_non_streaming(client, model):
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "What is the weather in Paris? Use get_weather."}],
        tools=[WEATHER_TOOL],
        max_tokens=300,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert call.id.startswith("call_") and len(call.id) == len("call_") + 24
    assert isinstance(json.loads(call.function.arguments)["city"], str)


def test_tool_call_stream_sends_the_name_first_then_argument_pieces(client, model):
    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Weather?"}],
            tools=[WEATHER_TOOL],
            max_tokens=300,
            stream=True,
            extra_body={"custom_params": {"emulator_script": TWO_CALLS}},
        )
    )
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    starts = [tc for tc in calls if tc.function.name]
    assert [(s.index, s.function.name, s.function.arguments) for s in starts] == [
        (0, "get_weather", ""),
        (1, "get_weather", ""),
    ]
    assert all(tc.type == "function" for tc in calls)
    arguments = ["".join(tc.function.arguments for tc in calls if tc.index == i) for i in (0, 1)]
    assert [json.loads(a) for a in arguments] == [{"city": "Paris"}, {"city": "Tokyo"}]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_models_list_and_retrieve(client, model):
    listed = client.models.list()
    assert [m.id for m in listed.data] == [model]
    card = listed.data[0]
    assert card.owned_by == "sglang"
    assert card.root == model and card.parent is None and card.max_model_len > 0
    assert client.models.retrieve(model).id == model
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_wrong_or_missing_key_is_an_authentication_error(base_url, model):
    for key in ("wrong-key", ""):
        bad = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key or "x", max_retries=0, timeout=30)
        if not key:
            bad = bad.with_options(default_headers={"Authorization": ""})
        with pytest.raises(openai.AuthenticationError) as raised:
            bad.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
        assert raised.value.status_code == 401
        assert raised.value.body == {"error": "Unauthorized"} or raised.value.body == "Unauthorized"


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"messages": []}, "Messages cannot be empty."),
        ({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": "ten"}, "Input should be a valid integer"),
        ({"messages": [{"role": "robot", "content": "Hi"}]}, "Input should be 'user'"),
        ({"messages": [{"role": "user", "content": "Hi"}], "temperature": -1}, "non-negative"),
        ({"messages": [{"role": "user", "content": "Hi"}], "tool_choice": "required"}, "Tools cannot be empty"),
    ],
)
def test_invalid_requests_are_bad_request_errors(client, model, kwargs, text):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=model, **kwargs)
    assert raised.value.status_code == 400
    assert text in raised.value.message


def test_n_2_returns_two_choices(client, model):
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Two please"}], max_tokens=60, n=2, temperature=0.7
    )
    assert [c.index for c in reply.choices] == [0, 1]
    streamed = list(
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Two please"}], max_tokens=60, n=2, stream=True
        )
    )
    assert {c.choices[0].index for c in streamed} == {0, 1}


def test_logprobs_with_top_logprobs(client, model):
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Hi"}],
        max_tokens=8,
        logprobs=True,
        top_logprobs=2,
    )
    content = reply.choices[0].logprobs.content
    assert len(content) == reply.usage.completion_tokens
    for entry in content:
        assert entry.logprob <= 0
        assert bytes(entry.bytes).decode("utf-8") == entry.token
        assert len(entry.top_logprobs) == 2
        assert entry.top_logprobs[0].token == entry.token


def test_completions_endpoint(client, model):
    reply = client.completions.create(model=model, prompt="Hello", max_tokens=20)
    assert reply.object == "text_completion"
    assert reply.choices[0].text
    assert reply.choices[0].finish_reason in ("stop", "length")
