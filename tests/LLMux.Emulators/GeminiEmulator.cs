using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Gemini emulator does with the next generateContent / streamGenerateContent / embeddings request.</summary>
public sealed record GeminiScript
{
    public string Text { get; init; } = "Hello from Gemini.";
    /// <summary>Stream: the text is split into this many events.</summary>
    public int Chunks { get; init; } = 3;
    /// <summary>A thought part (<c>thought: true</c>) sent before the text.</summary>
    public string? Thought { get; init; }
    public string? ThoughtSignature { get; init; }
    /// <summary>Function calls instead of text: name and JSON args.</summary>
    public IReadOnlyList<(string Name, string Args)>? FunctionCalls { get; init; }
    public string FinishReason { get; init; } = "STOP";
    /// <summary><c>promptFeedback.blockReason</c>: no candidates at all.</summary>
    public string? BlockReason { get; init; }
    public int? ErrorStatus { get; init; }
    /// <summary>Google's RPC status name for the error body (INVALID_ARGUMENT, RESOURCE_EXHAUSTED...).</summary>
    public string? ErrorRpcStatus { get; init; }
    public string? ErrorMessage { get; init; }
    public IReadOnlyDictionary<string, string>? ErrorHeaders { get; init; }
    /// <summary>Stream: send an error object instead of event i.</summary>
    public int? ErrorEventAfter { get; init; }
    /// <summary>Stream: close cleanly before event i (no finishReason ever sent).</summary>
    public int? TruncateAfter { get; init; }
    /// <summary>Stream: answer in the JSON-array form even when alt=sse was asked for.</summary>
    public bool JsonArray { get; init; }
    public long PromptTokens { get; init; } = 9;
    public long CandidatesTokens { get; init; } = 5;
    public long ThoughtsTokens { get; init; }
    public long CachedTokens { get; init; }
    /// <summary>Vertex: refuse the presented access token with 401 (as if it was revoked).</summary>
    public bool RevokeToken { get; init; }
    public string ResponseId { get; init; } = "resp-emu-1";
    /// <summary>Wait this long before answering (load runs: emulated model latency).</summary>
    public TimeSpan HeaderDelay { get; init; }
    /// <summary>Stream: wait this long before each delta (load runs: emulated token pace).</summary>
    public TimeSpan ChunkDelay { get; init; }
}

/// <summary>
/// Speaks Gemini's wire format (AI Studio and Vertex paths): generateContent JSON, streamGenerateContent as SSE
/// (<c>alt=sse</c>) or as one JSON array, batchEmbedContents / embedContent / predict, Google error bodies, and a
/// service-account OAuth token endpoint that verifies the JWT signature. Unknown request fields are refused as
/// Google does, so a test sees any OpenAI field that leaks through.
/// </summary>
public sealed partial class GeminiEmulator : EmulatorHost
{
    private static readonly HashSet<string> TopLevelFields =
    [
        "contents", "system_instruction", "systemInstruction", "tools", "toolConfig", "tool_config", "safetySettings", "safety_settings",
        "generationConfig", "generation_config", "cachedContent", "cached_content", "labels",
    ];

    private static readonly HashSet<string> GenerationConfigFields =
    [
        "temperature", "top_p", "topP", "top_k", "topK", "candidate_count", "candidateCount", "max_output_tokens", "maxOutputTokens",
        "stop_sequences", "stopSequences", "presence_penalty", "presencePenalty", "frequency_penalty", "frequencyPenalty",
        "response_mime_type", "responseMimeType", "response_schema", "responseSchema", "response_json_schema", "responseJsonSchema",
        "seed", "responseLogprobs", "logprobs", "responseModalities", "imageConfig", "thinkingConfig", "speechConfig",
    ];

    private readonly RSA _serviceAccountKey = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, bool> _issuedTokens = new();
    private int _tokenCount;

    public ConcurrentQueue<GeminiScript> Scripts { get; } = new();
    public GeminiScript Default { get; set; } = new();

