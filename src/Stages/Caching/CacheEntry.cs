using System.Buffers.Binary;
using System.Text;

namespace LLMux.Stages.Caching;

/// <summary>
/// One cached answer: the bytes the pipeline produced (a JSON body, a stream's frames as the provider translator wrote
/// them, or one embedding's value), when it was stored, and the cost it had (counted as saved on a hit). A store
/// keeps it as one byte string (<see cref="Serialize"/>), so any byte-valued store (Redis) can hold it.
/// </summary>
public sealed class CacheEntry(byte[] payload, DateTimeOffset storedAt, bool stream, decimal? cost, string? model)
{
    private const byte Version = 1;

    public byte[] Payload { get; } = payload;
    public DateTimeOffset StoredAt { get; } = storedAt;
    public bool Stream { get; } = stream;
    public decimal? Cost { get; } = cost;
    /// <summary>The answering model, where the payload alone does not say it (an embedding).</summary>
    public string? Model { get; } = model;

    public long Size => Payload.Length + (Model?.Length ?? 0) + 64;

    /// <summary>version · flags · stored-at (unix ms) · cost (decimal bits) · model length · model UTF-8 · payload.</summary>
    public byte[] Serialize()
    {
        var model = Model is null ? [] : Encoding.UTF8.GetBytes(Model);
        var bytes = new byte[1 + 1 + 8 + 16 + 4 + model.Length + Payload.Length];
        bytes[0] = Version;
        bytes[1] = (byte)((Stream ? 1 : 0) | (Cost is null ? 0 : 2));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), StoredAt.ToUnixTimeMilliseconds());
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(Cost ?? 0m, bits);
        for (var i = 0; i < 4; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10 + 4 * i), bits[i]);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(26), model.Length);
        model.CopyTo(bytes.AsSpan(30));
        Payload.CopyTo(bytes.AsSpan(30 + model.Length));
        return bytes;
    }

    /// <summary>The entry, or null when the bytes are not one this version wrote (treated as a miss).</summary>
    public static CacheEntry? Deserialize(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 30 || bytes[0] != Version) return null;
        var flags = bytes[1];
        var storedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(bytes[2..]));
        Span<int> bits = stackalloc int[4];
        for (var i = 0; i < 4; i++) bits[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(10 + 4 * i)..]);
        decimal? cost = (flags & 2) != 0 ? new decimal(bits) : null;
        var modelLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[26..]);
        if (modelLength < 0 || 30 + modelLength > bytes.Length) return null;
        var model = modelLength == 0 ? null : Encoding.UTF8.GetString(bytes.Slice(30, modelLength));
        return new CacheEntry(bytes[(30 + modelLength)..].ToArray(), storedAt, (flags & 1) != 0, cost, model);
    }
}
