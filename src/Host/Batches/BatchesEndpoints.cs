using System.Text.Json;
using LLMux.Host.Admin;
using LLMux.Host.Endpoints;
using LLMux.Host.Files;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Host.Batches;

/// <summary>OpenAI's Batches API (<c>/v1/batches</c>) over <see cref="BatchService"/>: create from an uploaded
/// <c>batch</c> file, list, retrieve and cancel, each limited to the caller's own batches (and its team's).</summary>
internal sealed class BatchesEndpoints(BatchService batches, FileStore files, RequestAuthenticator auth)
{
    /// <summary>Endpoints the gateway can run a batch against (natively at OpenAI/Azure, else line by line here).</summary>
    private static readonly string[] Endpoints = ["/v1/chat/completions", "/v1/embeddings", "/v1/responses", "/v1/completions"];
    /// <summary>Endpoints OpenAI batches accept that the gateway does not run yet: a clear 400, not a silent failure.</summary>
    private static readonly string[] NotYet = ["/v1/moderations"];

    public void Map(WebApplication app)
    {
        foreach (var prefix in new[] { "/v1", "", "/openai/v1" })
        {
            app.Map(prefix + "/batches", http => RunAsync(http, HttpMethods.IsPost(http.Request.Method) ? CreateAsync : HttpMethods.IsGet(http.Request.Method) ? ListAsync : null, "GET, POST"));
            app.Map(prefix + "/batches/{id}", http => RunAsync(http, HttpMethods.IsGet(http.Request.Method) ? RetrieveAsync : null, "GET"));
            app.Map(prefix + "/batches/{id}/cancel", http => RunAsync(http, HttpMethods.IsPost(http.Request.Method) ? CancelAsync : null, "POST"));
        }
    }

    private async Task RunAsync(HttpContext http, Func<HttpContext, Caller, Task>? handler, string allowed)
    {
        if (handler is null)
        {
            await ResponseWriter.WriteMethodNotAllowedAsync(http, allowed);
            return;
        }
        if (!auth.Authorize(http.Request)) { await ResponseWriter.WriteErrorAsync(http, null, RequestAuthenticator.FailureOf(http)); return; }
        await handler(http, RequestAuthenticator.CallerOf(http) ?? Caller.Anonymous);
    }

    private async Task CreateAsync(HttpContext http, Caller caller)
    {
        using var b = await AdminBody.ReadAsync(http.Request, http.RequestAborted);
        var inputFileId = b.String("input_file_id", required: true);
        var endpoint = b.String("endpoint", required: true);
        var window = b.String("completion_window", required: true);
        var metadata = b.Object("metadata");
        b.Element("output_expires_after");
        b.RejectUnknown();
        if (endpoint is not null && Array.IndexOf(Endpoints, endpoint) < 0)
            b.Problems.Add(Array.IndexOf(NotYet, endpoint) >= 0
                ? $"`endpoint` `{endpoint}`: LLMux batches support /v1/chat/completions, /v1/embeddings, /v1/responses and /v1/completions; send moderations one by one to /v1/moderations"
                : $"`endpoint` `{endpoint}` is not one of /v1/chat/completions, /v1/embeddings, /v1/responses, /v1/completions");
        if (window is not null && window != "24h") b.Problems.Add($"`completion_window` must be `24h` (got `{window}`)");
        if (metadata is not null && !MetadataOk(metadata, out var why)) b.Problems.Add("`metadata`: " + why);
        if (b.Problems.Count > 0)
        {
            await ResponseWriter.WriteErrorAsync(http, null, LlmError.Invalid(string.Join("; ", b.Problems)));
            return;
        }
        var input = files.Find(inputFileId!, caller);
        if (input is null) { await FilesEndpoints.NotFound(http, inputFileId!); return; }
        if (input.Purpose != "batch")
        {
            await ResponseWriter.WriteErrorAsync(http, null, LlmError.Invalid($"the file {input.Id} has purpose `{input.Purpose}`; upload batch input with purpose `batch`", "input_file_id"));
            return;
        }
        var job = await batches.CreateAsync(endpoint!, input, metadata, caller);
        await FilesEndpoints.JsonAsync(http, job.Write);
    }

    /// <summary>OpenAI's bounds: at most 16 pairs, keys up to 64 characters, string values up to 512.</summary>
    private static bool MetadataOk(string json, out string why)
    {
        using var doc = JsonDocument.Parse(json);
        var n = 0;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (++n > 16) { why = "at most 16 key-value pairs"; return false; }
            if (p.Name.Length > 64) { why = $"key `{p.Name[..16]}…` is longer than 64 characters"; return false; }
            if (p.Value.ValueKind != JsonValueKind.String) { why = $"the value of `{p.Name}` must be a string"; return false; }
            if (p.Value.GetString()!.Length > 512) { why = $"the value of `{p.Name}` is longer than 512 characters"; return false; }
        }
        why = "";
        return true;
    }

    private async Task ListAsync(HttpContext http, Caller caller)
    {
        var q = http.Request.Query;
        var limit = 20;
        if (q["limit"].ToString() is { Length: > 0 } l && (!int.TryParse(l, out limit) || limit < 1 || limit > 100))
        {
            await ResponseWriter.WriteErrorAsync(http, null, LlmError.Invalid("`limit` must be an integer from 1 to 100", "limit"));
            return;
        }
        IEnumerable<BatchJob> all = await batches.ListAsync(caller);
        if (q["after"].ToString() is { Length: > 0 } after)
        {
            var list = all.ToList();
            var at = list.FindIndex(j => j.Id == after);
            all = at < 0 ? [] : list.Skip(at + 1);
        }
        var rest = all.ToList();
        var page = rest.Take(limit).ToList();
        await FilesEndpoints.JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteString("object"u8, "list"u8);
            w.WriteStartArray("data"u8);
            foreach (var j in page) j.Write(w);
            w.WriteEndArray();
            if (page.Count > 0) { w.WriteString("first_id"u8, page[0].Id); w.WriteString("last_id"u8, page[^1].Id); }
            else { w.WriteNull("first_id"u8); w.WriteNull("last_id"u8); }
            w.WriteBoolean("has_more"u8, rest.Count > page.Count);
            w.WriteEndObject();
        });
    }

    private async Task RetrieveAsync(HttpContext http, Caller caller)
    {
        if (await FindOr404Async(http, caller) is { } job) await FilesEndpoints.JsonAsync(http, job.Write);
    }

    private async Task CancelAsync(HttpContext http, Caller caller)
    {
        if (await FindOr404Async(http, caller) is not { } job) return;
        if (!await batches.CancelAsync(job))
        {
            job = await batches.FindAsync(job.Id, caller) ?? job;
            await ResponseWriter.WriteErrorAsync(http, null, new LlmError
            {
                Kind = ErrorKind.InvalidRequest, Message = $"Cannot cancel a batch with status {job.Status}.", Code = "batch_not_cancellable", StatusOverride = 409,
            });
            return;
        }
        await FilesEndpoints.JsonAsync(http, (await batches.FindAsync(job.Id, caller) ?? job).Write);
    }

    private async Task<BatchJob?> FindOr404Async(HttpContext http, Caller caller)
    {
        var id = (string)http.Request.RouteValues["id"]!;
        var job = await batches.FindAsync(id, caller);
        if (job is null)
            await ResponseWriter.WriteErrorAsync(http, null, new LlmError { Kind = ErrorKind.NotFound, Message = $"No such Batch object: {id}", Param = "id", Code = "batch_not_found" });
        return job;
    }
}
