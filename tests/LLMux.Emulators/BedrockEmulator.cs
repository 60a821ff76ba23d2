using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LLMux.Emulators;

/// <summary>What the Bedrock emulator does with the next request.</summary>
public sealed record BedrockScript
{
    public string Content { get; init; } = "Hello from Bedrock.";
    /// <summary>Number of text deltas the content is split into when streamed.</summary>
    public int Chunks { get; init; } = 3;
    /// <summary>A tool call: name and JSON input (streamed as input fragments).</summary>
    public (string Name, string Input)? ToolCall { get; init; }
    /// <summary>More tool calls after <see cref="ToolCall"/> in the same answer (parallel tool use).</summary>
    public IReadOnlyList<(string Name, string Input)> MoreToolCalls { get; init; } = [];
    /// <summary>Reasoning text and signature sent before the answer.</summary>
    public (string Text, string Signature)? Reasoning { get; init; }
    public string? StopReason { get; init; }
    public long InputTokens { get; init; } = 12;
    public long OutputTokens { get; init; } = 8;
    public long CacheReadTokens { get; init; }
    public long CacheWriteTokens { get; init; }
    /// <summary>An HTTP error answer: status, AWS error type (x-amzn-ErrorType) and message.</summary>
    public (int Status, string Type, string Message)? Error { get; init; }
    /// <summary>Stream: after this many text deltas send an exception message (type, message) and close.</summary>
    public (int After, string Type, string Message)? StreamException { get; init; }
    /// <summary>Stream: after this many text deltas send a message whose CRC is wrong, then wait for the caller to go away.</summary>
    public int? CorruptAfter { get; init; }
    /// <summary>Stream: after this many text deltas close cleanly without messageStop.</summary>
    public int? TruncateAfter { get; init; }
    /// <summary>Wait this long before answering (load runs: emulated model latency).</summary>
    public TimeSpan HeaderDelay { get; init; }
    /// <summary>Stream: wait this long before each eventstream message (load runs: emulated token pace).</summary>
    public TimeSpan ChunkDelay { get; init; }
    /// <summary>InvokeModel with an Anthropic body: the Claude answer (text, thinking, tool calls, usage).</summary>
    public AnthropicScript Claude { get; init; } = new() { Text = "Hello from Claude on Bedrock." };
}

/// <summary>
/// Speaks Bedrock Runtime: Converse JSON, ConverseStream as AWS eventstream binary frames with real CRCs,
/// InvokeModel embeddings (Titan, Cohere), AWS error bodies with <c>x-amzn-ErrorType</c> / <c>x-amzn-RequestId</c>.
/// Every request's SigV4 signature is recomputed here (a separate, literal implementation) and a mismatch
/// answers 403 InvalidSignatureException, as AWS does.
/// </summary>
public sealed partial class BedrockEmulator : EmulatorHost
{
    public const string AccessKeyId = "AKIDEMULATOR";
    public const string SecretAccessKey = "emulator/secret+KEY";
    public const string Region = "us-east-1";
    /// <summary>A Bedrock API key, accepted as <c>Authorization: Bearer</c> instead of SigV4.</summary>
    public const string BearerToken = "bedrock-api-key-emulator";

    public ConcurrentQueue<BedrockScript> Scripts { get; } = new();
    public BedrockScript Default { get; set; } = new();

    /// <summary>Raw request targets as they arrived (percent-escapes intact).</summary>
    public ConcurrentQueue<string> RawTargets { get; } = new();

    public string ApiBase => Root.ToString().TrimEnd('/');

    public static async Task<BedrockEmulator> StartNewAsync(int port = 0)
    {
        var e = new BedrockEmulator();
        await e.StartAsync(port).ConfigureAwait(false);
        return e;
    }

