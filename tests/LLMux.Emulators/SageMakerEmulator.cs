using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the SageMaker emulator does with the next request.</summary>
public sealed record SageMakerScript
{
    public string Content { get; init; } = "Hello from the endpoint.";
    /// <summary>Stream deltas the content is cut into.</summary>
    public int Chunks { get; init; } = 3;
    /// <summary>Stream: the container's SSE bytes are cut into PayloadPart events of this many bytes (AWS cuts anywhere).</summary>
    public int PartSize { get; init; } = 37;
    public long PromptTokens { get; init; } = 9;
    public long CompletionTokens { get; init; } = 5;
    /// <summary>An AWS error answer: HTTP status, <c>x-amzn-ErrorType</c> and body.</summary>
    public int? ErrorStatus { get; init; }
    public string? ErrorType { get; init; }
    public string? ErrorBody { get; init; }
    /// <summary>Stream: after this many PayloadParts send a <c>ModelStreamError</c> exception event and stop.</summary>
    public int? StreamErrorAfter { get; init; }
    /// <summary>Stream: stop after this many PayloadParts without the final chunk or [DONE], and close cleanly.</summary>
    public int? TruncateAfter { get; init; }
}

/// <summary>
/// SageMaker Runtime in front of a Messages API container (TGI): <c>POST /endpoints/{name}/invocations</c> answers the
/// container's chat.completion JSON; <c>/invocations-response-stream</c> answers AWS eventstream whose
/// <c>PayloadPart</c> events carry the container's SSE bytes (<c>data:{chunk}\n\n</c>, as TGI writes it, with no space)
/// cut every <see cref="SageMakerScript.PartSize"/> bytes regardless of frame or UTF-8 boundaries. Requests must carry
/// a SigV4 <c>Authorization</c> scoped to service <c>sagemaker</c>, or get AWS's 403.
/// </summary>
public sealed class SageMakerEmulator : EmulatorHost
{
    private const long Created = 1700000000;

    public ConcurrentQueue<SageMakerScript> Scripts { get; } = new();

    public static async Task<SageMakerEmulator> StartNewAsync()
    {
        var e = new SageMakerEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    /// <summary>The api_base to configure (the runtime host root).</summary>
    public string ApiBase => Root.ToString().TrimEnd('/');

    public void Enqueue(SageMakerScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var script = Scripts.TryDequeue(out var s) ? s : new SageMakerScript();
        var ct = http.RequestAborted;
        http.Response.Headers["x-amzn-RequestId"] = "sm-req-" + TotalRequests;
        var auth = request.Headers.GetValueOrDefault("authorization") ?? "";
        if (!auth.StartsWith("AWS4-HMAC-SHA256 Credential=", StringComparison.Ordinal) || !auth.Contains("/sagemaker/aws4_request", StringComparison.Ordinal))
        {
            await ErrorAsync(http, 403, "MissingAuthenticationTokenException", "{\"message\":\"Missing Authentication Token\"}", ct).ConfigureAwait(false);
            return;
        }
        var parts = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || parts[0] != "endpoints" || parts[2] is not ("invocations" or "invocations-response-stream"))
        {
            await ErrorAsync(http, 404, "UnknownOperationException", "{\"message\":\"unknown operation\"}", ct).ConfigureAwait(false);
            return;
        }
        if (script.ErrorStatus is { } status)
        {
            await ErrorAsync(http, status, script.ErrorType, script.ErrorBody ?? "{\"message\":\"emulated error\"}", ct).ConfigureAwait(false);
            return;
        }
        if (parts[2] == "invocations")
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(Completion(script), ct).ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "application/vnd.amazon.eventstream";
        http.Response.Headers["x-amzn-SageMaker-Content-Type"] = "text/event-stream";
        foreach (var message in StreamMessages(script))
        {
            await http.Response.Body.WriteAsync(message, ct).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
    }

    private static async Task ErrorAsync(HttpContext http, int status, string? type, string body, CancellationToken ct)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        if (type is not null) http.Response.Headers["x-amzn-ErrorType"] = type + ":http://internal.amazon.com/coral/com.amazon.sagemaker/";
        await http.Response.WriteAsync(body, ct).ConfigureAwait(false);
    }

    /// <summary>The container's non-stream answer (TGI's Messages API shape).</summary>
    public static string Completion(SageMakerScript s) =>
        "{\"object\":\"chat.completion\",\"id\":\"\",\"created\":" + Created + ",\"model\":\"tgi\",\"system_fingerprint\":\"3.0.1-native\"," +
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + JsonSerializer.Serialize(s.Content) + "},\"logprobs\":null,\"finish_reason\":\"stop\"}]," +
        "\"usage\":{\"prompt_tokens\":" + s.PromptTokens + ",\"completion_tokens\":" + s.CompletionTokens + ",\"total_tokens\":" + (s.PromptTokens + s.CompletionTokens) + "}}";

    /// <summary>The container's SSE text for a stream: deltas, a final chunk with finish_reason and usage, then [DONE].</summary>
    public static string ContainerSse(SageMakerScript s)
    {
        var sb = new StringBuilder();
        var size = Math.Max(1, (s.Content.Length + s.Chunks - 1) / s.Chunks);
        for (var i = 0; i < s.Content.Length; i += size)
        {
            var piece = s.Content.Substring(i, Math.Min(size, s.Content.Length - i));
            sb.Append("data:").Append(Chunk("{\"role\":\"assistant\",\"content\":" + JsonSerializer.Serialize(piece) + "}", "null", "null")).Append("\n\n");
        }
        var usage = "{\"prompt_tokens\":" + s.PromptTokens + ",\"completion_tokens\":" + s.CompletionTokens + ",\"total_tokens\":" + (s.PromptTokens + s.CompletionTokens) + "}";
        sb.Append("data:").Append(Chunk("{\"role\":\"assistant\",\"content\":\"\"}", "\"stop\"", usage)).Append("\n\n");
        sb.Append("data:[DONE]\n\n");
        return sb.ToString();
    }

    private static string Chunk(string delta, string finish, string usage) =>
        "{\"object\":\"chat.completion.chunk\",\"id\":\"\",\"created\":" + Created + ",\"model\":\"tgi\",\"system_fingerprint\":\"3.0.1-native\"," +
        "\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":" + finish + "}],\"usage\":" + usage + "}";

    /// <summary>Every eventstream message of a stream answer, in order (for translator tests that feed bytes directly).</summary>
    public static IReadOnlyList<byte[]> StreamMessages(SageMakerScript s)
    {
        var bytes = Encoding.UTF8.GetBytes(ContainerSse(s));
        var messages = new List<byte[]>();
        var part = 0;
        for (var i = 0; i < bytes.Length; i += s.PartSize, part++)
        {
            if (s.StreamErrorAfter is { } e && part == e)
            {
                messages.Add(EventStreamEncoder.Encode(
                    [new(":exception-type", "ModelStreamError"), new(":content-type", "application/json"), new(":message-type", "exception")],
                    Encoding.UTF8.GetBytes("{\"Message\":\"the container stopped answering\",\"ErrorCode\":\"ModelError\"}")));
                return messages;
            }
            if (s.TruncateAfter is { } t && part == t) return messages;
            messages.Add(EventStreamEncoder.Encode(
                [new(":event-type", "PayloadPart"), new(":content-type", "application/octet-stream"), new(":message-type", "event")],
                bytes.AsSpan(i, Math.Min(s.PartSize, bytes.Length - i))));
        }
        return messages;
    }
}
