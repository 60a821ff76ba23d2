using System.Text.Json;
using LLMux.Host.Endpoints;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace LLMux.Host.Files;

/// <summary>
/// OpenAI's Files API served by the gateway (<c>/v1/files</c>): uploads streamed to disk under a size bound, never
/// held in memory; list, retrieve, content and delete, each limited to the caller's own files (and its team's).
/// </summary>
internal sealed class FilesEndpoints(FileStore store, Admin.RequestAuthenticator auth, long maxFileBytes)
{
    /// <summary>OpenAI's purposes.</summary>
    private static readonly HashSet<string> Purposes = new(StringComparer.Ordinal) { "assistants", "batch", "fine-tune", "vision", "user_data", "evals" };

    public void Map(WebApplication app)
    {
        foreach (var prefix in new[] { "/v1", "", "/openai/v1" })
        {
            app.Map(prefix + "/files", http => RunAsync(http, HttpMethods.IsPost(http.Request.Method) ? UploadAsync : HttpMethods.IsGet(http.Request.Method) ? ListAsync : null, "GET, POST"));
            app.Map(prefix + "/files/{id}", http => RunAsync(http, HttpMethods.IsGet(http.Request.Method) ? RetrieveAsync : HttpMethods.IsDelete(http.Request.Method) ? DeleteAsync : null, "GET, DELETE"));
            app.Map(prefix + "/files/{id}/content", http => RunAsync(http, HttpMethods.IsGet(http.Request.Method) ? ContentAsync : null, "GET"));
        }
    }

    private async Task RunAsync(HttpContext http, Func<HttpContext, Caller?, Task>? handler, string allowed)
    {
        if (handler is null)
        {
            await ResponseWriter.WriteMethodNotAllowedAsync(http, allowed);
            return;
        }
        if (!auth.Authorize(http.Request)) { await ResponseWriter.WriteErrorAsync(http, null, Admin.RequestAuthenticator.FailureOf(http)); return; }
        try
        {
            await handler(http, Admin.RequestAuthenticator.CallerOf(http));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
    }

    private async Task UploadAsync(HttpContext http, Caller? caller)
    {
        var request = http.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary)
        {
            await Invalid(http, "upload a file as multipart/form-data with the fields `file` and `purpose`", null);
            return;
        }
        if (request.ContentLength is { } declared && declared > maxFileBytes + 64 * 1024) { await TooLarge(http); return; }

        var id = FileStore.NewId();
        var upload = store.UploadPath(id);
        string? purpose = null, filename = null, anchor = null, seconds = null;
        long bytes = -1;
        try
        {
            var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024 };
            while (await reader.ReadNextSectionAsync(http.RequestAborted) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "file")
                {
                    filename = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value is { Length: > 0 } n ? Path.GetFileName(n) : "file";
                    bytes = await CopyBoundedAsync(section.Body, upload, http.RequestAborted);
                    if (bytes < 0) { await TooLarge(http); return; }
                }
                else if (name is "purpose" or "expires_after[anchor]" or "expires_after[seconds]")
                {
                    using var text = new StreamReader(section.Body);
                    var value = (await text.ReadToEndAsync(http.RequestAborted)).Trim();
                    if (value.Length > 256) { await Invalid(http, $"`{name}` is too long", name); return; }
                    if (name == "purpose") purpose = value; else if (name == "expires_after[anchor]") anchor = value; else seconds = value;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or BadHttpRequestException)
        {
            await Invalid(http, "the multipart body could not be read: " + ex.Message, null);
            return;
        }
        finally
        {
            if (purpose is null || bytes < 0) TryDelete(upload);
        }

        if (bytes < 0) { await Invalid(http, "the `file` field is missing", "file"); return; }
        if (purpose is null) { TryDelete(upload); await Invalid(http, "the `purpose` field is missing: one of assistants, batch, fine-tune, vision, user_data, evals", "purpose"); return; }
        if (!Purposes.Contains(purpose)) { TryDelete(upload); await Invalid(http, $"`purpose` `{purpose}` is not one of assistants, batch, fine-tune, vision, user_data, evals", "purpose"); return; }
        if (bytes == 0) { TryDelete(upload); await Invalid(http, "the file is empty", "file"); return; }
        long? expires = null;
        if (anchor is not null || seconds is not null)
        {
            if (anchor != "created_at" || !long.TryParse(seconds, out var s) || s < 3600 || s > 2_592_000)
            {
                TryDelete(upload);
                await Invalid(http, "`expires_after` needs anchor `created_at` and seconds between 3600 (1 hour) and 2592000 (30 days)", "expires_after");
                return;
            }
            expires = store.Now + s;
        }
        var file = store.Add(new StoredFile
        {
            Id = id, Filename = filename!, Purpose = purpose, Bytes = bytes, CreatedAt = store.Now, ExpiresAt = expires,
            Owner = caller?.OwnerScope ?? "anonymous", TeamId = caller?.TeamId,
        }, moveFrom: upload);
        await JsonAsync(http, file.Write);
    }

