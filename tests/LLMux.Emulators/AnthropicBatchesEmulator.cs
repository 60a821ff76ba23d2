using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// Anthropic's Message Batches API as documented: <c>POST /v1/messages/batches</c> (<c>{"requests":[{custom_id, params}]}</c>),
/// <c>GET /v1/messages/batches/{id}</c>, <c>POST /v1/messages/batches/{id}/cancel</c>, <c>GET /v1/messages/batches/{id}/results</c>
/// (JSONL, one <c>{"custom_id","result":{"type":"succeeded","message"}|{"type":"errored","error"}|{"type":"canceled"}|{"type":"expired"}}</c>
/// a line, in no particular order). It refuses what the real API refuses at creation (no key or version, a custom_id
/// outside <c>^[a-zA-Z0-9_-]{1,64}$</c> or repeated, no requests) and, like it, validates each request's params only
/// while processing (an unknown field or a missing max_tokens is an errored result). Each poll of a batch processes
/// a share of its requests (all of them after <see cref="PollsToEnd"/> polls); a cancel ends it at the next poll
/// with what was left canceled; <see cref="Expire"/> ends it with what was left expired.
/// </summary>
public sealed partial class AnthropicBatchesEmulator : EmulatorHost
{
    private static readonly HashSet<string> KnownParams =
    [
        "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "temperature", "top_p", "top_k",
        "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers", "output_format", "output_config", "context_management",
    ];

    public sealed class EmulatedRequest
    {
        public required string CustomId { get; init; }
        public required string Params { get; init; }
        /// <summary>null while processing; else succeeded, errored, canceled or expired.</summary>
        public string? Outcome { get; set; }
        public string? Result { get; set; }
    }

    public sealed class EmulatedBatch
    {
        public required string Id { get; init; }
        public required DateTimeOffset CreatedAt { get; init; }
        public required IReadOnlyList<EmulatedRequest> Requests { get; init; }
        public string ProcessingStatus { get; set; } = "in_progress";
        public int Polls { get; set; }
        public DateTimeOffset? CancelInitiatedAt { get; set; }
        public DateTimeOffset? EndedAt { get; set; }
        public bool ExpireNow { get; set; }
        /// <summary>The headers of its creation request.</summary>
        public IReadOnlyDictionary<string, string> CreateHeaders { get; init; } = new Dictionary<string, string>();
    }

    public ConcurrentDictionary<string, EmulatedBatch> Batches { get; } = new(StringComparer.Ordinal);

    /// <summary>Polls an in-progress batch needs to end.</summary>
    public int PollsToEnd { get; set; } = 2;

    /// <summary>Requests (by custom_id) that end errored with this Anthropic error type, as an overloaded or rate-limited request does.</summary>
    public ConcurrentDictionary<string, string> ErrorTypes { get; } = new(StringComparer.Ordinal);

    public string Text { get; set; } = "Hello from the Anthropic batch emulator.";

    private int _ids;

    /// <summary>The api_base to configure: the host root (LLMux appends <c>/v1/messages</c>).</summary>
    public string ApiBase => Root.ToString().TrimEnd('/');

    public static async Task<AnthropicBatchesEmulator> StartNewAsync(int port = 0)
    {
        var e = new AnthropicBatchesEmulator();
        await e.StartAsync(port).ConfigureAwait(false);
        return e;
    }

