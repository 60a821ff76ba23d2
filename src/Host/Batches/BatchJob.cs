using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;

namespace LLMux.Host.Batches;

/// <summary>
/// One batch of the Batches API: OpenAI's batch object (status, timestamps, request counts, files) plus what the
/// gateway needs to run and resume it (who created it, so that its calls are charged to that key). Mutated only
/// under its own lock; saved to the gateway's store (as JSON) after every change of status and once a second while it runs.
/// </summary>
internal sealed class BatchJob
{
    public required string Id { get; init; }
    public required string Endpoint { get; init; }
    public required string InputFileId { get; init; }
    public string CompletionWindow { get; init; } = "24h";
    /// <summary>The metadata object as JSON (null when none was given).</summary>
    public string? Metadata { get; init; }
    public required long CreatedAt { get; init; }
    public required Caller Caller { get; init; }

    public readonly Lock Sync = new();
    public string Status { get; set; } = "validating";
    public string? OutputFileId { get; set; }
    public string? ErrorFileId { get; set; }
    public long? InProgressAt { get; set; }
    public long? FinalizingAt { get; set; }
    public long? CompletedAt { get; set; }
    public long? FailedAt { get; set; }
    public long? ExpiredAt { get; set; }
    public long? CancellingAt { get; set; }
    public long? CancelledAt { get; set; }
    public long Total { get; set; }
    public long Completed { get; set; }
    public long Failed { get; set; }
    public List<BatchJobError> Errors { get; } = [];
    /// <summary>The deployment that runs this batch with its provider's own Batch API (null: the gateway runs it).</summary>
    public string? NativeDeployment { get; set; }
    /// <summary>The provider's batch, once created.</summary>
    public NativeBatchRunner.Remote? Native { get; set; }

    public long ExpiresAt => CreatedAt + 24 * 3600;

    public bool IsTerminal => Status is "completed" or "failed" or "expired" or "cancelled";

    public LlmMode Mode => Endpoint switch
    {
        "/v1/embeddings" => LlmMode.Embeddings,
        "/v1/responses" => LlmMode.Responses,
        "/v1/completions" => LlmMode.Completion,
        _ => LlmMode.Chat,
    };

