using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Responses emulator does with the next request.</summary>
public sealed record OpenAIResponsesScript
{
    public string Content { get; init; } = "Hello from the Responses emulator.";
    public int Chunks { get; init; } = 4;
    /// <summary>A function call after the text: name and JSON arguments (streamed in fragments).</summary>
    public (string Name, string Arguments)? ToolCall { get; init; }
    /// <summary>A reasoning item first: summary text and the opaque encrypted_content (sent when the request includes it).</summary>
    public (string Summary, string Encrypted)? Reasoning { get; init; }
    public int? ErrorStatus { get; init; }
    public string? ErrorBody { get; init; }
    /// <summary>Stream: after this many text deltas an <c>error</c> event and <c>response.failed</c>.</summary>
    public int? FailAfter { get; init; }
    /// <summary>Stream: after this many text deltas close the connection without a terminal event.</summary>
    public int? TruncateAfter { get; init; }
    /// <summary>Stream: only the first events, then an <c>error</c> event (before any output item).</summary>
    public bool ErrorFirst { get; init; }
    public long InputTokens { get; init; } = 13;
    public long OutputTokens { get; init; } = 9;
    public long CachedTokens { get; init; }
    public long ReasoningTokens { get; init; }
}

/// <summary>
/// Speaks OpenAI's Responses API (<c>POST /v1/responses</c>, Azure's <c>/openai/v1/responses</c> and
/// <c>/openai/responses?api-version=</c>) byte for byte as OpenAI sends it: the Response object, and streams
/// framed <c>event: &lt;type&gt;\ndata: &lt;json&gt;\n\n</c> with <c>sequence_number</c> from 0, <c>obfuscation</c>
/// padding on deltas and no <c>[DONE]</c>; errors as OpenAI error JSON.
/// </summary>
public sealed class OpenAIResponsesEmulator : EmulatorHost
{
    public const string ResponseId = "resp_68af0c6e8a2c8190b4d6a3c1f9e8d7c60a1b2c3d4e5f6a7b";
    private const long CreatedAt = 1756368000;

    public ConcurrentQueue<OpenAIResponsesScript> Scripts { get; } = new();
    public OpenAIResponsesScript Default { get; set; } = new();

    /// <summary>The api_base for OpenAI-style providers: <c>http://127.0.0.1:port/v1</c>.</summary>
    public string ApiBase => new Uri(Root, "/v1").ToString();

    public static async Task<OpenAIResponsesEmulator> StartNewAsync(int port = 0)
    {
        var e = new OpenAIResponsesEmulator();
        await e.StartAsync(port).ConfigureAwait(false);
        return e;
    }

