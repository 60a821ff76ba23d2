using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LLMux.Governance.Entities;

namespace LLMux.Governance.Spend;

/// <summary>
/// Spend rows the store could not take yet, as JSON lines in files of one directory (one file per writer at a time,
/// appended and flushed row by row). The writer claims whole files by renaming them (so two replicas on one machine
/// never write the same file twice; a request id makes a row written twice count once anyway), writes them, and
/// deletes them; a claim that fails is put back. Appending and claiming each hold the file exclusively (an advisory
/// lock), so a claim never takes a row half written, and a writer whose file was claimed goes on in a new file.
/// <para>
/// Unlogged rows (<c>disable_spend_logs</c>) have no request id, so each batch the store is handed carries a mark
/// (<see cref="SpendBatch.Mark"/>) the store recognises. Rows of a batch the writer had already tried are spilled with
/// that batch's mark (the store may have committed it without answering) and replayed as that batch; rows never tried
/// are replayed in batches whose marks are derived from the file's name and the rows' place in it, so a file put back
/// after some of its batches were written marks them the same the next time.
/// </para>
/// </summary>
public sealed class SpendSpill
{
    private readonly string _directory;
    private readonly Lock _gate = new();
    private string? _current;
    private long _pending;

    public SpendSpill(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        // Files a previous run left behind count as pending.
        if (Directory.EnumerateFiles(directory, "*.jsonl").Any()) _pending = 1;
    }

    public string DirectoryPath => _directory;

    /// <summary>Whether any file may hold rows to write.</summary>
    public bool HasRows => Interlocked.Read(ref _pending) > 0;