    public void Enqueue(BedrockScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var rawTarget = http.Features.Get<IHttpRequestFeature>()!.RawTarget;
        RawTargets.Enqueue(rawTarget);
        http.Response.Headers["x-amzn-RequestId"] = "emu-" + Guid.NewGuid().ToString("N")[..12];

        var signatureProblem = VerifySignature(rawTarget, request);
        if (signatureProblem is not null)
        {
            await WriteErrorAsync(http, 403, signatureProblem.Value.Type, signatureProblem.Value.Message).ConfigureAwait(false);
            return;
        }

        var script = Scripts.TryDequeue(out var s) ? s : Default;
        if (script.HeaderDelay > TimeSpan.Zero) await Task.Delay(script.HeaderDelay, http.RequestAborted).ConfigureAwait(false);
        if (script.Error is { } error)
        {
            await WriteErrorAsync(http, error.Status, error.Type, error.Message).ConfigureAwait(false);
            return;
        }

        using var doc = JsonDocument.Parse(request.Body);
        var path = rawTarget;
        if (path.EndsWith("/invoke-with-response-stream", StringComparison.Ordinal)) await InvokeClaudeAsync(http, path, doc.RootElement, script, stream: true).ConfigureAwait(false);
        else if (path.EndsWith("/count-tokens", StringComparison.Ordinal)) await CountTokensAsync(http, path, doc.RootElement).ConfigureAwait(false);
        else if (path.EndsWith("/invoke", StringComparison.Ordinal) && path.Contains("anthropic.", StringComparison.Ordinal)) await InvokeClaudeAsync(http, path, doc.RootElement, script, stream: false).ConfigureAwait(false);
        else if (path.EndsWith("/converse-stream", StringComparison.Ordinal)) await StreamAsync(http, script).ConfigureAwait(false);
        else if (path.EndsWith("/converse", StringComparison.Ordinal)) await ConverseAsync(http, script).ConfigureAwait(false);
        else if (path.EndsWith("/invoke", StringComparison.Ordinal)) await InvokeAsync(http, path, doc.RootElement).ConfigureAwait(false);
        else await WriteErrorAsync(http, 404, "UnknownOperationException", "unknown operation " + path).ConfigureAwait(false);
    }