    /// <summary>OpenAI's batch object.</summary>
    public void Write(Utf8JsonWriter w)
    {
        lock (Sync)
        {
            w.WriteStartObject();
            w.WriteString("id"u8, Id);
            w.WriteString("object"u8, "batch"u8);
            w.WriteString("endpoint"u8, Endpoint);
            if (Errors.Count == 0) w.WriteNull("errors"u8);
            else
            {
                w.WriteStartObject("errors"u8);
                w.WriteString("object"u8, "list"u8);
                w.WriteStartArray("data"u8);
                foreach (var e in Errors)
                {
                    w.WriteStartObject();
                    w.WriteString("code"u8, e.Code);
                    w.WriteString("message"u8, e.Message);
                    if (e.Param is not null) w.WriteString("param"u8, e.Param); else w.WriteNull("param"u8);
                    if (e.Line is { } l) w.WriteNumber("line"u8, l); else w.WriteNull("line"u8);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteString("input_file_id"u8, InputFileId);
            w.WriteString("completion_window"u8, CompletionWindow);
            w.WriteString("status"u8, Status);
            Opt(w, "output_file_id"u8, OutputFileId);
            Opt(w, "error_file_id"u8, ErrorFileId);
            w.WriteNumber("created_at"u8, CreatedAt);
            Opt(w, "in_progress_at"u8, InProgressAt);
            w.WriteNumber("expires_at"u8, ExpiresAt);
            Opt(w, "finalizing_at"u8, FinalizingAt);
            Opt(w, "completed_at"u8, CompletedAt);
            Opt(w, "failed_at"u8, FailedAt);
            Opt(w, "expired_at"u8, ExpiredAt);
            Opt(w, "cancelling_at"u8, CancellingAt);
            Opt(w, "cancelled_at"u8, CancelledAt);
            w.WriteStartObject("request_counts"u8);
            w.WriteNumber("total"u8, Total);
            w.WriteNumber("completed"u8, Completed);
            w.WriteNumber("failed"u8, Failed);
            w.WriteEndObject();
            if (Metadata is not null) { w.WritePropertyName("metadata"u8); w.WriteRawValue(Metadata); } else w.WriteNull("metadata"u8);
            w.WriteEndObject();
        }
    }

    /// <summary>Usage and cost of a native batch's results have been charged to its key (never twice).</summary>
    public bool SpendCharged { get; set; }
    /// <summary>Another replica took this batch over (this one's lease lapsed): this replica writes nothing more for it.</summary>
    public volatile bool LeaseLost;
    /// <summary>When the store last heard of a cancel request for this batch (from any replica).</summary>
    public long? CancelRequestedAt { get; set; }

    /// <summary>The saved state (kept in the gateway's store): the batch object plus the owner (never a raw key: its hash only).</summary>
    public string ToState()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("batch");
            Write(w);
            w.WriteStartObject("caller");
            w.WriteString("key_hash", Caller.KeyHash);
            if (Caller.KeyAlias is not null) w.WriteString("key_alias", Caller.KeyAlias);
            if (Caller.TeamId is not null) w.WriteString("team_id", Caller.TeamId);
            if (Caller.UserId is not null) w.WriteString("user_id", Caller.UserId);
            w.WriteBoolean("is_admin", Caller.IsAdmin);
            w.WriteEndObject();
            if (NativeDeployment is not null) w.WriteString("native_deployment", NativeDeployment);
            if (Native is { } n)
            {
                w.WriteStartObject("native");
                w.WriteString("deployment", n.DeploymentId);
                w.WriteString("batch_id", n.BatchId);
                w.WriteString("input_file_id", n.InputFileId);
                w.WriteEndObject();
            }
            if (SpendCharged) w.WriteBoolean("spend_charged", true);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>A batch from its stored state; a cancel request another replica recorded shows as <c>cancelling</c> until the runner ends it.</summary>
    public static BatchJob? FromState(string state, long? cancelRequestedAt)
    {
        var job = Parse(System.Text.Encoding.UTF8.GetBytes(state));
        if (job is null) return null;
        job.CancelRequestedAt = cancelRequestedAt;
        if (cancelRequestedAt is { } at && !job.IsTerminal && job.Status != "cancelling")
        {
            job.Status = "cancelling";
            job.CancellingAt = at;
        }
        return job;
    }

    /// <summary>A state file of an earlier LLMux (<c>batches/&lt;id&gt;/batch.json</c>), imported into the store once.</summary>
    public static BatchJob? Load(string path)
    {
        try
        {
            return Parse(File.ReadAllBytes(path));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static BatchJob? Parse(byte[] json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var b = doc.RootElement.GetProperty("batch");
            var c = doc.RootElement.GetProperty("caller");
            var job = new BatchJob
            {
                Id = b.GetProperty("id").GetString()!,
                Endpoint = b.GetProperty("endpoint").GetString()!,
                InputFileId = b.GetProperty("input_file_id").GetString()!,
                CompletionWindow = b.GetProperty("completion_window").GetString()!,
                Metadata = b.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m.GetRawText() : null,
                CreatedAt = b.GetProperty("created_at").GetInt64(),
                Caller = new Caller
                {
                    KeyHash = c.GetProperty("key_hash").GetString()!,
                    KeyAlias = Str(c, "key_alias"),
                    TeamId = Str(c, "team_id"),
                    UserId = Str(c, "user_id"),
                    IsAdmin = c.GetProperty("is_admin").GetBoolean(),
                },
                Status = b.GetProperty("status").GetString()!,
                OutputFileId = Str(b, "output_file_id"),
                ErrorFileId = Str(b, "error_file_id"),
                InProgressAt = Num(b, "in_progress_at"),
                FinalizingAt = Num(b, "finalizing_at"),
                CompletedAt = Num(b, "completed_at"),
                FailedAt = Num(b, "failed_at"),
                ExpiredAt = Num(b, "expired_at"),
                CancellingAt = Num(b, "cancelling_at"),
                CancelledAt = Num(b, "cancelled_at"),
            };
            job.NativeDeployment = Str(doc.RootElement, "native_deployment");
            job.SpendCharged = doc.RootElement.TryGetProperty("spend_charged", out var charged) && charged.ValueKind == JsonValueKind.True;
            if (doc.RootElement.TryGetProperty("native", out var n) && n.ValueKind == JsonValueKind.Object)
                job.Native = new NativeBatchRunner.Remote(n.GetProperty("deployment").GetString()!, n.GetProperty("batch_id").GetString()!, n.GetProperty("input_file_id").GetString()!);
            var counts = b.GetProperty("request_counts");
            job.Total = counts.GetProperty("total").GetInt64();
            job.Completed = counts.GetProperty("completed").GetInt64();
            job.Failed = counts.GetProperty("failed").GetInt64();
            if (b.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                foreach (var e in errors.GetProperty("data").EnumerateArray())
                    job.Errors.Add(new BatchJobError(e.GetProperty("code").GetString()!, e.GetProperty("message").GetString()!, Str(e, "param"), Num(e, "line")));
            return job;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    private static long? Num(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    private static void Opt(Utf8JsonWriter w, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null) w.WriteString(name, value); else w.WriteNull(name);
    }

    private static void Opt(Utf8JsonWriter w, ReadOnlySpan<byte> name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v); else w.WriteNull(name);
    }
}

/// <summary>One entry of a batch's <c>errors.data</c>.</summary>
internal sealed record BatchJobError(string Code, string Message, string? Param = null, long? Line = null);
