using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// OpenAI's <c>/v1/images/generations</c> byte for byte (also Azure's deployment path and xAI's): dall-e answers
/// <c>{created, data[{url | b64_json, revised_prompt}]}</c>; gpt-image answers b64_json with <c>background</c>,
/// <c>output_format</c>, <c>quality</c>, <c>size</c> and token <c>usage</c>.
/// </summary>
public sealed partial class ImagesEmulator : EmulatorHost
{
    /// <summary>A 1×1 PNG, base64.</summary>
    public const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    public (int Status, string Body)? NextError { get; set; }
    public long InputTextTokens { get; set; } = 20;
    public long InputImageTokens { get; set; }
    public long OutputTokens { get; set; } = 272;

    public string ApiBase => new Uri(Root, "/v1").ToString();

    public static async Task<ImagesEmulator> StartNewAsync()
    {
        var e = new ImagesEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    /// <summary>The files of the last multipart upload: (field name, file name, bytes), in order.</summary>
    public List<(string Name, string FileName, byte[] Bytes)> LastFiles { get; } = [];

    /// <summary>A multipart upload's text fields as a JSON object of strings (the last value of a repeated field), its files into <see cref="LastFiles"/>.</summary>
    private async Task<JsonDocument> FormAsJsonAsync(HttpContext http, RecordedRequest request)
    {
        var boundary = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(http.Request.ContentType).Boundary).Value!;
        var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, new MemoryStream(request.Body));
        var fields = new Dictionary<string, string>();
        LastFiles.Clear();
        while (await reader.ReadNextSectionAsync(http.RequestAborted).ConfigureAwait(false) is { } section)
        {
            var disposition = Microsoft.Net.Http.Headers.ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            using var ms = new MemoryStream();
            await section.Body.CopyToAsync(ms, http.RequestAborted).ConfigureAwait(false);
            var name = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(disposition.Name).Value!;
            if (disposition.FileName.HasValue) LastFiles.Add((name, Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(disposition.FileName).Value!, ms.ToArray()));
            else fields[name] = Encoding.UTF8.GetString(ms.ToArray());
        }
        return JsonDocument.Parse(JsonSerializer.Serialize(fields));
    }

    /// <summary>Stream: after the partial images, hold the stream open until the caller goes away (disconnect tests).</summary>
    public bool HoldStreamAfterPartials { get; set; }

    /// <summary>Stream: after the partial images, send an error event instead of the completed one.</summary>
    public bool StreamErrorAfterPartials { get; set; }

    private static string StringOr(JsonElement root, string name, string fallback) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : fallback;

    /// <summary>
    /// gpt-image's SSE: <c>partial_images</c> (0–3) <c>image_generation.partial_image</c> events (<c>image_edit.*</c> for edits),
    /// then <c>….completed</c> with the token usage, each as <c>event: …</c> / <c>data: …</c>; no <c>[DONE]</c>.
    /// </summary>
    private async Task StreamAsync(HttpContext http, JsonElement root, bool edit)
    {
        var ct = http.RequestAborted;
        var prefix = edit ? "image_edit" : "image_generation";
        var partials = root.TryGetProperty("partial_images", out var p) ? (p.ValueKind == JsonValueKind.String ? int.Parse(p.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : p.GetInt32()) : 0;
        var common = ",\"created_at\":1713833628,\"size\":\"" + StringOr(root, "size", "1024x1024") + "\",\"quality\":\"" + StringOr(root, "quality", "high")
            + "\",\"background\":\"" + StringOr(root, "background", "opaque") + "\",\"output_format\":\"" + StringOr(root, "output_format", "png") + "\"";
        http.Response.ContentType = "text/event-stream";
        for (var i = 0; i < partials; i++)
        {
            await http.Response.WriteAsync("event: " + prefix + ".partial_image\ndata: {\"type\":\"" + prefix + ".partial_image\",\"b64_json\":\"" + Png + "\"" + common + ",\"partial_image_index\":" + i + "}\n\n", ct).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
        if (HoldStreamAfterPartials)
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            return;
        }
        if (StreamErrorAfterPartials)
        {
            await http.Response.WriteAsync("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"image_generation_user_error\",\"code\":\"moderation_blocked\",\"message\":\"Your request was rejected by the safety system.\",\"param\":null}}\n\n", ct).ConfigureAwait(false);
            return;
        }
        var usage = ",\"usage\":{\"total_tokens\":" + (InputTextTokens + InputImageTokens + OutputTokens) + ",\"input_tokens\":" + (InputTextTokens + InputImageTokens) + ",\"output_tokens\":" + OutputTokens
            + ",\"input_tokens_details\":{\"text_tokens\":" + InputTextTokens + ",\"image_tokens\":" + InputImageTokens + "}}";
        await http.Response.WriteAsync("event: " + prefix + ".completed\ndata: {\"type\":\"" + prefix + ".completed\",\"b64_json\":\"" + Png + "\"" + common + usage + "}\n\n", ct).ConfigureAwait(false);
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        http.Response.ContentType = "application/json";
        if (NextError is { } error)
        {
            NextError = null;
            http.Response.StatusCode = error.Status;
            await http.Response.WriteAsync(error.Body, http.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (request.Path.StartsWith("/openai/images/generations:submit", StringComparison.Ordinal) || request.Path.StartsWith("/openai/operations/images/", StringComparison.Ordinal))
        {
            await AzureOperationAsync(http, request).ConfigureAwait(false);
            return;
        }
        var upload = request.Path.EndsWith("/images/edits", StringComparison.Ordinal) || request.Path.EndsWith("/images/variations", StringComparison.Ordinal);
        if (!upload && !request.Path.EndsWith("/images/generations", StringComparison.Ordinal))
        {
            http.Response.StatusCode = 404;
            await http.Response.WriteAsync("{\"error\":{\"message\":\"Invalid URL\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        using var doc = upload ? await FormAsJsonAsync(http, request).ConfigureAwait(false) : JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        // Azure's body has no model: the deployment is in the path.
        var model = root.TryGetProperty("model", out var m) ? m.GetString()! : request.Path.Split('/')[^3];
        var n = root.TryGetProperty("n", out var nv) ? (nv.ValueKind == JsonValueKind.String ? int.Parse(nv.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : nv.GetInt32()) : 1;
        var gptImage = model.Contains("gpt-image", StringComparison.Ordinal);
        var stream = root.TryGetProperty("stream", out var st) && (st.ValueKind == JsonValueKind.True || (st.ValueKind == JsonValueKind.String && st.GetString() == "true"));
        if (stream)
        {
            if (!gptImage)
            {
                http.Response.StatusCode = 400;
                await http.Response.WriteAsync("{\"error\":{\"message\":\"Streaming is only supported for gpt-image models.\",\"type\":\"invalid_request_error\",\"param\":\"stream\",\"code\":null}}", http.RequestAborted).ConfigureAwait(false);
                return;
            }
            await StreamAsync(http, root, upload).ConfigureAwait(false);
            return;
        }
        var b64 = gptImage || (root.TryGetProperty("response_format", out var rf) && rf.GetString() == "b64_json");
        var sb = new StringBuilder("{\"created\":1713833628,");
        if (gptImage)
        {
            sb.Append("\"background\":\"").Append(root.TryGetProperty("background", out var bg) ? bg.GetString() : "opaque").Append("\",");
            sb.Append("\"output_format\":\"").Append(root.TryGetProperty("output_format", out var of) ? of.GetString() : "png").Append("\",");
            sb.Append("\"quality\":\"").Append(root.TryGetProperty("quality", out var q) ? q.GetString() : "medium").Append("\",");
            sb.Append("\"size\":\"").Append(root.TryGetProperty("size", out var s) ? s.GetString() : "1024x1024").Append("\",");
        }
        sb.Append("\"data\":[");
        for (var i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(b64 ? "{\"b64_json\":\"" + Png + "\"" : "{\"url\":\"https://oaidalleapiprodscus.blob.core.windows.net/private/img-" + i + ".png\"");
            if (model.StartsWith("dall-e-3", StringComparison.Ordinal)) sb.Append(",\"revised_prompt\":\"A cat, in watercolour.\"");
            sb.Append('}');
        }
        sb.Append(']');
        if (gptImage)
            sb.Append(",\"usage\":{\"input_tokens\":").Append(InputTextTokens + InputImageTokens).Append(",\"input_tokens_details\":{\"text_tokens\":").Append(InputTextTokens)
              .Append(",\"image_tokens\":").Append(InputImageTokens).Append("},\"output_tokens\":").Append(OutputTokens).Append(",\"total_tokens\":").Append(InputTextTokens + InputImageTokens + OutputTokens).Append('}');
        sb.Append('}');
        await http.Response.WriteAsync(sb.ToString(), http.RequestAborted).ConfigureAwait(false);
    }
}
