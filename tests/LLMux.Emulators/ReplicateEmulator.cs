using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Replicate emulator does with the next prediction.</summary>
public sealed record ReplicateScript
{
    /// <summary>The output tokens, in order (a language model's output array).</summary>
    public IReadOnlyList<string> Output { get; init; } = ["Hello", " from", " Replicate."];
    public long InputTokens { get; init; } = 8;
    public long OutputTokens { get; init; } = 3;
    /// <summary>GETs of <c>urls.get</c> that still answer <c>processing</c> before the terminal status (a <c>Prefer: wait</c> create answers the same way while this is above zero).</summary>
    public int Polls { get; init; }
    /// <summary>The prediction fails with this error instead of succeeding.</summary>
    public string? Fail { get; init; }
    /// <summary>A problem answer to the create call: status, title, detail.</summary>
    public (int Status, string Title, string Detail)? Problem { get; init; }
    /// <summary>Stream: after this many output events, wait until the caller goes away.</summary>
    public int? HangAfter { get; init; }
    /// <summary>Stream: an <c>event: error</c> after this many output events.</summary>
    public int? ErrorAfter { get; init; }
}

/// <summary>
/// Replicate's HTTP API for language models: <c>POST /v1/models/{owner}/{name}/predictions</c>,
/// <c>POST /v1/predictions</c> (with <c>version</c>), <c>POST /v1/deployments/{owner}/{name}/predictions</c> create a
/// prediction (<c>Prefer: wait</c> answers it finished when it is); <c>GET /v1/predictions/{id}</c> polls it;
/// <c>POST /v1/predictions/{id}/cancel</c> cancels it; <c>GET /v1/streams/{id}</c> streams it as SSE
/// (<c>event: output</c> with <c>id</c> and the text as data lines, <c>event: done</c> with <c>{}</c>,
/// <c>event: error</c> with <c>{"detail"}</c>). Every call needs <c>Authorization: Bearer r8_…</c>.
/// </summary>
public sealed class ReplicateEmulator : EmulatorHost
{
    public const string Token = "r8_emulatortoken";

    private readonly ConcurrentDictionary<string, Prediction> _predictions = new();
    private int _ids;

    public ConcurrentQueue<ReplicateScript> Scripts { get; } = new();
    public string ApiBase => new Uri(Root, "/v1").ToString();
    public int Cancelled => _predictions.Values.Count(static p => p.Status == "canceled");

    /// <summary>The inputs each created prediction received.</summary>
    public ConcurrentQueue<JsonElement> Inputs { get; } = new();