    /// <summary>The AI Studio key the emulator accepts.</summary>
    public string ApiKey { get; init; } = "gemini-test-key";
    public string ClientEmail => "llmux-test@emu-project.iam.gserviceaccount.com";
    public int TokenExpiresInSeconds { get; set; } = 3600;
    /// <summary>Token requests that were answered with a token.</summary>
    public int TokensIssued => Volatile.Read(ref _tokenCount);

    /// <summary>AI Studio <c>api_base</c>: stands in for <c>https://generativelanguage.googleapis.com/v1beta</c>.</summary>
    public string GeminiApiBase => new Uri(Root, "/v1beta").ToString();

    /// <summary>Vertex <c>api_base</c>: the full model resource URL.</summary>
    public string VertexApiBase(string model) => new Uri(Root, $"/v1/projects/emu-project/locations/us-central1/publishers/google/models/{model}").ToString();

    public string TokenUri => new Uri(Root, "/token").ToString();

    /// <summary>A service-account key file whose token_uri is this emulator.</summary>
    public string ServiceAccountJson => new JsonObject
    {
        ["type"] = "service_account",
        ["project_id"] = "emu-project",
        ["private_key_id"] = "emu-key-1",
        ["private_key"] = _serviceAccountKey.ExportPkcs8PrivateKeyPem(),
        ["client_email"] = ClientEmail,
        ["token_uri"] = TokenUri,
    }.ToJsonString();

    public static async Task<GeminiEmulator> StartNewAsync(int port = 0)
    {
        var e = new GeminiEmulator();
        await e.StartAsync(port).ConfigureAwait(false);
        return e;
    }

    public void Enqueue(GeminiScript script) => Scripts.Enqueue(script);

    /// <summary>Requests other than token requests.</summary>
    public IEnumerable<RecordedRequest> ModelRequests => Requests.Where(static r => r.Path != "/token");

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var ct = http.RequestAborted;
        http.Response.Headers["x-goog-request-id"] = "goog-req-" + Requests.Count;
        if (request.Path == "/token")
        {
            await AnswerTokenAsync(http, request).ConfigureAwait(false);
            return;
        }
        var script = Scripts.TryDequeue(out var s) ? s : Default;
        var colon = request.Path.LastIndexOf(':');
        var method = colon < 0 ? "" : request.Path[(colon + 1)..];
        var vertex = request.Path.StartsWith("/v1/projects/", StringComparison.Ordinal);

        if (vertex)
        {
            var auth = request.Headers.GetValueOrDefault("authorization") ?? "";
            var token = auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : "";
            if (script.RevokeToken) _issuedTokens.TryRemove(token, out _);
            if (!_issuedTokens.ContainsKey(token))
            {
                await ErrorAsync(http, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.").ConfigureAwait(false);
                return;
            }
        }
        else if (request.Headers.GetValueOrDefault("x-goog-api-key") != ApiKey)
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.").ConfigureAwait(false);
            return;
        }

        if (script.HeaderDelay > TimeSpan.Zero) await Task.Delay(script.HeaderDelay, ct).ConfigureAwait(false);
        if (script.ErrorStatus is { } status)
        {
            foreach (var (k, v) in script.ErrorHeaders ?? new Dictionary<string, string>()) http.Response.Headers[k] = v;
            await ErrorAsync(http, status, script.ErrorRpcStatus ?? "INTERNAL", script.ErrorMessage ?? "emulated error " + status).ConfigureAwait(false);
            return;
        }

        JsonObject body;
        try
        {
            body = JsonNode.Parse(request.Body) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.").ConfigureAwait(false);
            return;
        }

