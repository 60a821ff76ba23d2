using System.Text.Json;

namespace LLMux.Host.Batch;

/// <summary>
/// What earlier runs already wrote: the custom_ids (and line numbers of lines that had none) in the output and
/// errors files. A line cut off by a crash is removed first, so that its request is done again.
/// </summary>
internal sealed class BatchResumeIndex
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly HashSet<long> _lines = [];

    public int Count => _ids.Count + _lines.Count;

    public bool IsDone(BatchRequestLine line) => line.CustomId is { } id ? _ids.Contains(id) : _lines.Contains(line.LineNumber);

    public static BatchResumeIndex Load(params string[] paths)
    {
        var index = new BatchResumeIndex();
        foreach (var path in paths)
        {
            if (!File.Exists(path)) continue;
            DropUnfinishedLine(path);
            foreach (var text in File.ReadLines(path))
            {
                if (text.Length == 0) continue;
                try
                {
                    using var doc = JsonDocument.Parse(text);
                    var root = doc.RootElement;
                    if (root.TryGetProperty("custom_id", out var id) && id.ValueKind == JsonValueKind.String) index._ids.Add(id.GetString()!);
                    else if (root.TryGetProperty("line", out var n) && n.ValueKind == JsonValueKind.Number) index._lines.Add(n.GetInt64());
                }
                catch (JsonException)
                {
                    // A damaged line names no request: that request runs again.
                }
            }
        }
        return index;
    }

    /// <summary>Cuts the file back to its last newline: a crash can leave half a line, never a whole one missing its end.</summary>
    private static void DropUnfinishedLine(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var length = file.Length;
        if (length == 0) return;
        var buffer = new byte[4096];
        var end = length;
        while (end > 0)
        {
            var size = (int)Math.Min(buffer.Length, end);
            file.Position = end - size;
            file.ReadExactly(buffer, 0, size);
            var last = Array.LastIndexOf(buffer, (byte)'\n', size - 1, size);
            if (last >= 0)
            {
                var keep = end - size + last + 1;
                if (keep != length) file.SetLength(keep);
                return;
            }
            end -= size;
        }
        file.SetLength(0);
    }
}
