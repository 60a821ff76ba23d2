using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace LLMux.Emulators;

/// <summary>
/// OpenAI's Files and Batches endpoints as the OpenAI emulator serves them: <c>POST /v1/files</c> (multipart),
/// <c>GET /v1/files/{id}/content</c>, <c>POST /v1/batches</c>, <c>GET /v1/batches/{id}</c>,
/// <c>POST /v1/batches/{id}/cancel</c>. A batch advances one status per poll (validating → in_progress →
/// completed after <see cref="PollsToComplete"/> polls); its output answers each line with the emulator's chat
/// completion for the line's model, in OpenAI's output-line shape.
/// </summary>
public sealed class OpenAIBatchesEmulator
{
    public sealed record UploadedFile(string Id, string Filename, string Purpose, byte[] Content);

    public sealed class EmulatedBatch
    {
        public required string Id { get; init; }
        public required string InputFileId { get; init; }
        public required string Endpoint { get; init; }
        public string Status { get; set; } = "validating";
        public int Polls { get; set; }
        public string? OutputFileId { get; set; }
        public int Total { get; set; }
        public int Completed { get; set; }
    }

    public ConcurrentDictionary<string, UploadedFile> Files { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, EmulatedBatch> Batches { get; } = new(StringComparer.Ordinal);
    /// <summary>Polls of <c>GET /v1/batches/{id}</c> an in-progress batch needs before it completes.</summary>
    public int PollsToComplete { get; set; } = 2;
    private int _next;

    public static bool Handles(string path) => path.StartsWith("/v1/files", StringComparison.Ordinal) || path.StartsWith("/v1/batches", StringComparison.Ordinal);

    internal async Task AnswerAsync(HttpContext http, RecordedRequest request, Func<string, string> completionFor)
    {
        var path = request.Path;
        http.Response.ContentType = "application/json";
        if (path == "/v1/files" && request.Method == "POST") { await UploadAsync(http, request); return; }
        if (path.StartsWith("/v1/files/", StringComparison.Ordinal) && path.EndsWith("/content", StringComparison.Ordinal))
        {
            var id = path["/v1/files/".Length..^"/content".Length];
            if (!Files.TryGetValue(id, out var f)) { await NotFound(http, "File", id); return; }
            http.Response.ContentType = "application/octet-stream";
            await http.Response.Body.WriteAsync(f.Content);
            return;
        }
        if (path == "/v1/batches" && request.Method == "POST")
        {
            using var doc = request.Json();
            var input = doc.RootElement.GetProperty("input_file_id").GetString()!;
            if (!Files.TryGetValue(input, out var file)) { await NotFound(http, "File", input); return; }
            var batch = new EmulatedBatch { Id = "batch_emu" + Interlocked.Increment(ref _next), InputFileId = input, Endpoint = doc.RootElement.GetProperty("endpoint").GetString()! };
            batch.Total = Encoding.UTF8.GetString(file.Content).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            Batches[batch.Id] = batch;
            await http.Response.WriteAsync(Json(batch));
            return;
        }
        if (path.StartsWith("/v1/batches/", StringComparison.Ordinal))
        {
            var rest = path["/v1/batches/".Length..];
            var cancel = rest.EndsWith("/cancel", StringComparison.Ordinal);
            var id = cancel ? rest[..^"/cancel".Length] : rest;
            if (!Batches.TryGetValue(id, out var batch)) { await NotFound(http, "Batch", id); return; }
            lock (batch)
            {
                if (cancel) batch.Status = batch.Status is "completed" ? batch.Status : "cancelled";
                else Advance(batch, completionFor);
            }
            await http.Response.WriteAsync(Json(batch));
            return;
        }
        http.Response.StatusCode = 404;
        await http.Response.WriteAsync("{\"error\":{\"message\":\"Invalid URL (" + request.Method + " " + path + ")\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
    }

    private void Advance(EmulatedBatch batch, Func<string, string> completionFor)
    {
        batch.Polls++;
        if (batch.Status == "validating") { batch.Status = "in_progress"; return; }
        if (batch.Status != "in_progress" || batch.Polls <= PollsToComplete) return;
        var output = new StringBuilder();
        var n = 0;
        foreach (var line in Encoding.UTF8.GetString(Files[batch.InputFileId].Content).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var customId = doc.RootElement.GetProperty("custom_id").GetString();
            var model = doc.RootElement.GetProperty("body").GetProperty("model").GetString()!;
            output.Append("{\"id\": \"batch_req_emu").Append(++n).Append("\", \"custom_id\": ").Append(JsonSerializer.Serialize(customId))
                  .Append(", \"response\": {\"status_code\": 200, \"request_id\": \"req_emu").Append(n).Append("\", \"body\": ")
                  .Append(completionFor(model).Replace("\n", "", StringComparison.Ordinal)).Append("}, \"error\": null}\n");
        }
        var outId = "file-emuout" + Interlocked.Increment(ref _next);
        Files[outId] = new UploadedFile(outId, "batch_output.jsonl", "batch_output", Encoding.UTF8.GetBytes(output.ToString()));
        batch.OutputFileId = outId;
        batch.Completed = n;
        batch.Status = "completed";
    }

    private async Task UploadAsync(HttpContext http, RecordedRequest request)
    {
        var type = MediaTypeHeaderValue.Parse(http.Request.ContentType);
        var reader = new MultipartReader(HeaderUtilities.RemoveQuotes(type.Boundary).Value!, new MemoryStream(request.Body));
        string? purpose = null, filename = null;
        byte[]? content = null;
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            using var ms = new MemoryStream();
            await section.Body.CopyToAsync(ms);
            if (disposition.Name.Value == "purpose") purpose = Encoding.UTF8.GetString(ms.ToArray());
            else if (disposition.Name.Value == "file") { filename = HeaderUtilities.RemoveQuotes(disposition.FileName).Value; content = ms.ToArray(); }
        }
        if (purpose is null || content is null)
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsync("{\"error\":{\"message\":\"Missing purpose or file\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
            return;
        }
        var id = "file-emu" + Interlocked.Increment(ref _next);
        Files[id] = new UploadedFile(id, filename ?? "file", purpose, content);
        await http.Response.WriteAsync($$"""
            {
              "object": "file",
              "id": "{{id}}",
              "purpose": "{{purpose}}",
              "filename": "{{filename}}",
              "bytes": {{content.Length}},
              "created_at": 1700000000,
              "expires_at": null,
              "status": "processed",
              "status_details": null
            }
            """);
    }

    private static string Json(EmulatedBatch b) => $$"""
        {
          "id": "{{b.Id}}",
          "object": "batch",
          "endpoint": "{{b.Endpoint}}",
          "errors": null,
          "input_file_id": "{{b.InputFileId}}",
          "completion_window": "24h",
          "status": "{{b.Status}}",
          "output_file_id": {{(b.OutputFileId is null ? "null" : "\"" + b.OutputFileId + "\"")}},
          "error_file_id": null,
          "created_at": 1700000000,
          "in_progress_at": null,
          "expires_at": 1700086400,
          "completed_at": null,
          "request_counts": {"total": {{b.Total}}, "completed": {{b.Completed}}, "failed": 0},
          "metadata": null
        }
        """;

    private static Task NotFound(HttpContext http, string what, string id)
    {
        http.Response.StatusCode = 404;
        return http.Response.WriteAsync("{\"error\":{\"message\":\"No such " + what + " object: " + id + "\",\"type\":\"invalid_request_error\",\"param\":\"id\",\"code\":null}}");
    }
}
