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

    public static List<JsonElement> Json(string body)
    {
        var list = new List<JsonElement>();
        foreach (var d in Data(body))
            if (d != "[DONE]") list.Add(JsonDocument.Parse(d).RootElement.Clone());
        return list;
    }
}
