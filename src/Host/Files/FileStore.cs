using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using LLMux.Pipeline.Context;

namespace LLMux.Host.Files;

/// <summary>One stored file: OpenAI's file object, plus who owns it.</summary>
internal sealed record StoredFile
{
    public required string Id { get; init; }
    public required string Filename { get; init; }
    public required string Purpose { get; init; }
    public long Bytes { get; init; }
    public long CreatedAt { get; init; }
    public long? ExpiresAt { get; init; }
    /// <summary><see cref="Caller.OwnerScope"/> of the key that uploaded it (or of the batch that wrote it).</summary>
    public required string Owner { get; init; }
    /// <summary>The owner's team: the team's other keys see the file too.</summary>
    public string? TeamId { get; init; }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, Id);
        w.WriteString("object"u8, "file"u8);
        w.WriteNumber("bytes"u8, Bytes);
        w.WriteNumber("created_at"u8, CreatedAt);
        if (ExpiresAt is { } e) w.WriteNumber("expires_at"u8, e); else w.WriteNull("expires_at"u8);
        w.WriteString("filename"u8, Filename);
        w.WriteString("purpose"u8, Purpose);
        w.WriteString("status"u8, "processed"u8);
        w.WriteNull("status_details"u8);
        w.WriteEndObject();
    }
}

/// <summary>
/// Files of the Files API on a local directory (<c>general_settings.storage_path</c>): each file's bytes in
/// <c>&lt;id&gt;.bin</c> and its object in <c>&lt;id&gt;.json</c>, written after the bytes so that a file is listed only
/// once it is whole. A key sees its own files and its team's; the master key sees all. Several replicas may share the
/// directory (a network file system mounted at the same <c>storage_path</c>): a file is looked up on the directory when
/// this replica has not seen it.
/// </summary>
internal sealed class FileStore
{
    private readonly string _dir;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, StoredFile> _files = new(StringComparer.Ordinal);

    public FileStore(string directory, TimeProvider time)
    {
        _dir = Path.Combine(directory, "files");
        _time = time;
        Directory.CreateDirectory(_dir);
        foreach (var meta in Directory.EnumerateFiles(_dir, "*.json"))
        {
            if (Read(meta) is { } f && File.Exists(ContentPath(f.Id))) _files[f.Id] = f;
        }
        foreach (var partial in Directory.EnumerateFiles(_dir, "*.upload")) TryDelete(partial);
    }

    public static string NewId() => "file-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public string ContentPath(string id) => Path.Combine(_dir, id + ".bin");

    /// <summary>A temporary path for bytes on their way in (removed at start-up if the process died mid-upload).</summary>
    public string UploadPath(string id) => Path.Combine(_dir, id + ".upload");

    public static bool CanSee(StoredFile file, Caller? caller) =>
        caller is null || caller.IsAdmin || file.Owner == caller.OwnerScope || (file.TeamId is not null && file.TeamId == caller.TeamId);

    /// <summary>The file, if it is still whole on the directory: another replica on a shared directory may have added or deleted it.</summary>
    public StoredFile? Find(string id, Caller? caller)
    {
        if (!IsId(id)) return null;
        if (!_files.TryGetValue(id, out var f))
        {
            if (Read(Path.Combine(_dir, id + ".json")) is not { } found) return null;
            f = _files.GetOrAdd(id, found);
        }
        if (!File.Exists(ContentPath(id)))
        {
            _files.TryRemove(id, out _);
            return null;
        }
        return CanSee(f, caller) && !Expired(f) ? f : null;
    }

    /// <summary>The caller's files, read from the directory (so that files other replicas added or deleted on a shared directory count).</summary>
    public IReadOnlyList<StoredFile> List(Caller? caller, string? purpose)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var meta in Directory.EnumerateFiles(_dir, "*.json"))
        {
            var id = Path.GetFileNameWithoutExtension(meta);
            if (!IsId(id) || !File.Exists(ContentPath(id))) continue;
            if (!_files.ContainsKey(id) && Read(meta) is { } f) _files.TryAdd(id, f);
            present.Add(id);
        }
        foreach (var gone in _files.Keys.Where(k => !present.Contains(k)).ToList()) _files.TryRemove(gone, out _);
        return _files.Values.Where(f => CanSee(f, caller) && !Expired(f) && (purpose is null || f.Purpose == purpose)).OrderByDescending(static f => f.CreatedAt).ThenByDescending(static f => f.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Registers a file whose bytes are already at <see cref="ContentPath"/> (or at <paramref name="moveFrom"/>).</summary>
    public StoredFile Add(StoredFile file, string? moveFrom = null)
    {
        if (moveFrom is not null) File.Move(moveFrom, ContentPath(file.Id), overwrite: true);
        var tmp = Path.Combine(_dir, file.Id + ".json.tmp");
        using (var stream = File.Create(tmp))
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("id", file.Id);
            w.WriteString("filename", file.Filename);
            w.WriteString("purpose", file.Purpose);
            w.WriteNumber("bytes", file.Bytes);
            w.WriteNumber("created_at", file.CreatedAt);
            if (file.ExpiresAt is { } e) w.WriteNumber("expires_at", e);
            w.WriteString("owner", file.Owner);
            if (file.TeamId is not null) w.WriteString("team_id", file.TeamId);
            w.WriteEndObject();
        }
        File.Move(tmp, Path.Combine(_dir, file.Id + ".json"), overwrite: true);
        _files[file.Id] = file;
        return file;
    }

    public bool Delete(string id, Caller? caller)
    {
        if (Find(id, caller) is null) return false;
        _files.TryRemove(id, out _);
        TryDelete(Path.Combine(_dir, id + ".json"));
        TryDelete(ContentPath(id));
        return true;
    }

    public long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    private bool Expired(StoredFile f) => f.ExpiresAt is { } e && e <= Now;

    /// <summary>Ours only: <c>file-</c> and hex, so an id can never name a path outside the directory.</summary>
    public static bool IsId(string id) => id.Length is > 5 and <= 64 && id.StartsWith("file-", StringComparison.Ordinal) && id.AsSpan(5).IndexOfAnyExcept("0123456789abcdef") < 0;

    private static StoredFile? Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var r = doc.RootElement;
            return new StoredFile
            {
                Id = r.GetProperty("id").GetString()!,
                Filename = r.GetProperty("filename").GetString()!,
                Purpose = r.GetProperty("purpose").GetString()!,
                Bytes = r.GetProperty("bytes").GetInt64(),
                CreatedAt = r.GetProperty("created_at").GetInt64(),
                ExpiresAt = r.TryGetProperty("expires_at", out var e) ? e.GetInt64() : null,
                Owner = r.GetProperty("owner").GetString()!,
                TeamId = r.TryGetProperty("team_id", out var t) ? t.GetString() : null,
            };
        }
        catch (Exception ex) when (ex is JsonException or IOException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