    /// <summary>Copies at most <see cref="maxFileBytes"/>; -1 (and nothing kept) when the file is larger.</summary>
    private async Task<long> CopyBoundedAsync(Stream source, string path, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        long total = 0;
        try
        {
            await using var target = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > maxFileBytes) return -1;
                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            return total;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task ListAsync(HttpContext http, Caller? caller)
    {
        var q = http.Request.Query;
        var purpose = q["purpose"].ToString() is { Length: > 0 } p ? p : null;
        var limit = 10_000;
        if (q["limit"].ToString() is { Length: > 0 } l && (!int.TryParse(l, out limit) || limit < 1 || limit > 10_000)) { await Invalid(http, "`limit` must be an integer from 1 to 10000", "limit"); return; }
        var order = q["order"].ToString() is { Length: > 0 } o ? o : "desc";
        if (order is not ("asc" or "desc")) { await Invalid(http, "`order` must be asc or desc", "order"); return; }
        var files = store.List(caller, purpose);
        if (order == "asc") files = files.Reverse().ToList();
        if (q["after"].ToString() is { Length: > 0 } after)
        {
            var at = files.ToList().FindIndex(f => f.Id == after);
            files = at < 0 ? [] : files.Skip(at + 1).ToList();
        }
        var page = files.Take(limit).ToList();
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteString("object"u8, "list"u8);
            w.WriteStartArray("data"u8);
            foreach (var f in page) f.Write(w);
            w.WriteEndArray();
            if (page.Count > 0) { w.WriteString("first_id"u8, page[0].Id); w.WriteString("last_id"u8, page[^1].Id); }
            else { w.WriteNull("first_id"u8); w.WriteNull("last_id"u8); }
            w.WriteBoolean("has_more"u8, files.Count > page.Count);
            w.WriteEndObject();
        });
    }

    private async Task RetrieveAsync(HttpContext http, Caller? caller)
    {
        if (await FindOr404Async(http, caller) is { } file) await JsonAsync(http, file.Write);
    }

    private async Task ContentAsync(HttpContext http, Caller? caller)
    {
        if (await FindOr404Async(http, caller) is not { } file) return;
        http.Response.ContentType = file.Filename.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || file.Purpose.StartsWith("batch", StringComparison.Ordinal) ? "application/jsonl" : "application/octet-stream";
        http.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = file.Filename }.ToString();
        http.Response.ContentLength = file.Bytes;
        await using var content = new FileStream(store.ContentPath(file.Id), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await content.CopyToAsync(http.Response.Body, http.RequestAborted);
    }

    private async Task DeleteAsync(HttpContext http, Caller? caller)
    {
        var id = (string)http.Request.RouteValues["id"]!;
        if (!store.Delete(id, caller)) { await NotFound(http, id); return; }
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteString("id"u8, id);
            w.WriteString("object"u8, "file"u8);
            w.WriteBoolean("deleted"u8, true);
            w.WriteEndObject();
        });
    }

    private async Task<StoredFile?> FindOr404Async(HttpContext http, Caller? caller)
    {
        var id = (string)http.Request.RouteValues["id"]!;
        var file = store.Find(id, caller);
        if (file is null) await NotFound(http, id);
        return file;
    }

    internal static Task NotFound(HttpContext http, string id) => ResponseWriter.WriteErrorAsync(http, null, new LlmError
    {
        Kind = ErrorKind.NotFound, Message = $"No such File object: {id}", Param = "id", Code = "file_not_found",
    });

    private static Task Invalid(HttpContext http, string message, string? param) =>
        ResponseWriter.WriteErrorAsync(http, null, LlmError.Invalid(message, param));

    private Task TooLarge(HttpContext http) => ResponseWriter.WriteErrorAsync(http, null, new LlmError
    {
        Kind = ErrorKind.PayloadTooLarge,
        Message = $"the file is larger than this gateway accepts ({maxFileBytes / (1024 * 1024)} MB; general_settings.max_file_size_mb)",
        Param = "file",
        Code = "file_too_large",
    });

    internal static async Task JsonAsync(HttpContext http, Action<Utf8JsonWriter> write)
    {
        http.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(http.Response.Body);
        write(w);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
