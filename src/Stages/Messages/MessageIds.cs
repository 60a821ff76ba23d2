namespace LLMux.Stages.Messages;

/// <summary>Anthropic message ids (<c>msg_...</c>).</summary>
internal static class MessageIds
{
    public static string New() => "msg_" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>Keeps an upstream id that already looks Anthropic; otherwise a fresh one.</summary>
    public static string From(string? upstreamId) =>
        upstreamId is not null && upstreamId.StartsWith("msg_", StringComparison.Ordinal) ? upstreamId : New();
}