    public void Enqueue(OpenAIResponsesScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var script = Scripts.TryDequeue(out var s) ? s : Default;
        http.Response.Headers["x-request-id"] = "req_resp_emu_" + Requests.Count;
        if (request.Path.Contains("/responses/", StringComparison.Ordinal))
        {
            await StoredResponseAsync(http, request).ConfigureAwait(false);
            return;
        }
        if (!request.Path.EndsWith("/responses", StringComparison.Ordinal))
        {
            await ErrorAsync(http, 404, "{\"error\":{\"message\":\"Invalid URL (POST " + request.Path + ")\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}").ConfigureAwait(false);
            return;
        }
        if (script.ErrorStatus is { } status)
        {
            await ErrorAsync(http, status, script.ErrorBody ?? """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""").ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        var model = root.GetProperty("model").GetString()!;
        var include = root.TryGetProperty("include", out var inc) && inc.GetRawText().Contains("reasoning.encrypted_content", StringComparison.Ordinal);
        if (root.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True) await StreamAsync(http, root, model, script, include).ConfigureAwait(false);
        else
        {
            var body = Response(root, model, script, include, "completed", script.Content, script.ToolCall?.Arguments, usage: true);
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// OpenAI's endpoints on a stored response: <c>GET /responses/{id}</c>, <c>DELETE</c> (<c>{id,object,deleted}</c>),
    /// <c>POST /responses/{id}/cancel</c> (the response as cancelled) and <c>GET /responses/{id}/input_items</c> (a list).
    /// Only <see cref="ResponseId"/> exists; any other id is OpenAI's 404.
    /// </summary>
    private static async Task StoredResponseAsync(HttpContext http, RecordedRequest request)
    {
        var rest = request.Path[(request.Path.IndexOf("/responses/", StringComparison.Ordinal) + "/responses/".Length)..];
        var slash = rest.IndexOf('/');
        var id = slash < 0 ? rest : rest[..slash];
        var action = slash < 0 ? null : rest[(slash + 1)..];
        if (id != ResponseId)
        {
            await ErrorAsync(http, 404, $"{{\"error\":{{\"message\":\"Response with id '{id}' not found.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}}}").ConfigureAwait(false);
            return;
        }
        using var empty = JsonDocument.Parse("{}");
        string body = (request.Method, action) switch
        {
            ("GET", null) => Response(empty.RootElement, "gpt-5", new OpenAIResponsesScript(), false, "completed", "stored upstream", null, usage: true),
            ("DELETE", null) => $"{{\"id\":\"{id}\",\"object\":\"response\",\"deleted\":true}}",
            ("POST", "cancel") => Response(empty.RootElement, "gpt-5", new OpenAIResponsesScript(), false, "cancelled", null, null, usage: false, output: false),
            ("GET", "input_items") => "{\"object\":\"list\",\"data\":[{\"id\":\"msg_in_1\",\"type\":\"message\",\"role\":\"user\",\"status\":\"completed\",\"content\":[{\"type\":\"input_text\",\"text\":\"hi\"}]}],\"first_id\":\"msg_in_1\",\"last_id\":\"msg_in_1\",\"has_more\":false}",
            _ => "",
        };
        if (body.Length == 0)
        {
            await ErrorAsync(http, 405, "{\"error\":{\"message\":\"Method not allowed\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}").ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task ErrorAsync(HttpContext http, int status, string body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task StreamAsync(HttpContext http, JsonElement root, string model, OpenAIResponsesScript script, bool include)
    {
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        var seq = 0;
        async Task Send(string type, string fields)
        {
            var frame = $"event: {type}\ndata: {{\"type\":\"{type}\",\"sequence_number\":{seq++}{(fields.Length > 0 ? "," : "")}{fields}}}\n\n";
            await http.Response.WriteAsync(frame, http.RequestAborted).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
        var inProgress = Response(root, model, script, include, "in_progress", null, null, usage: false, output: false);
        await Send("response.created", "\"response\":" + inProgress).ConfigureAwait(false);
        await Send("response.in_progress", "\"response\":" + inProgress).ConfigureAwait(false);
        if (script.ErrorFirst)
        {
            await Send("error", "\"error\":{\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\",\"message\":\"Your input exceeds the context window of this model.\",\"param\":\"input\"}").ConfigureAwait(false);
            return;
        }
        var oi = 0;
        if (script.Reasoning is { } r)
        {
            const string rid = "rs_68af0c6f1d2c8190a1b2c3d4e5f6a7b8";
            await Send("response.output_item.added", $"\"output_index\":{oi},\"item\":{{\"id\":\"{rid}\",\"type\":\"reasoning\",\"summary\":[]}}").ConfigureAwait(false);
            await Send("response.reasoning_summary_part.added", $"\"item_id\":\"{rid}\",\"output_index\":{oi},\"summary_index\":0,\"part\":{{\"type\":\"summary_text\",\"text\":\"\"}}").ConfigureAwait(false);
            await Send("response.reasoning_summary_text.delta", $"\"item_id\":\"{rid}\",\"output_index\":{oi},\"summary_index\":0,\"delta\":{J(r.Summary)},\"obfuscation\":\"Xq3\"").ConfigureAwait(false);
            await Send("response.reasoning_summary_text.done", $"\"item_id\":\"{rid}\",\"output_index\":{oi},\"summary_index\":0,\"text\":{J(r.Summary)}").ConfigureAwait(false);
            await Send("response.reasoning_summary_part.done", $"\"item_id\":\"{rid}\",\"output_index\":{oi},\"summary_index\":0,\"part\":{{\"type\":\"summary_text\",\"text\":{J(r.Summary)}}}").ConfigureAwait(false);
            await Send("response.output_item.done", $"\"output_index\":{oi},\"item\":{ReasoningItem(r, include)}").ConfigureAwait(false);
            oi++;
        }
        const string mid = "msg_68af0c6f9e4c81909c8d7e6f5a4b3c2d";
        await Send("response.output_item.added", $"\"output_index\":{oi},\"item\":{{\"id\":\"{mid}\",\"type\":\"message\",\"status\":\"in_progress\",\"content\":[],\"role\":\"assistant\"}}").ConfigureAwait(false);
        await Send("response.content_part.added", $"\"item_id\":\"{mid}\",\"output_index\":{oi},\"content_index\":0,\"part\":{{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"\"}}").ConfigureAwait(false);
        var pieces = Split(script.Content, script.Chunks);
        for (var i = 0; i < pieces.Count; i++)
        {
            if (script.FailAfter == i)
            {
                await Send("error", "\"error\":{\"type\":\"server_error\",\"code\":\"server_error\",\"message\":\"The server had an error while processing your request.\",\"param\":null}").ConfigureAwait(false);
                await Send("response.failed", "\"response\":" + Response(root, model, script, include, "failed", null, null, usage: false, output: false)).ConfigureAwait(false);
                return;
            }
            if (script.TruncateAfter == i) return;
            await Send("response.output_text.delta", $"\"item_id\":\"{mid}\",\"output_index\":{oi},\"content_index\":0,\"delta\":{J(pieces[i])},\"logprobs\":[],\"obfuscation\":\"k2Z\"").ConfigureAwait(false);
        }
        await Send("response.output_text.done", $"\"item_id\":\"{mid}\",\"output_index\":{oi},\"content_index\":0,\"text\":{J(script.Content)},\"logprobs\":[]").ConfigureAwait(false);
        await Send("response.content_part.done", $"\"item_id\":\"{mid}\",\"output_index\":{oi},\"content_index\":0,\"part\":{TextPart(script.Content)}").ConfigureAwait(false);
        await Send("response.output_item.done", $"\"output_index\":{oi},\"item\":{MessageItem(script.Content)}").ConfigureAwait(false);
        oi++;
        if (script.ToolCall is { } call)
        {
            const string fid = "fc_68af0c70a1b28190b3c4d5e6f7a8b9c0";
            await Send("response.output_item.added", $"\"output_index\":{oi},\"item\":{{\"id\":\"{fid}\",\"type\":\"function_call\",\"status\":\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_resp_emu_1\",\"name\":{J(call.Name)}}}").ConfigureAwait(false);
            foreach (var piece in Split(call.Arguments, 3))
                await Send("response.function_call_arguments.delta", $"\"item_id\":\"{fid}\",\"output_index\":{oi},\"delta\":{J(piece)},\"obfuscation\":\"p9\"").ConfigureAwait(false);
            await Send("response.function_call_arguments.done", $"\"item_id\":\"{fid}\",\"output_index\":{oi},\"arguments\":{J(call.Arguments)}").ConfigureAwait(false);
            await Send("response.output_item.done", $"\"output_index\":{oi},\"item\":{CallItem(call)}").ConfigureAwait(false);
        }
        await Send("response.completed", "\"response\":" + Response(root, model, script, include, "completed", script.Content, script.ToolCall?.Arguments, usage: true)).ConfigureAwait(false);
    }

    private static string J(string s) => JsonSerializer.Serialize(s);

    private static string TextPart(string text) => $"{{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":{J(text)}}}";

    private static string MessageItem(string text) => $"{{\"id\":\"msg_68af0c6f9e4c81909c8d7e6f5a4b3c2d\",\"type\":\"message\",\"status\":\"completed\",\"content\":[{TextPart(text)}],\"role\":\"assistant\"}}";

    private static string CallItem((string Name, string Arguments) call) =>
        $"{{\"id\":\"fc_68af0c70a1b28190b3c4d5e6f7a8b9c0\",\"type\":\"function_call\",\"status\":\"completed\",\"arguments\":{J(call.Arguments)},\"call_id\":\"call_resp_emu_1\",\"name\":{J(call.Name)}}}";

    private static string ReasoningItem((string Summary, string Encrypted) r, bool include) =>
        $"{{\"id\":\"rs_68af0c6f1d2c8190a1b2c3d4e5f6a7b8\",\"type\":\"reasoning\",{(include ? $"\"encrypted_content\":{J(r.Encrypted)}," : "")}\"summary\":[{{\"type\":\"summary_text\",\"text\":{J(r.Summary)}}}]}}";

    /// <summary>A Response object in OpenAI's field order, echoing the request.</summary>
    private static string Response(JsonElement req, string model, OpenAIResponsesScript s, bool include, string status, string? text, string? args, bool usage, bool output = true)
    {
        string Echo(string name, string fallback) => req.TryGetProperty(name, out var v) ? v.GetRawText() : fallback;
        var items = new List<string>();
        if (output)
        {
            if (s.Reasoning is { } r) items.Add(ReasoningItem(r, include));
            if (text is not null) items.Add(MessageItem(text));
            if (s.ToolCall is { } call) items.Add(CallItem(call));
        }
        var sb = new StringBuilder();
        sb.Append($"{{\"id\":\"{ResponseId}\",\"object\":\"response\",\"created_at\":{CreatedAt},\"status\":\"{status}\",\"background\":false,");
        sb.Append(status == "failed" ? "\"error\":{\"code\":\"server_error\",\"message\":\"The server had an error while processing your request.\"}," : "\"error\":null,");
        sb.Append($"\"incomplete_details\":null,\"instructions\":{Echo("instructions", "null")},\"max_output_tokens\":{Echo("max_output_tokens", "null")},\"max_tool_calls\":null,");
        sb.Append($"\"model\":{J(model + "-2025-08-07")},\"output\":[{string.Join(",", items)}],\"parallel_tool_calls\":{Echo("parallel_tool_calls", "true")},");
        sb.Append($"\"previous_response_id\":{Echo("previous_response_id", "null")},\"prompt_cache_key\":{Echo("prompt_cache_key", "null")},\"reasoning\":{{\"effort\":\"medium\",\"summary\":null}},\"safety_identifier\":null,\"service_tier\":\"default\",");
        sb.Append($"\"store\":{Echo("store", "true")},\"temperature\":1.0,\"text\":{{\"format\":{{\"type\":\"text\"}},\"verbosity\":\"medium\"}},\"tool_choice\":{Echo("tool_choice", "\"auto\"")},\"tools\":{Echo("tools", "[]")},\"top_logprobs\":0,\"top_p\":1.0,\"truncation\":\"disabled\",");
        sb.Append(usage
            ? $"\"usage\":{{\"input_tokens\":{s.InputTokens},\"input_tokens_details\":{{\"cached_tokens\":{s.CachedTokens}}},\"output_tokens\":{s.OutputTokens},\"output_tokens_details\":{{\"reasoning_tokens\":{s.ReasoningTokens}}},\"total_tokens\":{s.InputTokens + s.OutputTokens}}},"
            : "\"usage\":null,");
        sb.Append($"\"user\":null,\"metadata\":{Echo("metadata", "{}")}}}");
        return sb.ToString();
    }

    private static List<string> Split(string text, int chunks)
    {
        var list = new List<string>();
        if (text.Length == 0) return list;
        chunks = Math.Clamp(chunks, 1, text.Length);
        var size = (int)Math.Ceiling(text.Length / (double)chunks);
        for (var i = 0; i < text.Length; i += size) list.Add(text.Substring(i, Math.Min(size, text.Length - i)));
        return list;
    }
}
