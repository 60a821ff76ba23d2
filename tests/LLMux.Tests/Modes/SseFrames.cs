using System.Text.Json;

namespace LLMux.Tests.Modes;

/// <summary>The <c>data:</c> payloads of an SSE body, in order.</summary>
internal static class SseFrames
{
    public static List<string> Data(string body)
    {
        var frames = new List<string>();
        foreach (var block in body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
            foreach (var line in block.Split('\n'))
                if (line.StartsWith("data: ", StringComparison.Ordinal)) frames.Add(line[6..]);
        return frames;
    }

    /// <summary>Each frame's <c>event:</c> name (null when none) and <c>data:</c> payload, in order.</summary>
    public static List<(string? Event, string Data)> Parse(string body)
    {
        var frames = new List<(string?, string)>();
        foreach (var block in body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            string? data = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
            }
            if (data is not null) frames.Add((name, data));
        }
        return frames;
    }

    public static List<JsonElement> Json(string body)
    {
        var list = new List<JsonElement>();
        foreach (var d in Data(body))
            if (d != "[DONE]") list.Add(JsonDocument.Parse(d).RootElement.Clone());
        return list;
    }
}
