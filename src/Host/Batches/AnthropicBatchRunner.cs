using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LLMux.Host.Batch;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Stages;

namespace LLMux.Host.Batches;

/// <summary>
/// A chat batch run by Anthropic's Message Batches API (<c>/v1/messages/batches</c>). Each line is translated by the
/// Anthropic provider itself — the same validation, parameter check and Messages body as an interactive call — and
/// sent as <c>{custom_id, params}</c>; the batch is polled; its results (JSONL) are translated back by the provider's
/// own response and error translation into OpenAI batch output lines. Lines that cannot be translated never reach
/// Anthropic: they go to the error file, as on the gateway's runner.
/// </summary>
internal sealed partial class AnthropicBatchRunner(HttpClient http, TimeSpan pollInterval, TimeProvider time, GatewaySettings settings)
{
    /// <summary>Anthropic's limit for one batch creation request.</summary>
    public const long MaxRequestBytes = 256L * 1024 * 1024;

    private static readonly ValidateStage Validate = new();
    private static readonly TransformStage Transform = new();
    private readonly CapabilityCheckStage _check = new(settings);

    /// <summary>The provider's batch as a poll saw it.</summary>
    public sealed record Poll(string ProcessingStatus, long Processing, long Succeeded, long Errored, long Canceled, long Expired, string? ResultsUrl, bool CancelInitiated)
    {
        public long Total => Processing + Succeeded + Errored + Canceled + Expired;
    }

