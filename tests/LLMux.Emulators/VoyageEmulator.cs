using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Voyage emulator does with the next request.</summary>
public sealed record VoyageScript
{
    public int Dimensions { get; init; } = 4;
    public long TotalTokens { get; init; } = 6;
    public int? ErrorStatus { get; init; }
    public string? ErrorDetail { get; init; }
}

/// <summary>
/// Voyage AI's <c>POST /v1/embeddings</c>: <c>{"object":"list","data":[{"object":"embedding","embedding":[...],"index":i}],
/// "model","usage":{"total_tokens"}}</c>, the vectors as base64 of little-endian float32 when <c>encoding_format</c> is
/// <c>base64</c>, <c>output_dimension</c> honoured; errors are <c>{"detail": "..."}</c>. A missing Bearer key is a 401.
/// </summary>
public sealed class VoyageEmulator : EmulatorHost
{
    public ConcurrentQueue<VoyageScript> Scripts { get; } = new();

    public static async Task<VoyageEmulator> StartNewAsync()
    {
        var e = new VoyageEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    public string ApiBase => new Uri(Root, "/v1").ToString();

    public void Enqueue(VoyageScript script) => Scripts.Enqueue(script);

    /// <summary>The vector the emulator answers for input <paramref name="i"/>: (i + 1) / 10, (i + 1) / 100, ...</summary>
    public static float[] Vector(int i, int dimensions)
    {
        var v = new float[dimensions];
        for (var d = 0; d < dimensions; d++) v[d] = (i + 1) / MathF.Pow(10, d + 1);
        return v;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var script = Scripts.TryDequeue(out var s) ? s : new VoyageScript();
        var ct = http.RequestAborted;
        http.Response.ContentType = "application/json";
        if (!(request.Headers.GetValueOrDefault("authorization") ?? "").StartsWith("Bearer ", StringComparison.Ordinal))
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsync("{\"detail\":\"Provided API key is invalid.\"}", ct).ConfigureAwait(false);
            return;
        }
        if (script.ErrorStatus is { } status)
        {
            http.Response.StatusCode = status;
            await http.Response.WriteAsync("{\"detail\":" + JsonSerializer.Serialize(script.ErrorDetail ?? "emulated error") + "}", ct).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        var inputs = root.GetProperty("input").ValueKind == JsonValueKind.Array ? root.GetProperty("input").GetArrayLength() : 1;
        var dims = root.TryGetProperty("output_dimension", out var od) && od.ValueKind == JsonValueKind.Number ? od.GetInt32() : script.Dimensions;
        var base64 = root.TryGetProperty("encoding_format", out var ef) && ef.ValueKind == JsonValueKind.String && ef.GetString() == "base64";
        var sb = new StringBuilder("{\"object\":\"list\",\"data\":[");
        for (var i = 0; i < inputs; i++)
        {
            if (i > 0) sb.Append(',');
            var vector = Vector(i, dims);
            sb.Append("{\"object\":\"embedding\",\"embedding\":");
            if (base64)
            {
                var bytes = new byte[vector.Length * 4];
                Buffer.BlockCopy(vector, 0, bytes, 0, bytes.Length);
                sb.Append('"').Append(Convert.ToBase64String(bytes)).Append('"');
            }
            else sb.Append('[').Append(string.Join(",", vector.Select(static f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))).Append(']');
            sb.Append(",\"index\":").Append(i).Append('}');
        }
        sb.Append("],\"model\":").Append(JsonSerializer.Serialize(root.GetProperty("model").GetString())).Append(",\"usage\":{\"total_tokens\":").Append(script.TotalTokens).Append("}}");
        await http.Response.WriteAsync(sb.ToString(), ct).ConfigureAwait(false);
    }
}
