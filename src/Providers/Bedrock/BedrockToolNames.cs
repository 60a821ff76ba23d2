using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Bedrock;

/// <summary>Bedrock tool names allow letters, digits and <c>_</c> and must start with a letter (LiteLLM's rule); answers get the client's names back.</summary>
internal static class BedrockToolNames
{
    public static string Sanitise(string name)
    {
        if (name.Length == 0) return "a";
        var clean = true;
        foreach (var c in name) if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) { clean = false; break; }
        if (clean && char.IsAsciiLetter(name[0])) return name;
        return string.Create(name.Length + (char.IsAsciiLetter(name[0]) ? 0 : 1), name, static (span, n) =>
        {
            var at = 0;
            if (!char.IsAsciiLetter(n[0])) span[at++] = 'a';
            foreach (var c in n) span[at++] = char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_';
        });
    }

    /// <summary>The client's name for a tool Bedrock answered with (the sanitised form), when it differs.</summary>
    public static string Original(ChatRequest? request, string bedrockName)
    {
        if (request?.Tools is not { Count: > 0 } tools) return bedrockName;
        foreach (var t in tools)
        {
            var name = t.Function?.Name;
            if (name is null) continue;
            if (name == bedrockName) return name;
        }
        foreach (var t in tools)
        {
            var name = t.Function?.Name;
            if (name is not null && Sanitise(name) == bedrockName) return name;
        }
        return bedrockName;
    }
}