    /// <summary>Anthropic's deployments run their batches there unless <c>litellm_params.batch_api: gateway</c>.</summary>
    public static bool Supports(Deployment d) =>
        d.ProviderName == "anthropic" && !string.Equals(d.Setting("batch_api"), "gateway", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex CustomIdPattern();

    /// <summary>
    /// The custom_id sent for each line: the client's when Anthropic accepts it (1–64 of <c>[a-zA-Z0-9_-]</c>), else
    /// <c>llmux-line-{n}</c>. Deterministic, so that results can be matched to lines after a restart.
    /// </summary>
    private static Dictionary<string, (long Number, long Offset, int Length)> SentIds(string inputPath)
    {
        var map = new Dictionary<string, (long, long, int)>(StringComparer.Ordinal);
        using var handle = File.OpenHandle(inputPath);
        foreach (var (number, offset, length) in ScanLines(inputPath))
        {
            var line = ReadLine(handle, offset, length);
            if (line.Length == 0) continue;
            var parsed = BatchRequestLine.Parse(number, line);
            if (parsed.Problem is not null || parsed.CustomId is not { } id) continue;
            var sent = CustomIdPattern().IsMatch(id) && !map.ContainsKey(id) ? id : "llmux-line-" + number;
            while (map.ContainsKey(sent)) sent += "_";
            map[sent] = (number, offset, length);
        }
        return map;
    }

    /// <summary>Line numbers (1-based), offsets and lengths of the file's lines, without holding the file in memory.</summary>
    private static IEnumerable<(long Number, long Offset, int Length)> ScanLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var buffer = new byte[64 * 1024];
        long position = 0, start = 0, number = 0;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                yield return (++number, start, (int)(position + i - start));
                start = position + i + 1;
            }
            position += read;
        }
        if (start < position) yield return (++number, start, (int)(position - start));
    }

    private static ReadOnlyMemory<byte> ReadLine(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, int length)
    {
        var bytes = new byte[length];
        var done = 0;
        while (done < length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(done), offset + done);
            if (n == 0) break;
            done += n;
        }
        var span = bytes.AsSpan(0, done);
        var start = 0;
        var end = span.Length;
        while (start < end && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r') start++;
        while (end > start && span[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r') end--;
        return bytes.AsMemory(start, end - start);
    }

    /// <summary>The context of one line after validation and the parameter check, on <paramref name="d"/>.</summary>
    private async Task<LlmContext> ContextAsync(Deployment d, ReadOnlyMemory<byte> body, Caller? caller, bool transform)
    {
        var context = new LlmContext { Mode = LlmMode.Chat, Body = body, Caller = caller, TimeProvider = time };
        await Validate.InvokeAsync(context, c =>
        {
            c.Deployment = d;
            c.ModelGroup = c.RequestedModel;
            c.Candidates = [d];
            return _check.InvokeAsync(c, transform ? static c2 => Transform.InvokeAsync(c2, static _ => ValueTask.CompletedTask) : static _ => ValueTask.CompletedTask);
        }).ConfigureAwait(false);
        return context;
    }

    /// <summary>Where the deployment's batches are and how to authenticate there, as the provider writes its Messages request.</summary>
    private async Task<(Uri Batches, List<KeyValuePair<string, string>> Headers)> ConnectionAsync(Deployment d)
    {
        var probe = Encoding.UTF8.GetBytes("{\"model\":" + JsonSerializer.Serialize(d.ModelName, BatchJsonContext.Default.String) + ",\"messages\":[{\"role\":\"user\",\"content\":\".\"}]}");
        var context = await ContextAsync(d, probe, null, transform: true).ConfigureAwait(false);
        using var request = context.UpstreamRequest!;
        context.UpstreamRequest = null;
        return (new Uri(request.RequestUri!.ToString().TrimEnd('/') + "/batches"), Headers(request, null));
    }

    private static List<KeyValuePair<string, string>> Headers(HttpRequestMessage request, HashSet<string>? betas)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
        {
            var value = string.Join(',', values);
            if (name.Equals("anthropic-beta", StringComparison.OrdinalIgnoreCase))
            {
                if (betas is not null) foreach (var b in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) betas.Add(b);
                else headers.Add(new(name, value));
            }
            else if (name.Equals("x-api-key", StringComparison.OrdinalIgnoreCase) || name.Equals("authorization", StringComparison.OrdinalIgnoreCase)
                     || name.Equals("anthropic-version", StringComparison.OrdinalIgnoreCase))
                headers.Add(new(name, value));
        }
        return headers;
    }

    private static HttpRequestMessage Request(HttpMethod method, Uri uri, List<KeyValuePair<string, string>> headers)
    {
        var r = new HttpRequestMessage(method, uri);
        foreach (var (name, value) in headers) r.Headers.TryAddWithoutValidation(name, value);
        return r;
    }

    /// <summary>
    /// Translates every line and creates the batch. Lines that cannot be sent are written to <paramref name="localErrorsPath"/>
    /// (rewritten on each attempt, so a restart before creation does not repeat them). Null when no line could be sent.
    /// </summary>
    public async Task<NativeBatchRunner.Remote?> StartAsync(Deployment d, string inputPath, string folder, string localErrorsPath, Caller caller, CancellationToken cancellationToken)
    {
        var bodyPath = Path.Combine(folder, "anthropic-create.json");
        File.Delete(localErrorsPath);
        var betas = new HashSet<string>(StringComparer.Ordinal);
        List<KeyValuePair<string, string>>? headers = null;
        Uri? messages = null;
        var sent = 0;
        var ids = SentIds(inputPath).ToDictionary(static p => p.Value.Number, static p => p.Key);
        await using (var errors = new BatchFileWriter(Path.Combine(folder, "anthropic-unused.jsonl"), localErrorsPath))
        {
            await using (var body = File.Create(bodyPath))
            await using (var w = new Utf8JsonWriter(body))
            {
                w.WriteStartObject();
                w.WriteStartArray("requests"u8);
                using var handle = File.OpenHandle(inputPath);
                foreach (var (number, offset, length) in ScanLines(inputPath))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var bytes = ReadLine(handle, offset, length);
                    if (bytes.Length == 0) continue;
                    var line = BatchRequestLine.Parse(number, bytes);
                    if (line.Problem is not null) { errors.Write(new BatchResult(line, null, null, 0, null)); continue; }
                    if (line.Mode != LlmMode.Chat)
                    {
                        errors.Write(new BatchResult(line, null, LlmError.Invalid($"line {number}: its url names another endpoint than the batch's (/v1/chat/completions); a batch runs one endpoint", "url"), 0, null));
                        continue;
                    }
                    HttpRequestMessage? request = null;
                    try
                    {
                        var context = await ContextAsync(d, line.Body, caller, transform: true).ConfigureAwait(false);
                        request = context.UpstreamRequest!;
                        context.UpstreamRequest = null;
                        if (context.IsStream)
                        {
                            errors.Write(new BatchResult(line, null, LlmError.Invalid("`stream: true` is not supported in a batch; remove it", "stream"), 0, null));
                            continue;
                        }
                        var hs = Headers(request, betas);
                        headers ??= hs;
                        messages ??= request.RequestUri;
                        w.WriteStartObject();
                        w.WriteString("custom_id"u8, ids[number]);
                        w.WritePropertyName("params"u8);
                        w.WriteRawValue(await request.Content!.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), skipInputValidation: true);
                        w.WriteEndObject();
                        sent++;
                    }
                    catch (LlmException ex)
                    {
                        errors.Write(new BatchResult(line, null, ex.Error, 0, null));
                    }
                    finally
                    {
                        request?.Dispose();
                    }
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
        }
        File.Delete(Path.Combine(folder, "anthropic-unused.jsonl"));
        if (sent == 0) { File.Delete(bodyPath); return null; }
        var size = new FileInfo(bodyPath).Length;
        if (size > MaxRequestBytes)
        {
            File.Delete(bodyPath);
            throw new InvalidOperationException($"the batch is {size / (1024 * 1024)} MiB once translated; Anthropic accepts at most 256 MiB per batch: split the input file");
        }
        if (betas.Count > 0) headers!.Add(new("anthropic-beta", string.Join(',', betas)));
        using var create = Request(HttpMethod.Post, new Uri(messages!.ToString().TrimEnd('/') + "/batches"), headers!);
        await using (var content = File.OpenRead(bodyPath))
        {
            create.Content = new StreamContent(content);
            create.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var created = await SendAsync(create, cancellationToken).ConfigureAwait(false);
            File.Delete(bodyPath);
            return new NativeBatchRunner.Remote(d.Id, created.RootElement.GetProperty("id").GetString()!, "");
        }
    }

    /// <summary>Polls until the batch has ended; reports each poll. Returns the last poll.</summary>
    public async Task<Poll> WaitAsync(Deployment d, NativeBatchRunner.Remote remote, Action<Poll> progress, CancellationToken cancellationToken)
    {
        var (batches, headers) = await ConnectionAsync(d).ConfigureAwait(false);
        while (true)
        {
            using var get = Request(HttpMethod.Get, new Uri(batches + "/" + Uri.EscapeDataString(remote.BatchId)), headers);
            using var doc = await SendAsync(get, cancellationToken).ConfigureAwait(false);
            var poll = Read(doc.RootElement);
            progress(poll);
            if (poll.ProcessingStatus == "ended") return poll;
            await Task.Delay(pollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Poll Read(JsonElement b)
    {
        var c = b.GetProperty("request_counts");
        return new Poll(
            b.GetProperty("processing_status").GetString()!,
            Count(c, "processing"), Count(c, "succeeded"), Count(c, "errored"), Count(c, "canceled"), Count(c, "expired"),
            b.TryGetProperty("results_url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null,
            b.TryGetProperty("cancel_initiated_at", out var ci) && ci.ValueKind == JsonValueKind.String);
    }

    private static long Count(JsonElement counts, string name) => counts.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;

    public async Task CancelAsync(Deployment d, NativeBatchRunner.Remote remote, CancellationToken cancellationToken)
    {
        var (batches, headers) = await ConnectionAsync(d).ConfigureAwait(false);
        using var cancel = Request(HttpMethod.Post, new Uri(batches + "/" + Uri.EscapeDataString(remote.BatchId) + "/cancel"), headers);
        (await SendAsync(cancel, cancellationToken).ConfigureAwait(false)).Dispose();
    }

    /// <summary>
    /// Reads the results (JSONL, streamed) and writes OpenAI batch output lines: succeeded → the provider's chat
    /// completion; errored → the provider's error with the status of its type; canceled / expired → OpenAI's
    /// <c>batch_cancelled</c> / <c>batch_expired</c> lines. The files are rewritten whole, so a restart may read the results again.
    /// </summary>
    public async Task CollectAsync(Deployment d, NativeBatchRunner.Remote remote, string inputPath, string outputPath, string errorsPath, string localErrorsPath, CancellationToken cancellationToken)
    {
        var (batches, headers) = await ConnectionAsync(d).ConfigureAwait(false);
        // The results are read from the deployment's own api_base, never from a results_url on another host (the key goes with the request).
        var results = new Uri(batches + "/" + Uri.EscapeDataString(remote.BatchId) + "/results");
        var ids = SentIds(inputPath);
        File.Delete(outputPath);
        if (File.Exists(localErrorsPath)) File.Copy(localErrorsPath, errorsPath, overwrite: true); else File.Delete(errorsPath);
        using var get = Request(HttpMethod.Get, results, headers);
        using var response = await http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Anthropic answered {(int)response.StatusCode} for the results of batch {remote.BatchId}");
        using var handle = File.OpenHandle(inputPath);
        await using var files = new BatchFileWriter(outputPath, errorsPath);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
        using var noHeaders = new HttpResponseMessage();
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            if (string.IsNullOrWhiteSpace(text)) continue;
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var sentId = root.GetProperty("custom_id").GetString()!;
            if (!ids.TryGetValue(sentId, out var at)) continue;
            var line = BatchRequestLine.Parse(at.Number, ReadLine(handle, at.Offset, at.Length));
            var result = root.GetProperty("result");
            switch (result.GetProperty("type").GetString())
            {
                case "succeeded":
                {
                    var context = await ContextOrEmptyAsync(d, line).ConfigureAwait(false);
                    using var message = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(result.GetProperty("message").GetRawText())) };
                    try
                    {
                        await d.Provider.ReadResponseAsync(context, message, cancellationToken).ConfigureAwait(false);
                        files.Write(new BatchResult(line, context.ResponseBody!.Memory.ToArray(), null, context.Usage?.TotalTokens ?? 0, null));
                    }
                    catch (LlmException ex)
                    {
                        files.Write(new BatchResult(line, null, ex.Error, 0, null));
                    }
                    finally
                    {
                        context.ResponseBody?.Dispose();
                    }
                    break;
                }
                case "errored":
                {
                    var error = result.GetProperty("error");
                    // Anthropic's ErrorResponse {"type":"error","error":{type,message}}; a bare {type,message} is read too.
                    var body = error.TryGetProperty("error", out var inner) && inner.ValueKind == JsonValueKind.Object
                        ? error.GetRawText()
                        : "{\"type\":\"error\",\"error\":" + error.GetRawText() + "}";
                    var type = error.TryGetProperty("error", out var e2) && e2.ValueKind == JsonValueKind.Object && e2.TryGetProperty("type", out var t2) ? t2.GetString()
                        : error.TryGetProperty("type", out var t) ? t.GetString() : null;
                    var context = await ContextOrEmptyAsync(d, line).ConfigureAwait(false);
                    files.Write(new BatchResult(line, null, d.Provider.MapError(context, StatusFor(type), Encoding.UTF8.GetBytes(body), noHeaders.Headers), 0, null));
                    break;
                }
                case "canceled":
                    files.Write(new BatchResult(line with { Problem = "cancelled" }, null,
                        new LlmError { Kind = ErrorKind.InvalidRequest, Code = "batch_cancelled", Message = "This request was not executed because the batch was cancelled." }, 0, null));
                    break;
                default:
                    files.Write(new BatchResult(line with { Problem = "expired" }, null,
                        new LlmError { Kind = ErrorKind.InvalidRequest, Code = "batch_expired", Message = "This request could not be executed before the completion window expired." }, 0, null));
                    break;
            }
        }
        files.Flush();
    }

    /// <summary>The line's context for reading its result; a bare one when the line no longer passes the check (the config changed since it was sent).</summary>
    private async Task<LlmContext> ContextOrEmptyAsync(Deployment d, BatchRequestLine line)
    {
        try
        {
            return await ContextAsync(d, line.Body, null, transform: false).ConfigureAwait(false);
        }
        catch (LlmException)
        {
            return new LlmContext { Mode = LlmMode.Chat, Body = line.Body, Deployment = d, TimeProvider = time };
        }
    }

    /// <summary>The HTTP status of an errored result, by Anthropic's error type.</summary>
    internal static int StatusFor(string? type) => type switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "overloaded_error" => 503,
        "timeout_error" => 504,
        _ => 500,
    };

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
            throw new InvalidOperationException($"Anthropic's Message Batches API answered {(int)response.StatusCode} to {request.Method} {request.RequestUri!.AbsolutePath}: {message}");
        }
        return JsonDocument.Parse(text);
    }
}
