using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// Azure OpenAI's dall-e-2 preview (api-version 2023-06-01-preview … 2023-10-01-preview), from Azure's REST reference:
/// <c>POST /openai/images/generations:submit</c> (<c>{prompt, n, size, response_format, user}</c>, no <c>model</c>) answers
/// 202 <c>{id, status: notRunning}</c> with <c>operation-location</c>; <c>GET /openai/operations/images/{id}</c> answers
/// <c>{created, id, status: running}</c> with <c>retry-after</c>, then <c>succeeded</c> with <c>result{created, data[{url}]}</c>
/// (or <c>failed</c> with <c>error{code: contentFilter, message}</c>). Both need the <c>api-key</c> header.
/// </summary>
public sealed partial class ImagesEmulator
{
    /// <summary>Polls answered "running" before the operation ends.</summary>
    public int OperationPollsBeforeDone { get; set; } = 1;
    /// <summary>The <c>retry-after</c> (seconds) on a running operation.</summary>
    public int OperationRetryAfter { get; set; } = 7;
    /// <summary>End the operation as failed (content filter) instead of succeeded.</summary>
    public bool OperationFails { get; set; }
    /// <summary>Polls received so far.</summary>
    public int OperationPolls => Volatile.Read(ref _polls);

    private int _polls;
    private int _submittedImages = 1;

    private static readonly string[] PreviewFields = ["prompt", "n", "size", "response_format", "user"];

    private async Task AzureOperationAsync(HttpContext http, RecordedRequest request)
    {
        http.Response.ContentType = "application/json";
        if (request.Headers.GetValueOrDefault("api-key") is null)
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsync("{\"error\":{\"code\":\"401\",\"message\":\"Access denied due to invalid subscription key or wrong API endpoint.\"}}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (request.Method == "POST")
        {
            using var doc = JsonDocument.Parse(request.Body);
            foreach (var p in doc.RootElement.EnumerateObject())
                if (Array.IndexOf(PreviewFields, p.Name) < 0)
                {
                    http.Response.StatusCode = 400;
                    await http.Response.WriteAsync("{\"error\":{\"code\":\"invalidPayload\",\"message\":\"The request is invalid: unknown field '" + p.Name + "'.\"}}", http.RequestAborted).ConfigureAwait(false);
                    return;
                }
            _submittedImages = doc.RootElement.TryGetProperty("n", out var n) ? n.GetInt32() : 1;
            http.Response.StatusCode = 202;
            http.Response.Headers["operation-location"] = new Uri(Root, "/openai/operations/images/op-1" + request.Query).ToString();
            await http.Response.WriteAsync("{\"id\":\"op-1\",\"status\":\"notRunning\"}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var polls = Interlocked.Increment(ref _polls);
        if (polls <= OperationPollsBeforeDone)
        {
            http.Response.Headers["retry-after"] = OperationRetryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await http.Response.WriteAsync("{\"created\":1713833628,\"id\":\"op-1\",\"status\":\"running\"}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (OperationFails)
        {
            await http.Response.WriteAsync("{\"created\":1713833628,\"id\":\"op-1\",\"status\":\"failed\",\"error\":{\"code\":\"contentFilter\",\"message\":\"Your task failed as a result of our safety system.\"}}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var data = string.Join(",", Enumerable.Range(0, _submittedImages).Select(static i => "{\"url\":\"https://dalleprodsec.blob.core.windows.net/private/images/op-1/generated_" + i + ".png\"}"));
        await http.Response.WriteAsync("{\"created\":1713833628,\"expires\":1713920028,\"id\":\"op-1\",\"result\":{\"created\":1713833628,\"data\":[" + data + "]},\"status\":\"succeeded\"}", http.RequestAborted).ConfigureAwait(false);
    }
}