    /// <summary>Ends the batch at its next poll with every request not yet processed expired (its 24 hours have passed).</summary>
    public void Expire(string id)
    {
        var b = Batches[id];
        lock (b) b.ExpireNow = true;
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex CustomId();

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var requestId = $"req_emubatch_{Interlocked.Increment(ref _ids):D4}";
        http.Response.Headers["request-id"] = requestId;
        http.Response.ContentType = "application/json";
        if (!request.Headers.ContainsKey("x-api-key") && !request.Headers.ContainsKey("authorization"))
        {
            await ErrorAsync(http, 401, "authentication_error", "x-api-key header is required", requestId);
            return;
        }
        if (!request.Headers.ContainsKey("anthropic-version"))
        {
            await ErrorAsync(http, 400, "invalid_request_error", "anthropic-version: header is required", requestId);
            return;
        }
        const string prefix = "/v1/messages/batches";
        if (request.Path == prefix && request.Method == "POST") { await CreateAsync(http, request, requestId); return; }
        if (!request.Path.StartsWith(prefix + "/", StringComparison.Ordinal))
        {
            await ErrorAsync(http, 404, "not_found_error", "Not Found", requestId);
            return;
        }
        var rest = request.Path[(prefix.Length + 1)..];
        var action = rest.Contains('/') ? rest[(rest.IndexOf('/') + 1)..] : "";
        var id = rest.Contains('/') ? rest[..rest.IndexOf('/')] : rest;
        if (!Batches.TryGetValue(id, out var batch))
        {
            await ErrorAsync(http, 404, "not_found_error", $"No batch found with id '{id}'", requestId);
            return;
        }
        string json;
        switch (action, request.Method)
        {
            case ("", "GET"):
                lock (batch)
                {
                    Advance(batch);
                    json = Json(batch);
                }
                break;
            case ("cancel", "POST"):
                lock (batch)
                {
                    if (batch.ProcessingStatus == "in_progress")
                    {
                        batch.ProcessingStatus = "canceling";
                        batch.CancelInitiatedAt = DateTimeOffset.UtcNow;
                    }
                    json = Json(batch);
                }
                break;
            case ("results", "GET"):
                string? results = null;
                lock (batch)
                {
                    if (batch.ProcessingStatus == "ended")
                    {
                        var sb = new StringBuilder();
                        // Results come in no particular order: the last requests first.
                        for (var i = batch.Requests.Count - 1; i >= 0; i--) sb.Append(batch.Requests[i].Result).Append('\n');
                        results = sb.ToString();
                    }
                }
                if (results is null)
                {
                    await ErrorAsync(http, 400, "invalid_request_error", $"Batch {id} has not finished processing; results are not available yet.", requestId);
                    return;
                }
                http.Response.ContentType = "application/binary";
                await http.Response.WriteAsync(results);
                return;
            default:
                await ErrorAsync(http, 404, "not_found_error", "Not Found", requestId);
                return;
        }
        await http.Response.WriteAsync(json);
    }

