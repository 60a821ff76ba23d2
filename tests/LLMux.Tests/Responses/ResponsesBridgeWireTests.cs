using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Responses;

/// <summary>
/// The chat bridge on the wire: Responses requests (Codex's real captured bodies among them) go to a chat-only
/// OpenAI-compatible upstream (the OpenAI emulator as hosted_vllm) and to the mock; the translated chat request
/// and the Responses events and objects that come back are checked byte for byte where it matters.
/// </summary>
public sealed class ResponsesBridgeWireTests : IAsyncLifetime
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
              - model_name: gpt-5-codex
                litellm_params:
                  model: hosted_vllm/qwen3-coder
                  api_base: {_upstream.ApiBase}
              - model_name: strict-vllm
                litellm_params:
                  model: hosted_vllm/qwen3-coder
                  api_base: {_upstream.ApiBase}
                  drop_params: false
              - model_name: mock-gpt
                litellm_params:
                  model: mock/mock-gpt
              - model_name: mock-failing
                litellm_params:
                  model: mock/mock-gpt
                  mock_error_status: 429
              - model_name: mock-breaks
                litellm_params:
                  model: mock/mock-gpt
                  mock_error_after_chunks: 3
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<HttpResponseMessage> PostAsync(string body, string path = "/v1/responses")
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await _gateway.Http.PostAsync(path, content);
    }

    private JsonElement LastUpstreamBody()
    {
        var last = _upstream.Requests.Last();
        Assert.Equal("/v1/chat/completions", last.Path);
        return last.Json().RootElement.Clone();
    }

    [Fact]
    public async Task Codex_first_turn_capture_streams_a_complete_response()
    {
        var body = Encoding.UTF8.GetString(ResponsesTestData.Read("codex-0.169-turn1.json"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("session_id", "01a233a2-62e8-7103-bc33-12ed85893a5f");
        request.Headers.Add("originator", "codex_exec");
        request.Headers.Add("x-codex-beta-features", "remote_compaction_v2");
        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString());
        var events = ResponsesEventStream.Parse(text);
        events.AssertWellFormed();
        Assert.Equal("response.completed", events.Events[^1].Event);
        var completed = events.Terminal.GetProperty("response");
        Assert.Equal("Hello from the emulator.", completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var usage = completed.GetProperty("usage");
        Assert.Equal(11, usage.GetProperty("input_tokens").GetInt64());
        Assert.Equal(7, usage.GetProperty("output_tokens").GetInt64());
        Assert.Equal(18, usage.GetProperty("total_tokens").GetInt64());
        Assert.False(completed.GetProperty("store").GetBoolean());

        var warnings = string.Join(";", response.Headers.GetValues("x-llmux-warnings"));
        Assert.Contains("tools.web_search", warnings);
        Assert.Contains("prompt_cache_key", warnings);

        var chat = LastUpstreamBody();
        Assert.Equal("qwen3-coder", chat.GetProperty("model").GetString());
        Assert.True(chat.GetProperty("stream").GetBoolean());
        Assert.True(chat.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        var roles = chat.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()!).ToArray();
        Assert.Equal(["system", "system", "user", "user"], roles); // developer → system for chat providers
        var names = chat.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function").GetProperty("name").GetString()!).ToList();
        Assert.Contains("exec_command", names);
        Assert.Contains("multi_agent_v1__close_agent", names); // a namespace's functions, prefixed
        Assert.DoesNotContain(chat.GetProperty("tools").EnumerateArray(), t => t.GetProperty("type").GetString() != "function");
        Assert.Equal("auto", chat.GetProperty("tool_choice").GetString());
        Assert.True(chat.GetProperty("parallel_tool_calls").GetBoolean());
        foreach (var forbidden in new[] { "input", "include", "store", "prompt_cache_key", "client_metadata", "reasoning" })
            Assert.False(chat.TryGetProperty(forbidden, out _), forbidden);
    }

    [Fact]
    public async Task Codex_tool_result_turn_capture_becomes_an_assistant_tool_call_and_a_tool_message()
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("exec_command", "{\"cmd\":\"cat hello.txt\"}") });
        var body = Encoding.UTF8.GetString(ResponsesTestData.Read("codex-0.169-turn2.json"));
        using var response = await PostAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = ResponsesEventStream.Parse(text);
        events.AssertWellFormed();

        var chat = LastUpstreamBody();
        var messages = chat.GetProperty("messages").EnumerateArray().ToArray();
        var assistant = messages[^2];
        Assert.Equal("assistant", assistant.GetProperty("role").GetString());
        var call = assistant.GetProperty("tool_calls")[0];
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("exec_command", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"cmd\": \"cat hello.txt\"}", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool", messages[^1].GetProperty("role").GetString());
        Assert.Equal("call_1", messages[^1].GetProperty("tool_call_id").GetString());
        Assert.StartsWith("Chunk ID: f91b85", messages[^1].GetProperty("content").GetString());

        // The model's tool call comes back as a function_call item Codex can run (history is built from output_item.done).
        var done = events.Events.Single(e => e.Event == "response.output_item.done").Data.GetProperty("item");
        Assert.Equal("function_call", done.GetProperty("type").GetString());
        Assert.StartsWith("fc_", done.GetProperty("id").GetString());
        Assert.Equal("call_emu_1", done.GetProperty("call_id").GetString());
        Assert.Equal("exec_command", done.GetProperty("name").GetString());
        Assert.Equal("{\"cmd\":\"cat hello.txt\"}", done.GetProperty("arguments").GetString());
        var argDeltas = string.Concat(events.Events.Where(e => e.Event == "response.function_call_arguments.delta").Select(e => e.Data.GetProperty("delta").GetString()));
        Assert.Equal("{\"cmd\":\"cat hello.txt\"}", argDeltas);
        Assert.Equal("{\"cmd\":\"cat hello.txt\"}", events.Single("response.function_call_arguments.done").GetProperty("arguments").GetString());
    }

    [Fact]
    public async Task Event_sequence_matches_OpenAI_for_a_text_answer()
    {
        using var response = await PostAsync("""{"model":"mock-gpt","input":"hi there","stream":true}""");
        var events = ResponsesEventStream.Parse(await response.Content.ReadAsStringAsync());
        events.AssertWellFormed();
        var types = events.Types.Where(t => t != "response.output_text.delta").ToArray();
        Assert.Equal([
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
        ], types);
        var added = events.Single("response.output_item.added").GetProperty("item");
        Assert.Equal("in_progress", added.GetProperty("status").GetString());
        Assert.Equal(0, added.GetProperty("content").GetArrayLength());
        var delta = events.Events.First(e => e.Event == "response.output_text.delta").Data;
        Assert.Equal(0, delta.GetProperty("content_index").GetInt32());
        Assert.Equal(0, delta.GetProperty("output_index").GetInt32());
        Assert.Equal(added.GetProperty("id").GetString(), delta.GetProperty("item_id").GetString());
        Assert.Equal("This is LLMux's mock model. You said: hi there", events.Single("response.output_text.done").GetProperty("text").GetString());
        var created = events.Events[0].Data.GetProperty("response");
        Assert.Equal("in_progress", created.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("usage").ValueKind);
        Assert.Equal(0, created.GetProperty("output").GetArrayLength());
    }

    [Fact]
    public async Task Upstream_error_before_the_first_event_is_an_http_error()
    {
        using var response = await PostAsync("""{"model":"mock-failing","input":"hi","stream":true}""");
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.String, doc.RootElement.GetProperty("error").GetProperty("message").ValueKind);
    }

    [Fact]
    public async Task Upstream_error_mid_stream_ends_with_response_failed_and_never_completed()
    {
        using var response = await PostAsync("""{"model":"mock-breaks","input":"one two three four five six","stream":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = ResponsesEventStream.Parse(await response.Content.ReadAsStringAsync());
        events.AssertWellFormed();
        Assert.Equal("error", events.Events[^2].Event);
        Assert.Equal("response.failed", events.Events[^1].Event);
        Assert.DoesNotContain("response.completed", events.Types);
        var failed = events.Terminal.GetProperty("response");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("error").GetProperty("code").GetString()));
    }

    [Theory]
    [InlineData("""{"model":"mock-gpt","input":42}""", "input", "invalid_type")]
    [InlineData("""{"model":"mock-gpt"}""", "input", "missing_required_parameter")]
    [InlineData("""{"model":"mock-gpt","input":[{"type":"telepathy"}]}""", "input[0].type", "invalid_value")]
    [InlineData("""{"model":"mock-gpt","input":[{"type":"function_call_output","call_id":"call_x","output":"42"}]}""", "input[0].call_id", "invalid_value")]
    [InlineData("""{"model":"mock-gpt","input":"hi","max_output_tokens":0}""", "max_output_tokens", "invalid_value")]
    [InlineData("""{"model":"mock-gpt","input":"hi","previous_response_id":"resp_nope"}""", "previous_response_id", "previous_response_not_found")]
    [InlineData("""{"model":"mock-gpt","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"g"}}""", "tool_choice", "invalid_value")]
    [InlineData("""{"model":"mock-gpt","input":"hi","tools":[{"type":"web_search"}],"tool_choice":{"type":"web_search"}}""", "tool_choice", "unsupported_tool")]
    [InlineData("""{"model":"strict-vllm","input":"hi","tools":[{"type":"web_search"}]}""", "tools[0]", "unsupported_tool")]
    [InlineData("""{"model":"mock-gpt","input":"hi","temperature":3}""", "temperature", "invalid_value")]
    public async Task Invalid_requests_are_400_with_OpenAI_error_json_and_no_upstream_call(string body, string param, string code)
    {
        var before = _upstream.Requests.Count;
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(before, _upstream.Requests.Count);
    }

    [Fact]
    public async Task Unknown_previous_response_id_message_is_OpenAIs()
    {
        using var response = await PostAsync("""{"model":"mock-gpt","input":"hi","previous_response_id":"resp_abc"}""");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Previous response with id 'resp_abc' not found.", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Request_fields_map_onto_the_chat_request()
    {
        using var response = await PostAsync("""
            {"model":"gpt-5-codex","instructions":"Be brief.","input":[
              {"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"https://example.com/cat.png","detail":"low"},{"type":"input_file","file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"}]}],
             "tools":[{"type":"function","name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}},"strict":true}],
             "tool_choice":{"type":"function","name":"lookup"},"parallel_tool_calls":false,
             "text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object","properties":{"a":{"type":"string"}}},"strict":true}},
             "reasoning":{"effort":"high","summary":"auto"},"max_output_tokens":300,"temperature":0.5,"top_p":0.9,"user":"u-1","metadata":{"k":"v"}}
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var chat = LastUpstreamBody();
        var messages = chat.GetProperty("messages");
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("Be brief.", messages[0].GetProperty("content").GetString());
        var parts = messages[1].GetProperty("content");
        Assert.Equal("text", parts[0].GetProperty("type").GetString());
        Assert.Equal("https://example.com/cat.png", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("low", parts[1].GetProperty("image_url").GetProperty("detail").GetString());
        Assert.Equal("data:application/pdf;base64,JVBE", parts[2].GetProperty("file").GetProperty("file_data").GetString());
        var tool = chat.GetProperty("tools")[0];
        Assert.Equal("function", tool.GetProperty("type").GetString());
        Assert.Equal("lookup", tool.GetProperty("function").GetProperty("name").GetString());
        Assert.True(tool.GetProperty("function").GetProperty("strict").GetBoolean());
        Assert.Equal("lookup", chat.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString()); // never widened to "required"
        Assert.False(chat.GetProperty("parallel_tool_calls").GetBoolean());
        var format = chat.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.Equal("answer", format.GetProperty("json_schema").GetProperty("name").GetString());
        Assert.True(format.GetProperty("json_schema").GetProperty("strict").GetBoolean());
        Assert.Equal("high", chat.GetProperty("reasoning_effort").GetString());
        Assert.Equal(300, chat.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.5, chat.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, chat.GetProperty("top_p").GetDouble());
        Assert.Equal("u-1", chat.GetProperty("user").GetString());
        Assert.False(chat.TryGetProperty("stream", out _));
    }

    [Fact]
    public async Task Custom_tool_is_offered_as_a_one_string_function_and_returned_as_custom_tool_call()
    {
        const string patch = "*** Begin Patch\n*** Add File: a.txt\n+hi \"there\"\n*** End Patch";
        var args = JsonSerializer.Serialize(new { input = patch });
        foreach (var stream in new[] { false, true })
        {
            _upstream.Enqueue(new OpenAIScript { ToolCall = ("apply_patch", args) });
            using var response = await PostAsync($$$"""
                {"model":"gpt-5-codex","input":"add a file","stream":{{{(stream ? "true" : "false")}}},
                 "tools":[{"type":"custom","name":"apply_patch","description":"Use the apply_patch tool to edit files.","format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch hunk+ end_patch"}}]}
                """);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var chat = LastUpstreamBody();
            var function = chat.GetProperty("tools")[0].GetProperty("function");
            Assert.Equal("apply_patch", function.GetProperty("name").GetString());
            Assert.Contains("start: begin_patch hunk+ end_patch", function.GetProperty("description").GetString());
            Assert.Equal("string", function.GetProperty("parameters").GetProperty("properties").GetProperty("input").GetProperty("type").GetString());

            JsonElement item;
            if (stream)
            {
                var events = ResponsesEventStream.Parse(await response.Content.ReadAsStringAsync());
                events.AssertWellFormed();
                Assert.DoesNotContain("response.function_call_arguments.delta", events.Types);
                Assert.Equal(patch, events.Single("response.custom_tool_call_input.done").GetProperty("input").GetString());
                item = events.Single("response.output_item.done").GetProperty("item");
            }
            else
            {
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                item = doc.RootElement.GetProperty("output")[0].Clone();
            }
            Assert.Equal("custom_tool_call", item.GetProperty("type").GetString());
            Assert.Equal("apply_patch", item.GetProperty("name").GetString());
            Assert.Equal("call_emu_1", item.GetProperty("call_id").GetString());
            Assert.Equal(patch, item.GetProperty("input").GetString());
        }

        // The next turn sends the call and its output back: a tool call with the raw input wrapped, then a tool message.
        using var next = await PostAsync($$"""
            {"model":"gpt-5-codex","input":[
              {"type":"custom_tool_call","call_id":"call_emu_1","name":"apply_patch","input":{{JsonSerializer.Serialize(patch)}}},
              {"type":"custom_tool_call_output","call_id":"call_emu_1","output":"Done!"}],
             "tools":[{"type":"custom","name":"apply_patch","description":"edit"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        var history = LastUpstreamBody().GetProperty("messages");
        using var sent = JsonDocument.Parse(history[0].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString()!);
        Assert.Equal(patch, sent.RootElement.GetProperty("input").GetString());
        Assert.Equal("tool", history[1].GetProperty("role").GetString());
        Assert.Equal("Done!", history[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Answers_on_the_responses_and_openai_v1_paths_too()
    {
        foreach (var path in new[] { "/responses", "/openai/v1/responses" })
        {
            using var response = await PostAsync("""{"model":"mock-gpt","input":"hi"}""", path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("response", doc.RootElement.GetProperty("object").GetString());
        }
        using var models = await _gateway.Http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Contains("gpt-5-codex", await models.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Client_disconnect_mid_stream_cancels_the_upstream_call()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "abcdefgh", Chunks = 4, HangAfter = 2 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent("""{"model":"gpt-5-codex","input":"hi","stream":true}""", Encoding.UTF8, "application/json") };
        var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var read = new StringBuilder();
        var buffer = new byte[4096];
        while (!read.ToString().Contains("\"cd\"", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer);
            Assert.True(n > 0);
            read.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        Assert.Contains("event: response.output_text.delta", read.ToString());
        response.Dispose(); // the client goes away while the model is still "thinking"
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Unknown_routes_name_the_responses_api()
    {
        using var response = await _gateway.Http.GetAsync("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("/v1/responses", await response.Content.ReadAsStringAsync());
    }
}