        switch (method)
        {
            case "batchEmbedContents":
            case "embedContent":
            case "predict":
                await EmbeddingsAsync(http, body, method).ConfigureAwait(false);
                return;
            case "rank" when vertex:
                await RankAsync(http, request, body).ConfigureAwait(false);
                return;
            case "countTokens":
                await CountTokensAsync(http, body, vertex).ConfigureAwait(false);
                return;
            case "generateContent":
            case "streamGenerateContent":
                break;
            default:
                await ErrorAsync(http, 404, "NOT_FOUND", $"Method {method} not found.").ConfigureAwait(false);
                return;
        }
        if (Unknown(body) is { } unknown)
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", $"Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field.").ConfigureAwait(false);
            return;
        }
        if (method == "generateContent" && await AnswerAudioAsync(http, request, body).ConfigureAwait(false)) return;
        if (method == "generateContent")
        {
            http.Response.ContentType = "application/json; charset=UTF-8";
            await http.Response.WriteAsync(Response(script, Events(script).Count, final: true, all: true).ToJsonString(), ct).ConfigureAwait(false);
            return;
        }
        var sse = request.Query.Contains("alt=sse", StringComparison.Ordinal) && !script.JsonArray;
        await StreamAsync(http, script, sse).ConfigureAwait(false);
    }

    /// <summary>
    /// countTokens: Vertex takes <c>contents</c> (+ system instruction, tools, generationConfig) at the top level; AI Studio
    /// takes <c>contents</c> or a whole <c>generateContentRequest</c> naming its model. Answers <see cref="CountTokens"/>.
    /// </summary>
    private static async Task CountTokensAsync(HttpContext http, JsonObject body, bool vertex)
    {
        JsonObject request = body;
        if (!vertex && body["generateContentRequest"] is JsonObject inner)
        {
            if (inner["model"]?.GetValue<string>() is not { } m || !m.StartsWith("models/", StringComparison.Ordinal))
            {
                await ErrorAsync(http, 400, "INVALID_ARGUMENT", "generateContentRequest.model is required (models/{model})").ConfigureAwait(false);
                return;
            }
            request = inner;
        }
        foreach (var (key, _) in request)
        {
            var known = key is "contents" or "system_instruction" or "systemInstruction" or "tools" or "generationConfig" or "generation_config"
                || (request != body && (TopLevelFields.Contains(key) || key == "model"));
            if (!known || (request == body && !vertex && key != "contents"))
            {
                await ErrorAsync(http, 400, "INVALID_ARGUMENT", $"Invalid JSON payload received. Unknown name \"{key}\": Cannot find field.").ConfigureAwait(false);
                return;
            }
        }
        if (request["contents"] is not JsonArray)
        {
            await ErrorAsync(http, 400, "INVALID_ARGUMENT", "contents is required").ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "application/json; charset=UTF-8";
        var total = CountTokens(request);
        await http.Response.WriteAsync($$"""{"totalTokens":{{total}},"promptTokensDetails":[{"modality":"TEXT","tokenCount":{{total}}}]}""", http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A deterministic count for a countTokens body: 2 per content plus one per 4 bytes of part and system text.</summary>
    public static long CountTokens(JsonObject request)
    {
        long text = 0, contents = 0;
        foreach (var c in request["contents"] as JsonArray ?? [])
        {
            contents++;
            foreach (var part in c?["parts"] as JsonArray ?? []) if (part?["text"] is JsonValue t) text += Encoding.UTF8.GetByteCount(t.GetValue<string>());
        }
        var system = request["system_instruction"] ?? request["systemInstruction"];
        foreach (var part in system?["parts"] as JsonArray ?? []) if (part?["text"] is JsonValue t) text += Encoding.UTF8.GetByteCount(t.GetValue<string>());
        return contents * 2 + (text + 3) / 4;
    }

    private static string? Unknown(JsonObject body)
    {
        foreach (var (key, value) in body)
        {
            if (!TopLevelFields.Contains(key)) return key;
            if (key is "generationConfig" or "generation_config" && value is JsonObject gc)
            {
                foreach (var (gk, _) in gc) if (!GenerationConfigFields.Contains(gk)) return "generation_config." + gk;
            }
        }
        return null;
    }

    /// <summary>The stream's events: thought, text pieces or function calls (the last event carries finishReason).</summary>
    private static List<JsonArray> Events(GeminiScript s)
    {
        var events = new List<JsonArray>();
        if (s.BlockReason is not null) return events;
        if (s.Thought is not null)
        {
            var part = new JsonObject { ["text"] = s.Thought, ["thought"] = true };
            if (s.ThoughtSignature is not null) part["thoughtSignature"] = s.ThoughtSignature;
            events.Add([part]);
        }
        if (s.FunctionCalls is { } calls)
        {
            var parts = new JsonArray();
            foreach (var (name, args) in calls) parts.Add(new JsonObject { ["functionCall"] = new JsonObject { ["name"] = name, ["args"] = JsonNode.Parse(args) } });
            // Gemini 3 signs the first function call of a turn when there is no thought part to carry the signature.
            if (s.Thought is null && s.ThoughtSignature is not null && parts.Count > 0) parts[0]!["thoughtSignature"] = s.ThoughtSignature;
            events.Add(parts);
            return events;
        }
        foreach (var piece in Split(s.Text, s.Chunks)) events.Add([new JsonObject { ["text"] = piece }]);
        return events;
    }

    /// <summary>A GenerateContentResponse: event <paramref name="index"/>, or every part when <paramref name="all"/>.</summary>
    private static JsonObject Response(GeminiScript s, int index, bool final, bool all = false)
    {
        var root = new JsonObject();
        if (s.BlockReason is not null)
        {
            root["promptFeedback"] = new JsonObject { ["blockReason"] = s.BlockReason };
        }
        else
        {
            var parts = new JsonArray();
            var events = Events(s);
            if (all)
            {
                foreach (var e in events) foreach (var p in e) parts.Add(p!.DeepClone());
            }
            else if (index < events.Count)
            {
                foreach (var p in events[index]) parts.Add(p!.DeepClone());
            }
            var candidate = new JsonObject { ["content"] = new JsonObject { ["parts"] = parts, ["role"] = "model" } };
            if (final) candidate["finishReason"] = s.FinishReason;
            candidate["index"] = 0;
            root["candidates"] = new JsonArray(candidate);
        }
        var usage = new JsonObject
        {
            ["promptTokenCount"] = s.PromptTokens,
            ["candidatesTokenCount"] = s.CandidatesTokens,
            ["totalTokenCount"] = s.PromptTokens + s.CandidatesTokens + s.ThoughtsTokens,
        };
        if (s.ThoughtsTokens > 0) usage["thoughtsTokenCount"] = s.ThoughtsTokens;
        if (s.CachedTokens > 0) usage["cachedContentTokenCount"] = s.CachedTokens;
        root["usageMetadata"] = usage;
        root["modelVersion"] = "gemini-emu";
        root["responseId"] = s.ResponseId;
        return root;
    }

    private static async Task StreamAsync(HttpContext http, GeminiScript s, bool sse)
    {
        var ct = http.RequestAborted;
        http.Response.ContentType = sse ? "text/event-stream" : "application/json; charset=UTF-8";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        var count = Math.Max(1, Events(s).Count);
        if (!sse) await SendAsync(http, "[").ConfigureAwait(false);
        for (var i = 0; i < count; i++)
        {
            if (s.TruncateAfter == i) return;
            string json;
            if (s.ErrorEventAfter == i)
            {
                json = """{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}""";
                await SendAsync(http, sse ? "data: " + json + "\r\n\r\n" : (i > 0 ? "," : "") + json + "]").ConfigureAwait(false);
                return;
            }
            var final = i == count - 1;
            if (s.ChunkDelay > TimeSpan.Zero) await Task.Delay(s.ChunkDelay, ct).ConfigureAwait(false);
            if (sse)
            {
                json = Response(s, i, final).ToJsonString();
                await SendAsync(http, "data: " + json + "\r\n\r\n").ConfigureAwait(false);
            }
            else
            {
                // Google pretty-prints the array form.
                json = Response(s, i, final).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
                await SendAsync(http, (i > 0 ? ",\r\n" : "") + json).ConfigureAwait(false);
            }
        }
        if (!sse) await SendAsync(http, "]").ConfigureAwait(false);
    }

    private async Task EmbeddingsAsync(HttpContext http, JsonObject body, string method)
    {
        var inputs = new List<(string Text, int? Dimensions)>();
        if (method == "predict")
        {
            var dims = body["parameters"]?["outputDimensionality"]?.GetValue<int>();
            foreach (var i in body["instances"]?.AsArray() ?? []) inputs.Add((i?["content"]?.GetValue<string>() ?? "", dims));
        }
        else if (method == "batchEmbedContents")
        {
            foreach (var r in body["requests"]?.AsArray() ?? [])
                inputs.Add((r?["content"]?["parts"]?[0]?["text"]?.GetValue<string>() ?? "", r?["outputDimensionality"]?.GetValue<int>()));
        }
        else inputs.Add((body["content"]?["parts"]?[0]?["text"]?.GetValue<string>() ?? "", body["outputDimensionality"]?.GetValue<int>()));

        var list = new JsonArray();
        for (var n = 0; n < inputs.Count; n++)
        {
            var values = new JsonArray();
            var dims = inputs[n].Dimensions ?? 3;
            for (var d = 0; d < dims; d++) values.Add(d == 0 ? 0.25 * (n + 1) : d == 1 ? -0.5 : 0.125);
            list.Add(method == "predict"
                ? new JsonObject { ["embeddings"] = new JsonObject { ["values"] = values, ["statistics"] = new JsonObject { ["token_count"] = 4, ["truncated"] = false } } }
                : new JsonObject { ["values"] = values });
        }
        JsonObject root = method switch
        {
            "predict" => new JsonObject { ["predictions"] = list },
            "batchEmbedContents" => new JsonObject { ["embeddings"] = list },
            _ => new JsonObject { ["embedding"] = list[0]!.DeepClone() },
        };
        http.Response.ContentType = "application/json; charset=UTF-8";
        await http.Response.WriteAsync(root.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }

    private async Task AnswerTokenAsync(HttpContext http, RecordedRequest request)
    {
        var form = System.Web.HttpUtility.ParseQueryString(request.BodyText);
        if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" || form["assertion"] is not { } jwt)
        {
            await OAuthErrorAsync(http, "unsupported_grant_type", "Invalid grant_type.").ConfigureAwait(false);
            return;
        }
        var parts = jwt.Split('.');
        if (parts.Length != 3
            || !_serviceAccountKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), System.Buffers.Text.Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            await OAuthErrorAsync(http, "invalid_grant", "Invalid JWT Signature.").ConfigureAwait(false);
            return;
        }
        using var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[0]));
        using var claims = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]));
        var c = claims.RootElement;
        var valid = header.RootElement.GetProperty("alg").GetString() == "RS256"
            && c.GetProperty("iss").GetString() == ClientEmail
            && c.GetProperty("aud").GetString() == TokenUri
            && c.GetProperty("scope").GetString() == "https://www.googleapis.com/auth/cloud-platform"
            && c.GetProperty("exp").GetInt64() - c.GetProperty("iat").GetInt64() is > 0 and <= 3600;
        if (!valid)
        {
            await OAuthErrorAsync(http, "invalid_grant", "Invalid JWT: claims are wrong.").ConfigureAwait(false);
            return;
        }
        var token = "ya29.emu-" + Interlocked.Increment(ref _tokenCount);
        _issuedTokens[token] = true;
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync($$"""{"access_token":"{{token}}","expires_in":{{TokenExpiresInSeconds}},"token_type":"Bearer"}""", http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task OAuthErrorAsync(HttpContext http, string error, string description)
    {
        http.Response.StatusCode = 400;
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync($$"""{"error":"{{error}}","error_description":"{{description}}"}""", http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task ErrorAsync(HttpContext http, int status, string rpcStatus, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=UTF-8";
        var body = new JsonObject { ["error"] = new JsonObject { ["code"] = status, ["message"] = message, ["status"] = rpcStatus } };
        await http.Response.WriteAsync(body.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task SendAsync(HttpContext http, string text)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static List<string> Split(string text, int count)
    {
        var list = new List<string>();
        count = Math.Max(1, Math.Min(count, text.Length));
        var size = (int)Math.Ceiling(text.Length / (double)count);
        for (var i = 0; i < text.Length; i += size) list.Add(text.Substring(i, Math.Min(size, text.Length - i)));
        if (list.Count == 0) list.Add("");
        return list;
    }
}
