using System.Security.Cryptography;
using System.Text;

namespace LLMux.Stages.Messages;

/// <summary>
/// OpenAI limits function names to 64 characters; Anthropic allows longer ones (MCP tools often are). As
/// LiteLLM does, a longer name is sent as its first 55 characters, <c>_</c> and 8 hex digits of its SHA-256,
/// and the answer gets the original name back.
/// </summary>
internal static class ToolNameShortener
{
    public const int MaxLength = 64;

    public static string Shorten(string name)
    {
        if (name.Length <= MaxLength) return name;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(name));
        return string.Concat(name.AsSpan(0, 55), "_", Convert.ToHexStringLower(hash.AsSpan(0, 4)));
    }

    /// <summary>Adds <paramref name="name"/> to the restore map when it had to be shortened; returns the name to send.</summary>
    public static string Register(string name, ref Dictionary<string, string>? restore)
    {
        var shortName = Shorten(name);
        if (!ReferenceEquals(shortName, name))
        {
            restore ??= new Dictionary<string, string>(StringComparer.Ordinal);
            restore[shortName] = name;
        }
        return shortName;
    }
}