    private sealed class Prediction(string id, ReplicateScript script, string model)
    {
        public string Id { get; } = id;
        public ReplicateScript Script { get; } = script;
        public string Model { get; } = model;
        public int PollsLeft = script.Polls;
        public string Status = "starting";
        public TaskCompletionSource CancelledSignal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static async Task<ReplicateEmulator> StartNewAsync()
    {
        var e = new ReplicateEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    public void Enqueue(ReplicateScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (request.Headers.GetValueOrDefault("authorization") != "Bearer " + Token)
        {
            await ProblemAsync(http, 401, "Unauthenticated", "You did not pass a valid authentication token").ConfigureAwait(false);
            return;
        }
        var parts = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (request.Method == "POST" && parts is ["v1", "models", var owner, var name, "predictions"]) await CreateAsync(http, request, owner + "/" + name, null).ConfigureAwait(false);
        else if (request.Method == "POST" && parts is ["v1", "deployments", var dOwner, var dName, "predictions"]) await CreateAsync(http, request, "deployments/" + dOwner + "/" + dName, null).ConfigureAwait(false);
        else if (request.Method == "POST" && parts is ["v1", "predictions"]) await CreateAsync(http, request, null, true).ConfigureAwait(false);
        else if (request.Method == "GET" && parts is ["v1", "predictions", var id] && _predictions.TryGetValue(id, out var p)) await PollAsync(http, p).ConfigureAwait(false);
        else if (request.Method == "POST" && parts is ["v1", "predictions", var cid, "cancel"] && _predictions.TryGetValue(cid, out var c))
        {
            if (c.Status is "starting" or "processing") c.Status = "canceled";
            c.CancelledSignal.TrySetResult();
            await WriteJsonAsync(http, 200, Json(c)).ConfigureAwait(false);
        }
        else if (request.Method == "GET" && parts is ["v1", "streams", var sid] && _predictions.TryGetValue(sid, out var sp)) await StreamAsync(http, sp).ConfigureAwait(false);
        else await ProblemAsync(http, 404, "Not found", $"The requested resource {request.Path} was not found.").ConfigureAwait(false);
    }

    private async Task CreateAsync(HttpContext http, RecordedRequest request, string? model, bool? needsVersion)
    {
        var script = Scripts.TryDequeue(out var s) ? s : new ReplicateScript();
        if (script.Problem is { } problem)
        {
            await ProblemAsync(http, problem.Status, problem.Title, problem.Detail).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        if (needsVersion == true)
        {
            if (!root.TryGetProperty("version", out var v) || v.GetString() is not { Length: > 0 } version)
            {
                await ProblemAsync(http, 422, "Input validation failed", "version is required").ConfigureAwait(false);
                return;
            }
            model = version;
        }
        if (!root.TryGetProperty("input", out var input) || !input.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String)
        {
            await ProblemAsync(http, 422, "Input validation failed", "input: prompt is required").ConfigureAwait(false);
            return;
        }
        Inputs.Enqueue(input.Clone());
        var p = new Prediction("pred" + Interlocked.Increment(ref _ids).ToString("D4"), script, model!);
        _predictions[p.Id] = p;
        var wait = request.Headers.ContainsKey("prefer") && request.Headers["prefer"].StartsWith("wait", StringComparison.Ordinal);
        if (wait && p.PollsLeft == 0) Finish(p);
        await WriteJsonAsync(http, 201, Json(p)).ConfigureAwait(false);
    }

    private static void Finish(Prediction p) => p.Status = p.Script.Fail is null ? "succeeded" : "failed";

    private async Task PollAsync(HttpContext http, Prediction p)
    {
        if (p.Status is "starting" or "processing")
        {
            if (p.PollsLeft > 0) { p.PollsLeft--; p.Status = "processing"; }
            else Finish(p);
        }
        await WriteJsonAsync(http, 200, Json(p)).ConfigureAwait(false);
    }

    private async Task StreamAsync(HttpContext http, Prediction p)
    {
        var ct = http.RequestAborted;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-store";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        p.Status = "processing";
        var output = p.Script.Output;
        for (var i = 0; i < output.Count; i++)
        {
            if (p.Script.HangAfter == i)
            {
                // Until the caller goes away (then the cancel call arrives), or the prediction is canceled.
                await Task.WhenAny(p.CancelledSignal.Task, Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
                return;
            }
            if (p.Script.ErrorAfter == i)
            {
                p.Status = "failed";
                await SendAsync(http, "event: error\ndata: {\"detail\":\"CUDA out of memory\"}\n\n").ConfigureAwait(false);
                return;
            }
            await SendAsync(http, Frame("output", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), output[i])).ConfigureAwait(false);
        }
        Finish(p);
        await SendAsync(http, "event: done\ndata: {}\n\n").ConfigureAwait(false);
    }

    /// <summary>An SSE event; a newline inside the data becomes a second <c>data:</c> line, as the SSE format requires.</summary>
    public static string Frame(string name, string id, string data)
    {
        var sb = new StringBuilder("event: ").Append(name).Append("\nid: ").Append(id).Append('\n');
        foreach (var line in data.Split('\n')) sb.Append("data: ").Append(line).Append('\n');
        return sb.Append('\n').ToString();
    }

    /// <summary>The bytes <c>/v1/streams/{id}</c> sends for a script that runs to its end.</summary>
    public static string StreamText(ReplicateScript s)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < s.Output.Count; i++) sb.Append(Frame("output", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), s.Output[i]));
        return sb.Append("event: done\ndata: {}\n\n").ToString();
    }

    private string Json(Prediction p)
    {
        var o = new JsonObject
        {
            ["id"] = p.Id,
            ["model"] = p.Model,
            ["status"] = p.Status,
            ["created_at"] = "2025-01-02T03:04:05.000Z",
            ["urls"] = new JsonObject
            {
                ["get"] = new Uri(Root, "/v1/predictions/" + p.Id).ToString(),
                ["cancel"] = new Uri(Root, "/v1/predictions/" + p.Id + "/cancel").ToString(),
                ["stream"] = new Uri(Root, "/v1/streams/" + p.Id).ToString(),
            },
        };
        if (p.Status == "succeeded")
        {
            o["output"] = new JsonArray(p.Script.Output.Select(static t => (JsonNode?)JsonValue.Create(t)).ToArray());
            o["metrics"] = new JsonObject { ["input_token_count"] = p.Script.InputTokens, ["output_token_count"] = p.Script.OutputTokens, ["predict_time"] = 0.42 };
        }
        else if (p.Status == "processing") o["output"] = new JsonArray(JsonValue.Create(p.Script.Output[0]));
        if (p.Status == "failed") o["error"] = p.Script.Fail ?? "CUDA out of memory";
        return o.ToJsonString();
    }

    private static async Task SendAsync(HttpContext http, string text)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext http, int status, string json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(json, http.RequestAborted).ConfigureAwait(false);
    }

    private static Task ProblemAsync(HttpContext http, int status, string title, string detail) =>
        WriteJsonAsync(http, status, new JsonObject { ["title"] = title, ["detail"] = detail, ["status"] = status }.ToJsonString());
}
