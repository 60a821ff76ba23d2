using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace LLMux.Stages.Accounting;

/// <summary>
/// LiteLLM's model price table (embedded), keyed as LiteLLM keys it: <c>provider/model</c> or the bare model id.
/// Read once; immutable.
/// </summary>
public sealed class PriceTable
{
    private readonly FrozenDictionary<string, ModelPrice> _prices;

    private readonly FrozenDictionary<string, ModelPrice>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public PriceTable(IDictionary<string, ModelPrice> prices)
    {
        _prices = prices.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _bySpan = _prices.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _prices.Count;

    /// <summary>Every entry by its key (<c>provider/model</c> or the bare id), for start-up look-ups such as a model's provider.</summary>
    public IEnumerable<KeyValuePair<string, ModelPrice>> Entries => _prices;

    private static readonly Lazy<PriceTable> Embedded = new(LoadEmbedded);

    /// <summary>The table shipped with LLMux.</summary>
    public static PriceTable Default => Embedded.Value;

    /// <summary>
    /// The entry under exactly <paramref name="key"/>, without <see cref="Find"/>'s fallbacks: for composite keys such as
    /// <c>256-x-256/dall-e-2</c>, whose last segment alone names another entry (the model's flat price).
    /// </summary>
    public ModelPrice? FindExact(string key) => _prices.TryGetValue(key, out var p) ? p : null;

    /// <summary>Finds the price of an upstream model: <c>provider/model</c> first, then the bare id, then the id after its last <c>/</c>.</summary>
    public ModelPrice? Find(string provider, string model)
    {
        // Looked up by span: this runs per request (cost, max_output_tokens), and a key string each time adds up.
        ModelPrice? p;
        var length = provider.Length + 1 + model.Length;
        if (length <= 256)
        {
            Span<char> key = stackalloc char[length];
            provider.CopyTo(key);
            key[provider.Length] = '/';
            model.CopyTo(key[(provider.Length + 1)..]);
            if (_bySpan.TryGetValue(key, out p)) return p;
        }
        else if (_prices.TryGetValue(provider + "/" + model, out p)) return p;
        if (_prices.TryGetValue(model, out p)) return p;
        var slash = model.LastIndexOf('/');
        if (slash >= 0 && _bySpan.TryGetValue(model.AsSpan(slash + 1), out p)) return p;
        // Bedrock cross-region profiles (us.anthropic..., eu.anthropic...) are priced as the base model.
        var dot = model.IndexOf('.');
        if (dot is > 0 and <= 4 && _bySpan.TryGetValue(model.AsSpan(dot + 1), out p)) return p;
        return null;
    }

    private static PriceTable LoadEmbedded()
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream("LLMux.model_prices.json")
            ?? throw new InvalidOperationException("the embedded price table is missing from LLMux.Stages");
        return Parse(stream);
    }

    public static PriceTable Parse(Stream json)
    {
        using var doc = JsonDocument.Parse(json);
        var prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "sample_spec" || entry.Value.ValueKind != JsonValueKind.Object) continue;
            prices[entry.Name] = Read(entry.Value, names);
        }
        return new PriceTable(prices);
    }

    private static ModelPrice Read(JsonElement e, Dictionary<string, string> names)
    {
        var tiers = new List<ModelPrice.Tier>();
        foreach (var threshold in new[] { (128_000L, "128k"), (200_000L, "200k") })
        {
            var suffix = "_above_" + threshold.Item2 + "_tokens";
            var tin = Dec(e, "input_cost_per_token" + suffix);
            var tout = Dec(e, "output_cost_per_token" + suffix);
            if (tin is null && tout is null) continue;
            tiers.Add(new ModelPrice.Tier(threshold.Item1, tin, tout, Dec(e, "cache_read_input_token_cost" + suffix), Dec(e, "cache_creation_input_token_cost" + suffix)));
        }
        return new ModelPrice
        {
            InputPerToken = Dec(e, "input_cost_per_token") ?? 0,
            OutputPerToken = Dec(e, "output_cost_per_token") ?? 0,
            CacheReadPerToken = Dec(e, "cache_read_input_token_cost"),
            CacheCreationPerToken = Dec(e, "cache_creation_input_token_cost"),
            ReasoningPerToken = Dec(e, "output_cost_per_reasoning_token"),
            InputPerTokenBatches = Dec(e, "input_cost_per_token_batches"),
            OutputPerTokenBatches = Dec(e, "output_cost_per_token_batches"),
            InputPerQuery = Dec(e, "input_cost_per_query"),
            InputPerImage = Dec(e, "input_cost_per_image"),
            OutputPerImage = Dec(e, "output_cost_per_image"),
            InputPerPixel = Dec(e, "input_cost_per_pixel"),
            InputPerImageToken = Dec(e, "input_cost_per_image_token"),
            OutputPerImageToken = Dec(e, "output_cost_per_image_token"),
            InputPerCharacter = Dec(e, "input_cost_per_character"),
            InputPerAudioToken = Dec(e, "input_cost_per_audio_token"),
            OutputPerAudioToken = Dec(e, "output_cost_per_audio_token"),
            InputPerSecond = Dec(e, "input_cost_per_second"),
            OutputPerSecond = Dec(e, "output_cost_per_second"),
            Tiers = tiers,
            MaxInputTokens = Long(e, "max_input_tokens"),
            MaxOutputTokens = Long(e, "max_output_tokens"),
            Provider = e.TryGetProperty("litellm_provider", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null,
            Mode = e.TryGetProperty("mode", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null,
            Supports = SupportFlags(e, names),
        };
    }

    /// <summary>The true <c>supports_*</c> flags; <paramref name="names"/> shares each flag's name across entries.</summary>
    private static string[] SupportFlags(JsonElement e, Dictionary<string, string> names)
    {
        List<string>? flags = null;
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.True || !p.Name.StartsWith("supports_", StringComparison.Ordinal)) continue;
            if (!names.TryGetValue(p.Name, out var name)) names[p.Name] = name = p.Name["supports_".Length..];
            (flags ??= []).Add(name);
        }
        return flags is null ? [] : [.. flags];
    }

    /// <summary>Prices are read from their JSON text into decimal, so 2.5e-06 stays exactly 0.0000025.</summary>
    private static decimal? Dec(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
        && decimal.TryParse(v.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) ? (long)d : null;
}
