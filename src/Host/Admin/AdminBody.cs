using System.Globalization;
using System.Text.Json;
using LLMux.Governance.Budgets;

namespace LLMux.Host.Admin;

/// <summary>
/// One admin request body, read and checked before anything is written: each getter records a problem (with the
/// field's name) instead of throwing, and <see cref="Problems"/> lists them all for one 400. Fields the route does not
/// know are problems too, so a typo never passes silently.
/// </summary>
internal sealed class AdminBody : IDisposable
{
    private readonly JsonDocument? _doc;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private const int MaxBytes = 1024 * 1024;
    private const string TooLarge = "the request body is larger than 1 MiB";

    public List<string> Problems { get; } = [];

    private AdminBody(JsonDocument? doc, string? problem)
    {
        _doc = doc;
        if (problem is not null) Problems.Add(problem);
    }

    public static async Task<AdminBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is 0) return new AdminBody(null, null);
        if (request.ContentLength > MaxBytes) return new AdminBody(null, TooLarge);
        try
        {
            // Keep at most one byte past the limit: a chunked body of any length costs 1 MiB of memory, not the sender's choice.
            var buffer = new byte[(int)Math.Min(request.ContentLength ?? 16 * 1024, MaxBytes) + 1];
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length > MaxBytes) return new AdminBody(null, TooLarge);
                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxBytes + 1));
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                length += read;
            }
            if (length > MaxBytes) return new AdminBody(null, TooLarge);
            if (length == 0) return new AdminBody(null, null);
            var doc = JsonDocument.Parse(buffer.AsMemory(0, length), new JsonDocumentOptions { MaxDepth = 32 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) { doc.Dispose(); return new AdminBody(null, "the request body must be a JSON object"); }
            return new AdminBody(doc, null);
        }
        catch (JsonException ex)
        {
            return new AdminBody(null, $"the request body is not valid JSON ({ex.Message})");
        }
    }

    /// <summary>An empty body, for GET routes whose fields come from the query.</summary>
    public static AdminBody Empty() => new(null, null);

    public bool Has(string name) => _doc is not null && _doc.RootElement.TryGetProperty(name, out _);

    /// <summary>True when the field is present with JSON <c>null</c> (an update that clears it).</summary>
    public bool IsNull(string name) => TryGet(name, out var v) && v.ValueKind == JsonValueKind.Null;

    private bool TryGet(string name, out JsonElement value)
    {
        _read.Add(name);
        value = default;
        return _doc is not null && _doc.RootElement.TryGetProperty(name, out value);
    }

    public string? String(string name, bool required = false)
    {
        if (!TryGet(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required) Problems.Add($"`{name}` is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.String) { Problems.Add($"`{name}` must be a string"); return null; }
        var s = v.GetString()!;
        if (required && s.Length == 0) Problems.Add($"`{name}` must not be empty");
        return s;
    }

    public decimal? Money(string name)
    {
        if (!TryGet(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDecimal(out var d)) { Problems.Add($"`{name}` must be a number (USD)"); return null; }
        if (d < 0) { Problems.Add($"`{name}` must be 0 or more, not {d.ToString(CultureInfo.InvariantCulture)}"); return null; }
        return d;
    }

    public long? Count(string name)
    {
        if (!TryGet(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n)) { Problems.Add($"`{name}` must be an integer"); return null; }
        if (n < 0) { Problems.Add($"`{name}` must be 0 or more, not {n.ToString(CultureInfo.InvariantCulture)}"); return null; }
        return n;
    }

    public bool? Bool(string name)
    {
        if (!TryGet(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) { Problems.Add($"`{name}` must be true or false"); return null; }
        return v.GetBoolean();
    }

    public string? Duration(string name)
    {
        var s = String(name);
        if (s is null) return null;
        if (!BudgetDuration.TryParse(s, out _)) { Problems.Add($"`{name}`: `{s}` is not {BudgetDuration.Expected}"); return null; }
        return s;
    }

    public IReadOnlyList<string>? Strings(string name)
    {
        if (!TryGet(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) { Problems.Add($"`{name}` must be a list of strings"); return null; }
        var list = new List<string>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) { Problems.Add($"`{name}` must be a list of strings"); return null; }
            list.Add(e.GetString()!);
        }
        return list;
    }

    /// <summary>A JSON object kept as its text (metadata).</summary>
    public string? Object(string name)
    {
        if (!TryGet(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Object) { Problems.Add($"`{name}` must be a JSON object"); return null; }
        return v.GetRawText();
    }

    /// <summary>The raw element, for shapes a route reads itself (team members).</summary>
    public JsonElement? Element(string name) => TryGet(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>Fields LiteLLM has that LLMux does not act on yet: a clear 400 rather than a silent no-op.</summary>
    public void Unsupported(params string[] names)
    {
        foreach (var n in names)
        {
            if (!TryGet(n, out var v) || v.ValueKind == JsonValueKind.Null) continue;
            if (v.ValueKind == JsonValueKind.Object && !v.EnumerateObject().Any()) continue;
            if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 0) continue;
            Problems.Add($"`{n}` is not supported by LLMux yet; remove it");
        }
    }

    /// <summary>Call last: every field not read by the route is a problem.</summary>
    public void RejectUnknown()
    {
        if (_doc is null) return;
        foreach (var p in _doc.RootElement.EnumerateObject())
            if (!_read.Contains(p.Name)) Problems.Add($"unknown field `{p.Name}`");
    }

    public void Dispose() => _doc?.Dispose();
}