    /// <summary>Appends rows never handed to the store, or (with <paramref name="mark"/>) a batch that was, under its mark.</summary>
    public void Append(IReadOnlyList<SpendRow> rows, string? mark = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256 * rows.Count);
        foreach (var row in rows)
        {
            using (var w = new Utf8JsonWriter(buffer)) Write(w, row, mark);
            buffer.Write("\n"u8);
        }
        lock (_gate)
        {
            for (var attempt = 0; ; attempt++)
            {
                // Made again when another writer removed it once it was empty.
                Directory.CreateDirectory(_directory);
                var fresh = _current is null;
                _current ??= Path.Combine(_directory, $"spend-{Environment.ProcessId}-{Guid.NewGuid():N}.jsonl");
                try
                {
                    // Exclusive while written (an advisory lock every writer takes): a claim never reads a row half written.
                    // A name is used once: a file of ours that another writer claimed is never made again under its name
                    // (replayed rows are marked by the file's name and their place in it).
                    using var file = new FileStream(_current, fresh ? FileMode.CreateNew : FileMode.Open, FileAccess.Write, FileShare.None);
                    file.Seek(0, SeekOrigin.End);
                    file.Write(buffer.WrittenSpan);
                    file.Flush(flushToDisk: true);
                    break;
                }
                catch (IOException) when (attempt < 8)
                {
                    // Another writer claimed this file, or is claiming it at this moment: the rows start a new one.
                    _current = null;
                }
            }
            Interlocked.Increment(ref _pending);
        }
    }

    /// <summary>Takes every file written so far (this writer's current one is closed first: new rows start a new file).</summary>
    public IEnumerable<Claimed> Claim()
    {
        lock (_gate)
        {
            _current = null;
            Interlocked.Exchange(ref _pending, 0);
        }
        if (!Directory.Exists(_directory)) yield break;
        foreach (var path in Directory.EnumerateFiles(_directory, "*.jsonl").ToArray())
        {
            var claimed = path + "." + Guid.NewGuid().ToString("N")[..8] + ".draining";
            List<SpendBatch> batches;
            try
            {
                // Held exclusively from before the rename until it is read: a writer appending to it right now makes the
                // claim wait for a later drain, and a writer that comes after the rename starts a new file.
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
                File.Move(path, claimed);
                batches = Read(file, Path.GetFileName(path));
            }
            catch (IOException)
            {
                continue; // being written, or another writer took it
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            yield return new Claimed(this, path, claimed, batches);
        }
    }

    /// <summary>Removes the directory when nothing is left in it (a clean stop leaves no trace).</summary>
    public void RemoveIfEmpty()
    {
        try
        {
            if (Directory.Exists(_directory) && !Directory.EnumerateFileSystemEntries(_directory).Any()) Directory.Delete(_directory);
        }
        catch (IOException)
        {
            // Another writer just spilled into it: it stays.
        }
    }

    /// <summary>Rows in every spill file of the directory (tests, diagnostics).</summary>
    public int CountRows() => !Directory.Exists(_directory) ? 0 : Directory.EnumerateFiles(_directory, "*.jsonl").Sum(f => File.ReadLines(f).Count(static l => l.Length > 0));

    public sealed class Claimed(SpendSpill owner, string original, string path, IReadOnlyList<SpendBatch> batches)
    {
        /// <summary>The file's rows as the batches to write, in file order, each with its mark.</summary>
        public IReadOnlyList<SpendBatch> Batches { get; } = batches;

        public IEnumerable<SpendRow> Rows => Batches.SelectMany(static b => b);

        public void Done() => File.Delete(path);

        /// <summary>Writing failed: the file goes back for a later try.</summary>
        public void Release()
        {
            File.Move(path, original, overwrite: false);
            Interlocked.Increment(ref owner._pending);
        }
    }

    private static List<SpendBatch> Read(Stream file, string name)
    {
        var batches = new List<SpendBatch>();
        var rows = new List<SpendRow>();
        string? mark = null;
        var first = 0; // the line number of the first row in `rows`
        var line = -1;
        using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0) continue;
            SpendRow row;
            string? rowMark;
            try
            {
                using var doc = JsonDocument.Parse(text);
                row = Read(doc.RootElement);
                rowMark = doc.RootElement.TryGetProperty("batch", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null;
            }
            catch (JsonException)
            {
                continue; // A line cut short by a crash mid-write: the rest of the file is still good.
            }
            if (rows.Count > 0 && (rowMark != mark || (mark is null && rows.Count >= SpendWriter.BatchSize))) Flush();
            if (rows.Count == 0) { mark = rowMark; first = line; }
            rows.Add(row);
        }
        if (rows.Count > 0) Flush();
        return batches;

        void Flush()
        {
            batches.Add(new SpendBatch([.. rows], mark ?? PlaceMark(name, first)));
            rows.Clear();
        }
    }

    /// <summary>The mark of untried rows starting at line <paramref name="line"/> of the file named <paramref name="name"/> (file names are unique).</summary>
    private static string PlaceMark(string name, int line) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name + ":" + line.ToString(CultureInfo.InvariantCulture))).AsSpan(0, 16));

    private static void Write(Utf8JsonWriter w, SpendRow r, string? mark)
    {
        w.WriteStartObject();
        if (mark is not null) w.WriteString("batch", mark);
        w.WriteString("request_id", r.RequestId);
        w.WriteString("call_type", r.CallType);
        w.WriteString("api_key", r.ApiKey);
        w.WriteString("spend", r.Spend.ToString(CultureInfo.InvariantCulture));
        w.WriteNumber("prompt_tokens", r.PromptTokens);
        w.WriteNumber("completion_tokens", r.CompletionTokens);
        w.WriteString("startTime", r.StartTime);
        w.WriteString("endTime", r.EndTime);
        w.WriteString("model", r.Model);
        w.WriteString("model_group", r.ModelGroup);
        w.WriteString("custom_llm_provider", r.Provider);
        w.WriteString("team_id", r.TeamId);
        w.WriteString("user", r.UserId);
        w.WriteString("end_user", r.EndUser);
        w.WriteString("key_alias", r.KeyAlias);
        w.WriteString("status", r.Status);
        w.WriteBoolean("cache_hit", r.CacheHit);
        if (!r.Logged) w.WriteBoolean("logged", false);
        w.WriteEndObject();
    }

    private static SpendRow Read(JsonElement e) => new()
    {
        RequestId = e.GetProperty("request_id").GetString()!,
        CallType = e.GetProperty("call_type").GetString()!,
        ApiKey = e.GetProperty("api_key").GetString()!,
        Spend = decimal.Parse(e.GetProperty("spend").GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture),
        PromptTokens = e.GetProperty("prompt_tokens").GetInt64(),
        CompletionTokens = e.GetProperty("completion_tokens").GetInt64(),
        StartTime = e.GetProperty("startTime").GetDateTimeOffset(),
        EndTime = e.GetProperty("endTime").GetDateTimeOffset(),
        Model = e.GetProperty("model").GetString(),
        ModelGroup = e.GetProperty("model_group").GetString(),
        Provider = e.GetProperty("custom_llm_provider").GetString(),
        TeamId = e.GetProperty("team_id").GetString(),
        UserId = e.GetProperty("user").GetString(),
        EndUser = e.GetProperty("end_user").GetString(),
        KeyAlias = e.GetProperty("key_alias").GetString(),
        Status = e.GetProperty("status").GetString()!,
        // Spill files written before the field existed have none.
        CacheHit = e.TryGetProperty("cache_hit", out var hit) && hit.ValueKind == JsonValueKind.True,
        Logged = !(e.TryGetProperty("logged", out var logged) && logged.ValueKind == JsonValueKind.False),
    };
}