    private async Task CreateAsync(HttpContext http, RecordedRequest request, string requestId)
    {
        JsonDocument doc;
        try
        {
            doc = request.Json();
        }
        catch (JsonException)
        {
            await ErrorAsync(http, 400, "invalid_request_error", "Invalid JSON in request body", requestId);
            return;
        }
        using (doc)
        {
            if (!doc.RootElement.TryGetProperty("requests", out var requests) || requests.ValueKind != JsonValueKind.Array)
            {
                await ErrorAsync(http, 400, "invalid_request_error", "requests: Field required", requestId);
                return;
            }
            if (requests.GetArrayLength() == 0)
            {
                await ErrorAsync(http, 400, "invalid_request_error", "requests: List should have at least 1 item after validation, not 0", requestId);
                return;
            }
            var list = new List<EmulatedRequest>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var i = 0;
            foreach (var r in requests.EnumerateArray())
            {
                var customId = r.TryGetProperty("custom_id", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : null;
                if (customId is null || !CustomId().IsMatch(customId))
                {
                    await ErrorAsync(http, 400, "invalid_request_error", $"requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'", requestId);
                    return;
                }
                if (!seen.Add(customId))
                {
                    await ErrorAsync(http, 400, "invalid_request_error", $"Duplicate custom_id in requests: {customId}", requestId);
                    return;
                }
                if (!r.TryGetProperty("params", out var p) || p.ValueKind != JsonValueKind.Object)
                {
                    await ErrorAsync(http, 400, "invalid_request_error", $"requests.{i}.params: Field required", requestId);
                    return;
                }
                list.Add(new EmulatedRequest { CustomId = customId, Params = p.GetRawText() });
                i++;
            }
            var id = "msgbatch_01" + Convert.ToHexString(Guid.NewGuid().ToByteArray())[..22];
            var batch = new EmulatedBatch { Id = id, CreatedAt = DateTimeOffset.UtcNow, Requests = list, CreateHeaders = request.Headers };
            Batches[id] = batch;
            string json;
            lock (batch) json = Json(batch);
            await http.Response.WriteAsync(json);
        }
    }

    /// <summary>One poll: a share of the requests is processed; a cancel or an expiry ends the batch.</summary>
    private void Advance(EmulatedBatch b)
    {
        if (b.ProcessingStatus == "ended") return;
        b.Polls++;
        var pending = b.Requests.Where(static r => r.Outcome is null).ToList();
        if (b.ProcessingStatus == "canceling" || b.ExpireNow)
        {
            foreach (var r in pending) Settle(r, b.ExpireNow && b.ProcessingStatus != "canceling" ? "expired" : "canceled");
            End(b);
            return;
        }
        var share = b.Polls >= PollsToEnd ? pending.Count : Math.Max(1, b.Requests.Count / Math.Max(1, PollsToEnd));
        foreach (var r in pending.Take(share)) Process(r);
        if (b.Requests.All(static r => r.Outcome is not null)) End(b);
    }

    private static void End(EmulatedBatch b)
    {
        b.ProcessingStatus = "ended";
        b.EndedAt = DateTimeOffset.UtcNow;
    }

    private static void Settle(EmulatedRequest r, string outcome)
    {
        r.Outcome = outcome;
        r.Result = "{\"custom_id\":" + JsonSerializer.Serialize(r.CustomId) + ",\"result\":{\"type\":\"" + outcome + "\"}}";
    }

    private void Process(EmulatedRequest r)
    {
        using var doc = JsonDocument.Parse(r.Params);
        var p = doc.RootElement;
        string? invalid = null;
        foreach (var prop in p.EnumerateObject())
            if (!KnownParams.Contains(prop.Name)) { invalid = $"{prop.Name}: Extra inputs are not permitted"; break; }
        if (invalid is null && !p.TryGetProperty("max_tokens", out _)) invalid = "max_tokens: Field required";
        if (invalid is null && !p.TryGetProperty("messages", out _)) invalid = "messages: Field required";
        var type = invalid is not null ? "invalid_request_error" : ErrorTypes.TryGetValue(r.CustomId, out var t) ? t : null;
        if (type is not null)
        {
            r.Outcome = "errored";
            var message = invalid ?? type switch
            {
                "overloaded_error" => "Overloaded",
                "rate_limit_error" => "Number of request tokens has exceeded your per-minute rate limit",
                "api_error" => "Internal server error",
                _ => "Error",
            };
            r.Result = "{\"custom_id\":" + JsonSerializer.Serialize(r.CustomId) + ",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\",\"error\":{\"type\":\""
                       + type + "\",\"message\":" + JsonSerializer.Serialize(message) + "}}}}";
            return;
        }
        var model = p.GetProperty("model").GetString();
        var n = Interlocked.Increment(ref _ids);
        r.Outcome = "succeeded";
        r.Result = "{\"custom_id\":" + JsonSerializer.Serialize(r.CustomId) + ",\"result\":{\"type\":\"succeeded\",\"message\":{\"id\":\"msg_01emubatch" + n.ToString("D8", CultureInfo.InvariantCulture)
                   + "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":" + JsonSerializer.Serialize(model) + ",\"content\":[{\"type\":\"text\",\"text\":" + JsonSerializer.Serialize(Text)
                   + "}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":11,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":36,\"service_tier\":\"batch\"}}}}";
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string Stamp(DateTimeOffset? t) => t is { } v ? "\"" + Stamp(v) + "\"" : "null";

    /// <summary>The MessageBatch object, fields in the documented order.</summary>
    private string Json(EmulatedBatch b)
    {
        long processing = 0, succeeded = 0, errored = 0, canceled = 0, expired = 0;
        foreach (var r in b.Requests)
        {
            switch (r.Outcome)
            {
                case null: processing++; break;
                case "succeeded": succeeded++; break;
                case "errored": errored++; break;
                case "canceled": canceled++; break;
                default: expired++; break;
            }
        }
        var results = b.ProcessingStatus == "ended" ? "\"" + ApiBase + "/v1/messages/batches/" + b.Id + "/results\"" : "null";
        return $$"""
            {
              "id": "{{b.Id}}",
              "type": "message_batch",
              "processing_status": "{{b.ProcessingStatus}}",
              "request_counts": {
                "processing": {{processing}},
                "succeeded": {{succeeded}},
                "errored": {{errored}},
                "canceled": {{canceled}},
                "expired": {{expired}}
              },
              "ended_at": {{Stamp(b.EndedAt)}},
              "created_at": "{{Stamp(b.CreatedAt)}}",
              "expires_at": "{{Stamp(b.CreatedAt.AddHours(24))}}",
              "archived_at": null,
              "cancel_initiated_at": {{Stamp(b.CancelInitiatedAt)}},
              "results_url": {{results}}
            }
            """;
    }

    private static Task ErrorAsync(HttpContext http, int status, string type, string message, string requestId)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsync("{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":" + JsonSerializer.Serialize(message) + "},\"request_id\":\"" + requestId + "\"}");
    }
}
