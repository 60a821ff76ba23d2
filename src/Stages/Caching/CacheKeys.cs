using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;

namespace LLMux.Stages.Caching;

/// <summary>
/// Cache keys: SHA-256 over the tenant's scope, the inbound API and mode, the model group and the canonical request —
/// object members in ordinal order, every value typed and length-prefixed — leaving out the fields that cannot change
/// the answer (<see cref="Ignored"/>). Two tenants therefore never share an entry unless an admin listed the model group
/// in <see cref="CacheSettings.SharedModelGroups"/>. The key is prefixed by the configured and the request's namespace.
/// </summary>
public static class CacheKeys
{
    /// <summary>Request fields that do not change the answer: the cache's own controls, metadata, gateway knobs, routing hints, end-user ids.</summary>
    internal static readonly HashSet<string> Ignored =
    [
        "cache", "metadata", "litellm_metadata", "timeout", "stream_timeout", "request_timeout", "num_retries", "tags", "api_key", "api_base",
        "user", "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "client_metadata", "drop_params",
    ];

    /// <summary>Whose entries these are: an opted-in model group's are everyone's; else the key's team, else the key (or the master key, or anonymous when the gateway has no keys).</summary>
    public static string Scope(Caller? caller, string? modelGroup, CacheSettings settings)
    {
        if (modelGroup is not null && settings.SharedModelGroups.Contains(modelGroup)) return "shared";
        if (caller is null) return "anonymous";
        if (!caller.IsAdmin && caller.TeamId is { Length: > 0 } team) return "team:" + team;
        return caller.OwnerScope;
    }

    public static string Prefix(CacheSettings settings, string? requestNamespace)
    {
        if (settings.Namespace is null && requestNamespace is null) return "";
        return (settings.Namespace is { } n ? n + ":" : "") + (requestNamespace is { } r ? r + ":" : "");
    }

    /// <summary>The digest of everything that identifies the request, <paramref name="skip"/> (a top-level field hashed apart, such as embeddings' <c>input</c>) left out.</summary>
    public static byte[] Digest(LlmContext context, string scope, JsonElement body, string? skip = null)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Text(hash, scope);
        Text(hash, context.Mode.ToString());
        Text(hash, context.ClientProtocol.ToString());
        Text(hash, context.MessagesPassthrough ? "passthrough" : "translated");
        Text(hash, context.RequestedModel ?? "");
        // Headers that change what the provider does (anthropic-beta, anthropic-version) are part of the request.
        foreach (var (name, value) in context.ForwardHeaders) { Text(hash, name); Text(hash, value); }
        Tag(hash, (byte)'{');
        var names = new List<string>();
        foreach (var p in body.EnumerateObject())
            if (!Ignored.Contains(p.Name) && p.Name != skip && p.Value.ValueKind != JsonValueKind.Null) names.Add(p.Name);
        names.Sort(StringComparer.Ordinal);
        foreach (var name in names)
        {
            Text(hash, name);
            Value(hash, body.GetProperty(name));
        }
        return hash.GetHashAndReset();
    }

    /// <summary>The key of one item hashed on top of a request digest (an embedding input).</summary>
    public static string ItemKey(string prefix, byte[] digest, JsonElement item)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(digest);
        Value(hash, item);
        return prefix + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static string Key(string prefix, byte[] digest) => prefix + Convert.ToHexStringLower(digest);

    private static void Value(IncrementalHash hash, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                Tag(hash, (byte)'{');
                var names = new List<string>();
                foreach (var p in e.EnumerateObject()) names.Add(p.Name);
                names.Sort(StringComparer.Ordinal);
                Length(hash, names.Count);
                foreach (var name in names)
                {
                    Text(hash, name);
                    Value(hash, e.GetProperty(name));
                }
                break;
            case JsonValueKind.Array:
                Tag(hash, (byte)'[');
                Length(hash, e.GetArrayLength());
                foreach (var item in e.EnumerateArray()) Value(hash, item);
                break;
            case JsonValueKind.String:
                Tag(hash, (byte)'"');
                Text(hash, e.GetString()!);
                break;
            case JsonValueKind.Number:
                Tag(hash, (byte)'#');
                Text(hash, e.GetRawText());
                break;
            case JsonValueKind.True: Tag(hash, (byte)'t'); break;
            case JsonValueKind.False: Tag(hash, (byte)'f'); break;
            default: Tag(hash, (byte)'n'); break;
        }
    }

    private static void Tag(IncrementalHash hash, byte tag) => hash.AppendData([tag]);

    private static void Length(IncrementalHash hash, int n)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, n);
        hash.AppendData(b);
    }

    private static void Text(IncrementalHash hash, string s)
    {
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        var rented = max <= 512 ? null : ArrayPool<byte>.Shared.Rent(max);
        Span<byte> buffer = rented ?? stackalloc byte[512];
        try
        {
            var n = Encoding.UTF8.GetBytes(s, buffer);
            Length(hash, n);
            hash.AppendData(buffer[..n]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
