using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001

namespace LLMux.Tests.Responses;

/// <summary>
/// The bridge onto Anthropic, Gemini and Bedrock Converse (their emulators): text, tools and reasoning come back
/// as Responses items, and a provider's signed reasoning survives a stateless round trip (<c>store: false</c>,
/// <c>include: ["reasoning.encrypted_content"]</c>) to the same provider — and is left out for another one.
/// </summary>
public sealed class ResponsesAcrossProvidersTests : IAsyncLifetime
{
    private AnthropicEmulator _anthropic = null!;
    private GeminiEmulator _gemini = null!;
    private BedrockEmulator _bedrock = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _gemini = await GeminiEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant-test
              - model_name: gemini
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_gemini.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: bedrock
                litellm_params:
                  model: bedrock/converse/anthropic.claude-3-7-sonnet-20250219-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _gemini.DisposeAsync();
        await _bedrock.DisposeAsync();
    }

    private const string Thought = "The user wants a greeting; keep it short.";
    private const string Signature = "c2lnbmVkLXJlYXNvbmluZy1zdGF0ZQ==";

    private void ScriptReasoning(string model, string text)
    {
        switch (model)
        {
            case "claude": _anthropic.Enqueue(new AnthropicScript { Thinking = Thought, Signature = Signature, Text = text }); break;
            case "gemini": _gemini.Enqueue(new GeminiScript { Thought = Thought, ThoughtSignature = Signature, Text = text }); break;
            default: _bedrock.Enqueue(new BedrockScript { Reasoning = (Thought, Signature), Content = text }); break;
        }
    }

    private void ScriptTool(string model)
    {
        switch (model)
        {
            case "claude": _anthropic.Enqueue(new AnthropicScript { Text = null, ToolCalls = [("toolu_emu_1", "get_weather", """{"city":"Paris"}""")], StopReason = "tool_use" }); break;
            case "gemini": _gemini.Enqueue(new GeminiScript { FunctionCalls = [("get_weather", """{"city":"Paris"}""")] }); break;
            default: _bedrock.Enqueue(new BedrockScript { ToolCall = ("get_weather", """{"city":"Paris"}""") }); break;
        }
    }

    private async Task<JsonElement> CreateAsync(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _gateway.Http.PostAsync("/v1/responses", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        if (!text.StartsWith("event:", StringComparison.Ordinal)) return JsonDocument.Parse(text).RootElement.Clone();
        var events = ResponsesEventStream.Parse(text);
        events.AssertWellFormed();
        Assert.Equal("response.completed", events.Events[^1].Event);
        return events.Terminal.GetProperty("response").Clone();
    }

    private string LastUpstreamBody(string model) => model switch
    {
        "claude" => _anthropic.Requests.Last().BodyText,
        "gemini" => _gemini.Requests.Last().BodyText,
        _ => _bedrock.Requests.Last().BodyText,
    };

    public static TheoryData<string, bool> Cases => new()
    {
        { "claude", false }, { "claude", true }, { "gemini", false }, { "gemini", true }, { "bedrock", false }, { "bedrock", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Reasoning_becomes_a_reasoning_item_and_its_signature_survives_a_stateless_round_trip(string model, bool stream)
    {
        ScriptReasoning(model, "Hi!");
        var s = stream ? "true" : "false";
        var first = await CreateAsync("{\"model\":\"" + model + "\",\"input\":\"greet me\",\"stream\":" + s
            + ""","store":false,"include":["reasoning.encrypted_content"],"reasoning":{"effort":"medium","summary":"auto"}}""");
        var output = first.GetProperty("output");
        var reasoning = output[0];
        Assert.Equal("reasoning", reasoning.GetProperty("type").GetString());
        Assert.StartsWith("rs_", reasoning.GetProperty("id").GetString());
        Assert.Equal(Thought, reasoning.GetProperty("summary")[0].GetProperty("text").GetString());
        var envelope = reasoning.GetProperty("encrypted_content").GetString()!;
        Assert.StartsWith("llmux.v1.", envelope);
        Assert.Equal("message", output[1].GetProperty("type").GetString());
        Assert.Equal("Hi!", output[1].GetProperty("content")[0].GetProperty("text").GetString());

        // Codex-style next turn: the whole history sent back, nothing stored.
        ScriptReasoning(model, "Again!");
        var input = new JsonArray { new JsonObject { ["role"] = "user", ["content"] = "greet me" } };
        foreach (var item in output.EnumerateArray()) input.Add(JsonNode.Parse(item.GetRawText()));
        input.Add(new JsonObject { ["role"] = "user", ["content"] = "once more" });
        await CreateAsync(new JsonObject
        {
            ["model"] = model, ["input"] = input, ["stream"] = stream, ["store"] = false, ["include"] = new JsonArray("reasoning.encrypted_content"),
        }.ToJsonString());
        var sent = LastUpstreamBody(model);
        Assert.Contains(Signature, sent);
        Assert.DoesNotContain("llmux.v1.", sent);

        // The same items sent to another provider: its signature means nothing there and is left out, never shown as text.
        var other = model == "gemini" ? "claude" : "gemini";
        ScriptReasoning(other, "Hello from elsewhere");
        await CreateAsync(new JsonObject { ["model"] = other, ["input"] = JsonNode.Parse(input.ToJsonString()), ["store"] = false }.ToJsonString());
        var elsewhere = LastUpstreamBody(other);
        Assert.DoesNotContain(Signature, elsewhere);
        Assert.DoesNotContain(Thought, elsewhere);
        Assert.Contains("once more", elsewhere);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Tool_calls_come_back_as_function_call_items_and_their_output_goes_back(string model, bool stream)
    {
        ScriptTool(model);
        var first = await CreateAsync("{\"model\":\"" + model + "\",\"input\":\"weather in Paris?\",\"stream\":" + (stream ? "true" : "false")
            + ""","tools":[{"type":"function","name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}""");
        var call = first.GetProperty("output").EnumerateArray().Single(i => i.GetProperty("type").GetString() == "function_call");
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        using (var args = JsonDocument.Parse(call.GetProperty("arguments").GetString()!)) Assert.Equal("Paris", args.RootElement.GetProperty("city").GetString());
        var callId = call.GetProperty("call_id").GetString()!;
        Assert.False(string.IsNullOrEmpty(callId));

        ScriptReasoning(model, "It is sunny.");
        var second = await CreateAsync(new JsonObject
        {
            ["model"] = model,
            ["previous_response_id"] = first.GetProperty("id").GetString(),
            ["input"] = new JsonArray { new JsonObject { ["type"] = "function_call_output", ["call_id"] = callId, ["output"] = "sunny, 24 C" } },
            ["tools"] = JsonNode.Parse("""[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]"""),
        }.ToJsonString());
        Assert.Equal("completed", second.GetProperty("status").GetString());
        var sent = LastUpstreamBody(model);
        Assert.Contains("sunny, 24 C", sent);
        Assert.Contains("get_weather", sent);
    }

    [Fact]
    public async Task Sdk_reads_a_bridged_anthropic_response_with_reasoning()
    {
        ScriptReasoning("claude", "Hi from Claude");
        var client = _gateway.OpenAI().GetResponsesClient();
        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("claude", [ResponseItem.CreateUserMessageItem("hi")]));
        Assert.Equal("Hi from Claude", response.GetOutputText());
        Assert.IsAssignableFrom<ReasoningResponseItem>(response.OutputItems[0]);
        Assert.Equal(25, response.Usage.InputTokenCount);
    }

    [Theory]
    [InlineData("claude")]
    [InlineData("gemini")]
    [InlineData("bedrock")]
    public async Task Codex_tool_result_turn_capture_runs_on_each_provider(string model)
    {
        ScriptTool(model);
        var body = JsonNode.Parse(ResponsesTestData.Read("codex-0.169-turn2.json"))!;
        body["model"] = model;
        var response = await CreateAsync(body.ToJsonString());
        var call = response.GetProperty("output").EnumerateArray().Single(i => i.GetProperty("type").GetString() == "function_call");
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        Assert.False(response.GetProperty("store").GetBoolean());
        var sent = LastUpstreamBody(model);
        Assert.Contains("exec_command", sent);
        Assert.Contains("multi_agent_v1__close_agent", sent);
        Assert.Contains("Chunk ID: f91b85", sent); // the function_call_output reached the provider as a tool result
        Assert.DoesNotContain("\"web_search\"", sent);
        Assert.DoesNotContain("prompt_cache_key", sent);
    }
}
