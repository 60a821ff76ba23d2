namespace LLMux.Stages.Messages;

/// <summary>
/// Reasoning signatures carried across turns inside the Anthropic thinking block's <c>signature</c> (and a
/// redacted block's <c>data</c>). Anthropic's own stay as they are, so a conversation that moves to Anthropic
/// keeps them; every other provider's (Gemini <c>thoughtSignature</c>, Bedrock Converse <c>reasoningContent</c>
/// signatures) is tagged <c>llmux1:{provider}:{signature}</c>, sent back only to that provider, and left out
/// of the history for any other, whose model could not verify it.
/// </summary>
internal static class ReasoningSignature
{
    private const string Prefix = "llmux1:";

    /// <summary>The tag for signatures from <paramref name="provider"/>; null where the signature stays as it is (Anthropic).</summary>
    public static string? TagFor(string? provider) => provider is null or "anthropic" ? null : Prefix + provider + ":";

    /// <summary>
    /// The signature to send to <paramref name="target"/>, or null when the block must not reach it: a tagged
    /// signature only goes back to its own provider; an untagged one (Anthropic's) only to a Claude model.
    /// </summary>
    public static string? ForTarget(string signature, in MessagesTarget target)
    {
        if (!signature.StartsWith(Prefix, StringComparison.Ordinal)) return target.IsClaude ? signature : null;
        var end = signature.IndexOf(':', Prefix.Length);
        if (end < 0) return null;
        var provider = signature.AsSpan(Prefix.Length, end - Prefix.Length);
        return target.ProviderName is { } p && provider.SequenceEqual(p) ? signature[(end + 1)..] : null;
    }

    /// <summary>True when <paramref name="signature"/> was tagged by LLMux (so an Anthropic upstream would refuse it).</summary>
    public static bool IsTagged(ReadOnlySpan<char> signature) => signature.StartsWith(Prefix, StringComparison.Ordinal);
}