    private static async Task WriteErrorAsync(HttpContext http, int status, string type, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.Headers["x-amzn-ErrorType"] = type + ":http://internal.amazon.com/coral/com.amazon.bedrock/";
        if (status == 429) http.Response.Headers.RetryAfter = "7";
        await http.Response.WriteAsync("{\"message\":" + JsonSerializer.Serialize(message) + "}", http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task ConverseAsync(HttpContext http, BedrockScript s)
    {
        var content = new StringBuilder("[");
        if (s.Reasoning is { } r)
            content.Append("{\"reasoningContent\":{\"reasoningText\":{\"text\":").Append(JsonSerializer.Serialize(r.Text)).Append(",\"signature\":").Append(JsonSerializer.Serialize(r.Signature)).Append("}}},");
        if (s.ToolCall is { } tc)
            content.Append("{\"toolUse\":{\"toolUseId\":\"tooluse_emu1\",\"name\":").Append(JsonSerializer.Serialize(tc.Name)).Append(",\"input\":").Append(tc.Input).Append("}}");
        else
            content.Append("{\"text\":").Append(JsonSerializer.Serialize(s.Content)).Append('}');
        content.Append(']');
        var stop = s.StopReason ?? (s.ToolCall is null ? "end_turn" : "tool_use");
        var body = $$$"""{"output":{"message":{"role":"assistant","content":{{{content}}}}},"stopReason":"{{{stop}}}","usage":{{{Usage(s)}}},"metrics":{"latencyMs":42}}""";
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    private static string Usage(BedrockScript s) =>
        $$$"""{"inputTokens":{{{s.InputTokens}}},"outputTokens":{{{s.OutputTokens}}},"totalTokens":{{{s.InputTokens + s.OutputTokens + s.CacheReadTokens + s.CacheWriteTokens}}},"cacheReadInputTokens":{{{s.CacheReadTokens}}},"cacheWriteInputTokens":{{{s.CacheWriteTokens}}}}""";

    /// <summary>The whole ConverseStream answer as eventstream messages (also used by tests that feed the translator directly).</summary>
    public static List<byte[]> StreamMessages(BedrockScript s)
    {
        var m = new List<byte[]> { EventStreamEncoder.Event("messageStart", """{"p":"abcdefgh","role":"assistant"}""") };
        var block = 0;
        if (s.Reasoning is { } r)
        {
            foreach (var piece in Split(r.Text, 2))
                m.Add(EventStreamEncoder.Event("contentBlockDelta", $$$"""{"contentBlockIndex":{{{block}}},"delta":{"reasoningContent":{"text":{{{JsonSerializer.Serialize(piece)}}}}},"p":"abcd"}"""));
            m.Add(EventStreamEncoder.Event("contentBlockDelta", $$$$"""{"contentBlockIndex":{{{{block}}}},"delta":{"reasoningContent":{"signature":{{{{JsonSerializer.Serialize(r.Signature)}}}}}}}"""));
            m.Add(EventStreamEncoder.Event("contentBlockStop", $$$"""{"contentBlockIndex":{{{block}}}}"""));
            block++;
        }
        var pieces = Split(s.Content, s.Chunks);
        for (var i = 0; i < pieces.Count; i++)
        {
            if (s.StreamException is { } ex && ex.After == i) { m.Add(EventStreamEncoder.Exception(ex.Type, ex.Message)); return m; }
            if (s.TruncateAfter == i) return m;
            if (s.CorruptAfter == i)
            {
                var bad = EventStreamEncoder.Event("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"text":"corrupt"}}""");
                bad[^1] ^= 0xFF;
                m.Add(bad);
                return m;
            }
            m.Add(EventStreamEncoder.Event("contentBlockDelta", $$$"""{"contentBlockIndex":{{{block}}},"delta":{"text":{{{JsonSerializer.Serialize(pieces[i])}}}},"p":"abcdefghij"}"""));
        }
        if (pieces.Count > 0) m.Add(EventStreamEncoder.Event("contentBlockStop", $$$"""{"contentBlockIndex":{{{block}}}}"""));
        if (s.ToolCall is { } tc)
        {
            block++;
            m.Add(EventStreamEncoder.Event("contentBlockStart", $$$$"""{"contentBlockIndex":{{{{block}}}},"start":{"toolUse":{"toolUseId":"tooluse_emu1","name":{{{{JsonSerializer.Serialize(tc.Name)}}}}}}}"""));
            foreach (var piece in Split(tc.Input, 3))
                m.Add(EventStreamEncoder.Event("contentBlockDelta", $$$$"""{"contentBlockIndex":{{{{block}}}},"delta":{"toolUse":{"input":{{{{JsonSerializer.Serialize(piece)}}}}}}}"""));
            m.Add(EventStreamEncoder.Event("contentBlockStop", $$$"""{"contentBlockIndex":{{{block}}}}"""));
            for (var t = 0; t < s.MoreToolCalls.Count; t++)
            {
                var more = s.MoreToolCalls[t];
                block++;
                var id = "tooluse_emu" + (t + 2).ToString(CultureInfo.InvariantCulture);
                m.Add(EventStreamEncoder.Event("contentBlockStart", $$$$"""{"contentBlockIndex":{{{{block}}}},"start":{"toolUse":{"toolUseId":"{{{{id}}}}","name":{{{{JsonSerializer.Serialize(more.Name)}}}}}}}"""));
                foreach (var piece in Split(more.Input, 3))
                    m.Add(EventStreamEncoder.Event("contentBlockDelta", $$$$"""{"contentBlockIndex":{{{{block}}}},"delta":{"toolUse":{"input":{{{{JsonSerializer.Serialize(piece)}}}}}}}"""));
                m.Add(EventStreamEncoder.Event("contentBlockStop", $$$"""{"contentBlockIndex":{{{block}}}}"""));
            }
        }
        var stop = s.StopReason ?? (s.ToolCall is null ? "end_turn" : "tool_use");
        m.Add(EventStreamEncoder.Event("messageStop", $$$"""{"stopReason":"{{{stop}}}"}"""));
        m.Add(EventStreamEncoder.Event("metadata", $$$"""{"usage":{{{Usage(s)}}},"metrics":{"latencyMs":42}}"""));
        return m;
    }

    private static async Task StreamAsync(HttpContext http, BedrockScript s)
    {
        var ct = http.RequestAborted;
        http.Response.ContentType = "application/vnd.amazon.eventstream";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        foreach (var message in StreamMessages(s))
        {
            if (s.ChunkDelay > TimeSpan.Zero) await Task.Delay(s.ChunkDelay, ct).ConfigureAwait(false);
            await http.Response.Body.WriteAsync(message, ct).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
        if (s.CorruptAfter is not null) await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
    }

    private static async Task InvokeAsync(HttpContext http, string path, JsonElement body)
    {
        string answer;
        if (path.Contains("titan-embed", StringComparison.Ordinal))
        {
            var text = body.GetProperty("inputText").GetString()!;
            answer = $$$"""{"embedding":{{{Vector(text.Length)}}},"embeddingsByType":{"float":{{{Vector(text.Length)}}}},"inputTextTokenCount":{{{text.Split(' ').Length}}}}""";
        }
        else if (path.Contains("cohere.embed", StringComparison.Ordinal))
        {
            var texts = body.GetProperty("texts").EnumerateArray().Select(static t => t.GetString()!).ToList();
            answer = $$$"""{"id":"emu","embeddings":{"float":[{{{string.Join(",", texts.Select(static t => Vector(t.Length)))}}}]},"response_type":"embeddings_by_type","texts":{{{JsonSerializer.Serialize(texts)}}}}""";
            http.Response.Headers["X-Amzn-Bedrock-Input-Token-Count"] = (texts.Count * 4).ToString(CultureInfo.InvariantCulture);
        }
        else if (ImageFamilyOf(ModelIdOf(path)) is { } family)
        {
            await ImageAsync(http, family, body).ConfigureAwait(false);
            return;
        }
        else
        {
            await WriteErrorAsync(http, 400, "ValidationException", "The provided model identifier is invalid.").ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(answer, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The Claude model id in a raw path (<c>/model/us.anthropic.claude-…%3A0/invoke</c>), unescaped.</summary>
    private static string ModelIdOf(string path)
    {
        var parts = path.Split('?')[0].Split('/');
        return parts.Length >= 3 ? Uri.UnescapeDataString(parts[2]) : "";
    }

    /// <summary>InvokeModel / InvokeModelWithResponseStream with an Anthropic body, checked as Bedrock checks it.</summary>
    private async Task InvokeClaudeAsync(HttpContext http, string path, JsonElement body, BedrockScript s, bool stream)
    {
        if (ClaudePlatformRules.Bedrock.Check(body) is { } problem)
        {
            await WriteErrorAsync(http, 400, "ValidationException", problem).ConfigureAwait(false);
            return;
        }
        var model = ModelIdOf(path);
        var id = "msg_bdrk_" + Guid.NewGuid().ToString("N")[..20];
        if (!stream)
        {
            http.Response.ContentType = "application/json";
            http.Response.Headers["X-Amzn-Bedrock-Input-Token-Count"] = s.Claude.InputTokens.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["X-Amzn-Bedrock-Output-Token-Count"] = s.Claude.OutputTokens.ToString(CultureInfo.InvariantCulture);
            await http.Response.WriteAsync(AnthropicEmulator.Message(id, model, s.Claude), http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var ct = http.RequestAborted;
        http.Response.ContentType = "application/vnd.amazon.eventstream";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        foreach (var message in InvokeStreamMessages(model, id, s))
        {
            if (s.ChunkDelay > TimeSpan.Zero) await Task.Delay(s.ChunkDelay, ct).ConfigureAwait(false);
            await http.Response.Body.WriteAsync(message, ct).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The InvokeModelWithResponseStream answer: one <c>chunk</c> event per Anthropic event, its JSON base64-encoded in
    /// <c>bytes</c> (plus Bedrock's <c>p</c> padding), <c>amazon-bedrock-invocationMetrics</c> on message_stop.
    /// <see cref="BedrockScript.StreamException"/> and <see cref="BedrockScript.TruncateAfter"/> count content deltas.
    /// </summary>
    public static List<byte[]> InvokeStreamMessages(string model, string id, BedrockScript s)
    {
        var list = new List<byte[]>();
        if (s.StreamException is { After: 0 } first)
        {
            // Throttled before the model produced anything: the exception is the whole stream.
            list.Add(EventStreamEncoder.Exception(first.Type, first.Message));
            return list;
        }
        var deltas = 0;
        foreach (var (name, data, isDelta) in AnthropicEmulator.Events(id, model, s.Claude))
        {
            if (isDelta)
            {
                if (s.StreamException is { } ex && ex.After == deltas) { list.Add(EventStreamEncoder.Exception(ex.Type, ex.Message)); return list; }
                if (s.TruncateAfter == deltas) return list;
                deltas++;
            }
            var json = name == "message_stop"
                ? "{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{\"inputTokenCount\":" + s.Claude.InputTokens + ",\"outputTokenCount\":" + s.Claude.OutputTokens + ",\"invocationLatency\":812,\"firstByteLatency\":301}}"
                : data;
            var chunk = "{\"bytes\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(json)) + "\",\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0\"}";
            list.Add(EventStreamEncoder.Event("chunk", chunk));
        }
        return list;
    }

    /// <summary>CountTokens: <c>{"input":{"invokeModel":{"body":"&lt;base64&gt;"}}}</c> on a bare foundation-model id.</summary>
    private static async Task CountTokensAsync(HttpContext http, string path, JsonElement body)
    {
        var model = ModelIdOf(path);
        if (model.StartsWith("us.", StringComparison.Ordinal) || model.StartsWith("eu.", StringComparison.Ordinal) || model.StartsWith("global.", StringComparison.Ordinal)
            || model.StartsWith("apac.", StringComparison.Ordinal) || !model.StartsWith("anthropic.", StringComparison.Ordinal))
        {
            await WriteErrorAsync(http, 400, "ValidationException", "The provided model doesn't support counting tokens.").ConfigureAwait(false);
            return;
        }
        if (!body.TryGetProperty("input", out var input) || !input.TryGetProperty("invokeModel", out var invoke) || !invoke.TryGetProperty("body", out var b64) || b64.ValueKind != JsonValueKind.String)
        {
            await WriteErrorAsync(http, 400, "ValidationException", "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must not be null").ConfigureAwait(false);
            return;
        }
        byte[] raw;
        try { raw = Convert.FromBase64String(b64.GetString()!); }
        catch (FormatException)
        {
            await WriteErrorAsync(http, 400, "SerializationException", "invokeModel.body is not base64").ConfigureAwait(false);
            return;
        }
        using var inner = JsonDocument.Parse(raw);
        if (ClaudePlatformRules.Bedrock.Check(inner.RootElement) is { } problem)
        {
            await WriteErrorAsync(http, 400, "ValidationException", problem).ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("{\"inputTokens\":" + ClaudePlatformRules.CountTokens(inner.RootElement) + "}", http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A deterministic vector whose first value identifies the input (its length).</summary>
    public static float[] VectorValues(int seed) => [seed, 0.5f, -0.25f];

    private static string Vector(int seed) => "[" + string.Join(",", VectorValues(seed).Select(static f => f.ToString(CultureInfo.InvariantCulture))) + "]";

    private static List<string> Split(string text, int count)
    {
        var list = new List<string>();
        if (text.Length == 0) return list;
        count = Math.Max(1, Math.Min(count, text.Length));
        var size = (int)Math.Ceiling(text.Length / (double)count);
        for (var i = 0; i < text.Length; i += size) list.Add(text.Substring(i, Math.Min(size, text.Length - i)));
        return list;
    }

    // ---- SigV4 check: a literal reading of the AWS documentation, kept apart from LLMux's signer ----

    private static (string Type, string Message)? VerifySignature(string rawTarget, RecordedRequest request)
    {
        if (request.Headers.TryGetValue("authorization", out var bearer) && bearer == "Bearer " + BearerToken) return null;
        if (!request.Headers.TryGetValue("authorization", out var auth) || !auth.StartsWith("AWS4-HMAC-SHA256 ", StringComparison.Ordinal))
            return ("MissingAuthenticationTokenException", "Missing Authentication Token");
        if (!request.Headers.TryGetValue("x-amz-date", out var amzDate) || amzDate.Length != 16 || amzDate[8] != 'T' || amzDate[15] != 'Z')
            return ("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");

        var parts = auth["AWS4-HMAC-SHA256 ".Length..].Split(", ");
        var fields = parts.Select(static p => p.Split('=', 2)).Where(static p => p.Length == 2).ToDictionary(static p => p[0], static p => p[1]);
        if (!fields.TryGetValue("Credential", out var credential) || !fields.TryGetValue("SignedHeaders", out var signedHeaders) || !fields.TryGetValue("Signature", out var signature))
            return ("IncompleteSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.");
        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request" || scope[3] != "bedrock")
            return ("IncompleteSignatureException", "Credential should be scoped to a valid service: 'bedrock'.");
        if (scope[0] != AccessKeyId)
            return ("UnrecognizedClientException", "The security token included in the request is invalid.");
        if (scope[1] != amzDate[..8])
            return ("InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.");
        foreach (var required in new[] { "host", "x-amz-date" })
            if (!signedHeaders.Split(';').Contains(required)) return ("InvalidSignatureException", $"'{required}' must be a signed header.");

        var path = rawTarget.Split('?')[0];
        var canonicalPath = string.Concat(path.Split('/').Select(static (seg, i) => (i == 0 ? "" : "/") + Uri.EscapeDataString(seg)));
        var canonical = new StringBuilder();
        canonical.Append(request.Method).Append('\n').Append(canonicalPath).Append("\n\n");
        foreach (var name in signedHeaders.Split(';'))
        {
            if (!request.Headers.TryGetValue(name, out var value)) return ("InvalidSignatureException", $"signed header '{name}' is missing");
            canonical.Append(name).Append(':').Append(value.Trim()).Append('\n');
        }
        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(Convert.ToHexStringLower(SHA256.HashData(request.Body)));

        var stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + string.Join('/', scope[1..]) + "\n" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
        var key = Encoding.UTF8.GetBytes("AWS4" + SecretAccessKey);
        foreach (var step in new[] { scope[1], scope[2], scope[3], "aws4_request" }) key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(step));
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        if (expected != signature)
            return ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        return null;
    }
}
