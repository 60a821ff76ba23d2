using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Runtime.InteropServices;
using LLMux.Pipeline.Context;

namespace LLMux.Stages.Caching;

/// <summary>
/// Cache keys: SHA-256 over the tenant's scope, the inbound API and mode, the model group and the canonical request —
/// object members in ordinal order of their names, every value typed and length-prefixed as sent (string escapes
/// included) — leaving out the fields that cannot change
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
        // The canonical form is written into a pooled buffer and hashed once: no per-value allocation.
        using var canonical = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
        Text(canonical, scope);
        Text(canonical, context.Mode.ToString());
        Text(canonical, context.ClientProtocol.ToString());
        Text(canonical, context.MessagesPassthrough ? "passthrough" : "translated");
        Text(canonical, context.RequestedModel ?? "");
        // An end user held to a region is served from that region's deployments, or its default_model's: its answers
        // are not another caller's (nor theirs its), so the region and the stand-in model are part of the request.
        if (context.AllowedModelRegion is { } region)
        {
            Text(canonical, "region:" + region);
            Text(canonical, context.RegionDefaultModel ?? "");
        }
        // Headers that change what the provider does (anthropic-beta, anthropic-version) are part of the request.
        foreach (var (name, value) in context.ForwardHeaders) { Text(canonical, name); Text(canonical, value); }
        Object(canonical, body, top: true, skip);
        return SHA256.HashData(canonical.Span);
    }

    /// <summary>The key of one item hashed on top of a request digest (an embedding input).</summary>
    public static string ItemKey(string prefix, byte[] digest, JsonElement item)
    {
        using var canonical = new PooledBuffer(512);
        canonical.Write(digest);
        Value(canonical, item);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(canonical.Span, hash);
        return prefix + Convert.ToHexStringLower(hash);
    }

    public static string Key(string prefix, byte[] digest) => prefix + Convert.ToHexStringLower(digest);

    private static readonly Comparer<JsonProperty> ByName = Comparer<JsonProperty>.Create(static (a, b) =>
        JsonMarshal.GetRawUtf8PropertyName(a).SequenceCompareTo(JsonMarshal.GetRawUtf8PropertyName(b)));

    /// <summary>An object's members in ordinal order of their (raw UTF-8) names; at the top level without the ignored fields.</summary>
    private static void Object(PooledBuffer w, JsonElement e, bool top, string? skip)
    {
        Tag(w, (byte)'{');
        var count = 0;
        foreach (var p in e.EnumerateObject()) count++;
        var members = ArrayPool<JsonProperty>.Shared.Rent(Math.Max(count, 1));
        try
        {
            var n = 0;
            foreach (var p in e.EnumerateObject())
            {
                if (top && (p.Value.ValueKind == JsonValueKind.Null || Ignored.Contains(p.Name) || p.Name == skip)) continue;
                members[n++] = p;
            }
            if (n > 1) Array.Sort(members, 0, n, ByName);
            Length(w, n);
            for (var i = 0; i < n; i++)
            {
                Raw(w, JsonMarshal.GetRawUtf8PropertyName(members[i]));
                Value(w, members[i].Value);
            }
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(members, clearArray: true);
        }
    }

    private static void Value(PooledBuffer w, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                Object(w, e, top: false, skip: null);
                break;
            case JsonValueKind.Array:
                Tag(w, (byte)'[');
                Length(w, e.GetArrayLength());
                foreach (var item in e.EnumerateArray()) Value(w, item);
                break;
            case JsonValueKind.String:
                Tag(w, (byte)'"');
                Raw(w, JsonMarshal.GetRawUtf8Value(e)); // as sent, escapes included
                break;
            case JsonValueKind.Number:
                Tag(w, (byte)'#');
                Raw(w, JsonMarshal.GetRawUtf8Value(e));
                break;
            case JsonValueKind.True: Tag(w, (byte)'t'); break;
            case JsonValueKind.False: Tag(w, (byte)'f'); break;
            default: Tag(w, (byte)'n'); break;
        }
    }

    private static void Tag(PooledBuffer w, byte tag)
    {
        w.GetSpan(1)[0] = tag;
        w.Advance(1);
    }

    private static void Length(PooledBuffer w, int n)
    {
        BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), n);
        w.Advance(4);
    }

    private static void Raw(PooledBuffer w, ReadOnlySpan<byte> bytes)
    {
        Length(w, bytes.Length);
        w.Write(bytes);
    }

    private static void Text(PooledBuffer w, string s)
    {
        var span = w.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(s.Length));
        var n = Encoding.UTF8.GetBytes(s, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, n);
        w.Advance(4 + n);
    }
}
