using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001

namespace LLMux.Tests.Responses;

/// <summary>
/// On the bridge: OpenAI's client-run built-ins (local_shell, shell, apply_patch) offered as functions and returned
/// as their own items; item_reference resolved against the caller's stored items; conversation and prompt refused by name.
/// </summary>
public sealed class ResponsesClientToolsTests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: chat-only
                litellm_params:
                  model: hosted_vllm/qwen3
                  api_base: {_upstream.ApiBase}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Text)> PostAsync(string body, string key = "sk-alice")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _gateway.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private JsonElement LastUpstreamBody() => _upstream.Requests.Last().Json().RootElement.Clone();

    /// <summary>The single output item, from the JSON answer or from the stream's output_item.done (the stream checked for OpenAI's grammar).</summary>
    private static JsonElement OnlyItem(string text, bool stream)
    {
        if (stream)
        {
            var events = ResponsesEventStream.Parse(text);
            events.AssertWellFormed();
            Assert.Equal("response.completed", events.Terminal.GetProperty("type").GetString());
            var added = events.Single("response.output_item.added").GetProperty("item");
            var done = events.Single("response.output_item.done").GetProperty("item");
            Assert.Equal(added.GetProperty("id").GetString(), done.GetProperty("id").GetString());
            Assert.Equal(added.GetProperty("type").GetString(), done.GetProperty("type").GetString());
            Assert.Equal("in_progress", added.GetProperty("status").GetString());
            return done;
        }
        using var doc = JsonDocument.Parse(text);
        return Assert.Single(doc.RootElement.GetProperty("output").EnumerateArray()).Clone();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apply_patch_builtin_is_offered_as_a_function_and_returned_as_apply_patch_call(bool stream)
    {
        const string diff = "@@\n-old line\n+new \"line\"\n";
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("apply_patch", JsonSerializer.Serialize(new { type = "update_file", path = "src/a.txt", diff })) });
        var (status, text) = await PostAsync("""{"model":"chat-only","input":"fix a.txt","stream":""" + (stream ? "true" : "false") + ""","tools":[{"type":"apply_patch"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var function = LastUpstreamBody().GetProperty("tools")[0].GetProperty("function");
        Assert.Equal("apply_patch", function.GetProperty("name").GetString());
        Assert.Equal("string", function.GetProperty("parameters").GetProperty("properties").GetProperty("diff").GetProperty("type").GetString());

        var item = OnlyItem(text, stream);
        Assert.Equal("apply_patch_call", item.GetProperty("type").GetString());
        Assert.StartsWith("apc_", item.GetProperty("id").GetString());
        Assert.Equal("call_emu_1", item.GetProperty("call_id").GetString());
        Assert.Equal("completed", item.GetProperty("status").GetString());
        var operation = item.GetProperty("operation");
        Assert.Equal("update_file", operation.GetProperty("type").GetString());
        Assert.Equal("src/a.txt", operation.GetProperty("path").GetString());
        Assert.Equal(diff, operation.GetProperty("diff").GetString());
        if (!stream)
        {
            // The official SDK reads it as its own apply_patch item.
            var parsed = ModelReaderWriter.Read<ResponseResult>(BinaryData.FromString(text))!;
            Assert.IsType<ApplyPatchCallItem>(Assert.Single(parsed.OutputItems));
        }

        // The next turn gives the call and its result back: an assistant tool call and a tool message.
        var (status2, _) = await PostAsync($$"""
            {"model":"chat-only","tools":[{"type":"apply_patch"}],"input":[
              {{item.GetRawText()}},
              {"type":"apply_patch_call_output","call_id":"call_emu_1","status":"failed","output":"hunk 1 did not apply"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, status2);
        var messages = LastUpstreamBody().GetProperty("messages");
        var call = messages[0].GetProperty("tool_calls")[0];
        Assert.Equal("call_emu_1", call.GetProperty("id").GetString());
        Assert.Equal("apply_patch", call.GetProperty("function").GetProperty("name").GetString());
        using var args = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!);
        Assert.Equal("src/a.txt", args.RootElement.GetProperty("path").GetString());
        Assert.Equal(diff, args.RootElement.GetProperty("diff").GetString());
        Assert.Equal("tool", messages[1].GetProperty("role").GetString());
        Assert.Equal("call_emu_1", messages[1].GetProperty("tool_call_id").GetString());
        Assert.Equal("failed: hunk 1 did not apply", messages[1].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Local_shell_builtin_round_trips_as_local_shell_call_and_its_output(bool stream)
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("local_shell", """{"command":["ls","-la"],"working_directory":"/work"}""") });
        var (status, text) = await PostAsync("""{"model":"chat-only","input":"list files","stream":""" + (stream ? "true" : "false") + ""","tools":[{"type":"local_shell"}],"tool_choice":{"type":"local_shell"}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var sent = LastUpstreamBody();
        Assert.Equal("local_shell", sent.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString()); // never widened
        var item = OnlyItem(text, stream);
        Assert.Equal("local_shell_call", item.GetProperty("type").GetString());
        var action = item.GetProperty("action");
        Assert.Equal("exec", action.GetProperty("type").GetString());
        Assert.Equal(["ls", "-la"], action.GetProperty("command").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("/work", action.GetProperty("working_directory").GetString());

        var (status2, _) = await PostAsync($$"""
            {"model":"chat-only","tools":[{"type":"local_shell"}],"input":[{{item.GetRawText()}},
              {"type":"local_shell_call_output","call_id":"{{item.GetProperty("call_id").GetString()}}","output":"total 0"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, status2);
        var messages = LastUpstreamBody().GetProperty("messages");
        using var args = JsonDocument.Parse(messages[0].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString()!);
        Assert.Equal("ls", args.RootElement.GetProperty("command")[0].GetString());
        Assert.Equal("total 0", messages[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Shell_builtin_round_trips_with_stdout_stderr_and_exit_code()
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("shell", """{"commands":["pwd","false"],"timeout_ms":5000}""") });
        var (status, text) = await PostAsync("""{"model":"chat-only","input":"where am I","tools":[{"type":"shell"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var item = OnlyItem(text, stream: false);
        Assert.Equal("shell_call", item.GetProperty("type").GetString());
        Assert.Equal(["pwd", "false"], item.GetProperty("action").GetProperty("commands").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(5000, item.GetProperty("action").GetProperty("timeout_ms").GetInt32());

        var (status2, _) = await PostAsync($$$"""
            {"model":"chat-only","tools":[{"type":"shell"}],"input":[{{{item.GetRawText()}}},
              {"type":"shell_call_output","call_id":"call_emu_1","output":[
                {"stdout":"/tmp\n","stderr":"","outcome":{"type":"exit","exit_code":0}},
                {"stdout":"","stderr":"boom","outcome":{"type":"exit","exit_code":1}}]}]}
            """);
        Assert.Equal(HttpStatusCode.OK, status2);
        var result = LastUpstreamBody().GetProperty("messages")[1];
        Assert.Equal("tool", result.GetProperty("role").GetString());
        var content = result.GetProperty("content").GetString()!;
        Assert.Contains("[exit code 0]\n/tmp", content);
        Assert.Contains("[exit code 1]", content);
        Assert.Contains("boom", content);
    }

    [Fact]
    public async Task Builtin_whose_name_a_function_already_has_is_left_out_with_a_warning()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent("""{"model":"chat-only","input":"hi","tools":[{"type":"function","name":"shell","parameters":{"type":"object","properties":{}}},{"type":"shell"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await _gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("tools.shell", response.Headers.GetValues("x-llmux-warnings").Single());
        Assert.Single(LastUpstreamBody().GetProperty("tools").EnumerateArray());
    }

    [Fact]
    public async Task Item_reference_outside_a_chain_resolves_against_the_callers_stored_items()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "Noted: seven." });
        var (status, text) = await PostAsync("""{"model":"chat-only","input":"remember the number 7"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        using var first = JsonDocument.Parse(text);
        var answerId = first.RootElement.GetProperty("output")[0].GetProperty("id").GetString();
        var client = _gateway.OpenAI("sk-alice").GetResponsesClient();
        var inputs = new List<ResponseItem>();
        await foreach (var i in client.GetResponseInputItemsAsync(first.RootElement.GetProperty("id").GetString()!)) inputs.Add(i);
        var questionId = Assert.Single(inputs).Id;

        var body = $$"""
            {"model":"chat-only","input":[{"type":"item_reference","id":"{{questionId}}"},{"type":"item_reference","id":"{{answerId}}"},{"role":"user","content":"which number?"}]}
            """;
        var (status2, _) = await PostAsync(body);
        Assert.Equal(HttpStatusCode.OK, status2);
        var messages = LastUpstreamBody().GetProperty("messages");
        Assert.Equal("user", messages[0].GetProperty("role").GetString());
        Assert.Equal("remember the number 7", messages[0].GetProperty("content").GetString());
        Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
        Assert.Equal("Noted: seven.", messages[1].GetProperty("content").GetString());

        // Another key's items do not exist for this caller.
        var before = _upstream.Requests.Count;
        var (status3, text3) = await PostAsync(body, key: "sk-bob");
        Assert.Equal(HttpStatusCode.BadRequest, status3);
        using var error = JsonDocument.Parse(text3);
        Assert.Equal("item_not_found", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(before, _upstream.Requests.Count);
    }

    [Theory]
    [InlineData("""{"model":"chat-only","input":"hi","conversation":"conv_123"}""", "conversation")]
    [InlineData("""{"model":"chat-only","input":"hi","conversation":{"id":"conv_123"}}""", "conversation")]
    [InlineData("""{"model":"chat-only","input":"hi","prompt":{"id":"pmpt_123","version":"2"}}""", "prompt")]
    public async Task Conversation_and_prompt_on_the_bridge_are_a_400_naming_them(string body, string param)
    {
        var (status, text) = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        using var doc = JsonDocument.Parse(text);
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal("unsupported_parameter", error.GetProperty("code").GetString());
        Assert.Contains($"'{param}'", error.GetProperty("message").GetString());
        Assert.Empty(_upstream.Requests);
    }
}
