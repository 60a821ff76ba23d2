using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;

namespace LLMux.Host.Batches;

/// <summary>
/// A batch run by the provider's own Batch API (OpenAI; Azure OpenAI): the input is rewritten line by line for the
/// deployment (its upstream model in each body), uploaded to the provider's <c>/files</c>, created at its
/// <c>/batches</c>, polled, and its output and error files copied back — the client only ever sees LLMux's ids.
/// The provider runs it at its batch price.
/// </summary>
internal sealed class NativeBatchRunner(HttpClient http, TimeSpan pollInterval, TimeProvider time)
{
    /// <summary>The provider's side of a native batch, saved with the job so that a restart polls the same batch.</summary>
    public sealed record Remote(string DeploymentId, string BatchId, string InputFileId);

    /// <summary>
    /// Whether <paramref name="d"/> runs its batches at the provider: <c>litellm_params.batch_api: native</c> or
    /// <c>gateway</c> decides; without it, Azure OpenAI and OpenAI itself do, while <c>openai/</c> pointed at another
    /// server (vLLM, a proxy: no Batch API there) is run by the gateway.
    /// </summary>
    public static bool Supports(Deployment d)
    {
        if (d.ProviderName is not ("openai" or "azure")) return false;
        switch (d.Setting("batch_api")?.ToLowerInvariant())
        {
            case "gateway": return false;
            case "native": return true;
        }
        return d.ProviderName == "azure" || d.ApiBase is null || (Uri.TryCreate(d.ApiBase, UriKind.Absolute, out var u) && u.Host == "api.openai.com");
    }

    private static Uri Url(Deployment d, string path)
    {
        var root = (d.ApiBase ?? d.Provider.Spec.DefaultApiBase ?? "https://api.openai.com/v1").TrimEnd('/');
        if (d.ProviderName == "azure")
        {
            var version = d.ApiVersion ?? "2024-10-21";
            return new Uri($"{root}/openai{path}{(path.Contains('?') ? '&' : '?')}api-version={Uri.EscapeDataString(version)}");
        }
        return new Uri(root + path);
    }

    private static HttpRequestMessage Request(Deployment d, HttpMethod method, string path)
    {
        var r = new HttpRequestMessage(method, Url(d, path));
        if (d.ApiKey is { } key)
        {
            if (d.ProviderName == "azure") r.Headers.TryAddWithoutValidation("api-key", key.Reveal());
            else r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Reveal());
        }
        return r;
    }

    /// <summary>Uploads the input (each line's <c>body.model</c> set to the deployment's model) and creates the batch.</summary>
    public async Task<Remote> StartAsync(Deployment d, string inputPath, string endpoint, string? metadata, CancellationToken cancellationToken)
    {
        var rewritten = new StringBuilder();
        foreach (var line in File.ReadLines(inputPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            rewritten.Append(WithModel(line, d.UpstreamModel)).Append('\n');
        }
        using var upload = Request(d, HttpMethod.Post, "/files");
        var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(rewritten.ToString()));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "llmux-batch.jsonl");
        upload.Content = form;
        var uploaded = await SendAsync(upload, cancellationToken).ConfigureAwait(false);
        var fileId = uploaded.RootElement.GetProperty("id").GetString()!;

        using var create = Request(d, HttpMethod.Post, "/batches");
        var body = new StringBuilder("{\"input_file_id\":").Append(JsonSerializer.Serialize(fileId, BatchJsonContext.Default.String))
            .Append(",\"endpoint\":").Append(JsonSerializer.Serialize(endpoint, BatchJsonContext.Default.String)).Append(",\"completion_window\":\"24h\"");
        if (metadata is not null) body.Append(",\"metadata\":").Append(metadata);
        create.Content = new StringContent(body.Append('}').ToString(), Encoding.UTF8, "application/json");
        var created = await SendAsync(create, cancellationToken).ConfigureAwait(false);
        return new Remote(d.Id, created.RootElement.GetProperty("id").GetString()!, fileId);
    }

    /// <summary>Polls until the provider's batch ends; reports its counts on the way. Returns its final object.</summary>
    public async Task<JsonDocument> WaitAsync(Deployment d, Remote remote, Action<string, long, long, long> progress, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var poll = Request(d, HttpMethod.Get, "/batches/" + Uri.EscapeDataString(remote.BatchId));
            var batch = await SendAsync(poll, cancellationToken).ConfigureAwait(false);
            var status = batch.RootElement.GetProperty("status").GetString()!;
            var counts = batch.RootElement.TryGetProperty("request_counts", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
            progress(status, Count(counts, "total"), Count(counts, "completed"), Count(counts, "failed"));
            if (status is "completed" or "failed" or "expired" or "cancelled") return batch;
            batch.Dispose();
            await Task.Delay(pollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task CancelAsync(Deployment d, Remote remote, CancellationToken cancellationToken)
    {
        using var cancel = Request(d, HttpMethod.Post, "/batches/" + Uri.EscapeDataString(remote.BatchId) + "/cancel");
        (await SendAsync(cancel, cancellationToken).ConfigureAwait(false)).Dispose();
    }

    /// <summary>Copies a provider file to <paramref name="path"/> (streamed).</summary>
    public async Task DownloadAsync(Deployment d, string fileId, string path, CancellationToken cancellationToken)
    {
        using var get = Request(d, HttpMethod.Get, "/files/" + Uri.EscapeDataString(fileId) + "/content");
        using var response = await http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"the provider answered {(int)response.StatusCode} for its file {fileId}");
        await using var target = File.Create(path);
        await response.Content.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
    }

    private async Task<JsonDocument> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var message = text;
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.TryGetProperty("error", out var e) && e.TryGetProperty("message", out var m)) message = m.GetString() ?? text;
            }
            catch (JsonException)
            {
            }
            throw new InvalidOperationException($"the provider's batch API answered {(int)response.StatusCode} to {request.Method} {request.RequestUri!.AbsolutePath}: {message}");
        }
        return JsonDocument.Parse(text);
    }

    private static long Count(JsonElement counts, string name) =>
        counts.ValueKind == JsonValueKind.Object && counts.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;

    /// <summary>The line with <c>body.model</c> replaced (the client names the model group; the provider needs its model).</summary>
    private static string WithModel(string line, string model)
    {
        using var doc = JsonDocument.Parse(line);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.NameEquals("body") && p.Value.ValueKind == JsonValueKind.Object)
                {
                    w.WriteStartObject("body");
                    w.WriteString("model", model);
                    foreach (var q in p.Value.EnumerateObject())
                        if (!q.NameEquals("model")) q.WriteTo(w);
                    w.WriteEndObject();
                }
                else p.WriteTo(w);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class BatchJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
