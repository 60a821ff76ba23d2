using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;

namespace LLMux.Stages.Routing;

/// <summary>
/// The part of a prompt that a session repeats on every turn (tools, the system prompt, and the first message after
/// it), hashed; and the deployment of a group that owns a hash (rendezvous hashing, so every replica agrees and a
/// deployment leaving the group moves only its own prefixes). Providers cache prompt prefixes per deployment, so
/// sending a session to the same one turns repeat prefixes into provider cache reads.
/// </summary>
internal static class PromptPrefix
{
    /// <summary>
    /// The prefix hash of an OpenAI chat, Anthropic messages or OpenAI responses body: <c>tools</c>, <c>system</c>,
    /// <c>instructions</c>, then <c>messages</c> / <c>input</c> up to and including the first item that is not a
    /// system or developer message. Null when the body has none of these (nothing to be sticky about).
    /// </summary>
    public static ulong? Hash(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        var hash = new XxHash3();
        var any = false;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isConversation = reader.ValueTextEquals("messages"u8) || reader.ValueTextEquals("input"u8);
                var isStable = !isConversation && (reader.ValueTextEquals("tools"u8) || reader.ValueTextEquals("system"u8) || reader.ValueTextEquals("instructions"u8));
                if (!isConversation && !isStable)
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                // The member's name keeps "system" apart from a first message with the same text.
                hash.Append(reader.ValueSpan);
                hash.Append([0]);
                reader.Read();
                if (isConversation && reader.TokenType == JsonTokenType.StartArray) AppendLeadingTurns(ref reader, body, hash);
                else AppendValue(ref reader, body, hash);
                hash.Append([0]);
                any = true;
            }
        }
        catch (JsonException)
        {
            // The body was parsed before routing; a reader that still fails simply gets no affinity.
            return null;
        }
        return any ? hash.GetCurrentHashAsUInt64() : null;
    }

    /// <summary>The candidate whose score for this prefix is highest; ties (never in practice) go to the first.</summary>
    public static Deployment Owner(ulong prefix, IReadOnlyList<Deployment> candidates)
    {
        var best = candidates[0];
        var bestScore = Score(prefix, best.Id);
        for (var i = 1; i < candidates.Count; i++)
        {
            var score = Score(prefix, candidates[i].Id);
            if (score > bestScore) { best = candidates[i]; bestScore = score; }
        }
        return best;
    }

    private static ulong Score(ulong prefix, string deploymentId)
    {
        var max = Encoding.UTF8.GetMaxByteCount(deploymentId.Length);
        Span<byte> id = max <= 512 ? stackalloc byte[max] : new byte[max];
        var n = Encoding.UTF8.GetBytes(deploymentId, id);
        return XxHash3.HashToUInt64(id[..n], unchecked((long)prefix));
    }

    /// <summary>Array items up to and including the first one that is not a system/developer message (or is a bare string).</summary>
    private static void AppendLeadingTurns(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, XxHash3 hash)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            var leading = reader.TokenType == JsonTokenType.StartObject && IsSystemTurn(ref reader);
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
            hash.Append(body[start..(int)reader.BytesConsumed]);
            hash.Append([0]);
            if (!leading)
            {
                // The rest of the conversation changes every turn; leave it unread.
                while (reader.TokenType != JsonTokenType.EndArray || reader.CurrentDepth != 1)
                {
                    if (!reader.Read()) return;
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                }
                return;
            }
        }
    }

    /// <summary>Looks ahead (on a copy of the reader) for the item's <c>role</c>.</summary>
    private static bool IsSystemTurn(ref Utf8JsonReader reader)
    {
        var look = reader;
        var depth = look.CurrentDepth;
        while (look.Read() && look.CurrentDepth > depth)
        {
            if (look.TokenType == JsonTokenType.PropertyName && look.CurrentDepth == depth + 1 && look.ValueTextEquals("role"u8))
            {
                look.Read();
                return look.TokenType == JsonTokenType.String && (look.ValueTextEquals("system"u8) || look.ValueTextEquals("developer"u8));
            }
            if (look.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) look.Skip();
        }
        return false;
    }

    private static void AppendValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, XxHash3 hash)
    {
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        hash.Append(body[start..(int)reader.BytesConsumed]);
    }
}
