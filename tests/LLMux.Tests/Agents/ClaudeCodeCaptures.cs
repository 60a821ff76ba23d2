using System.Text.Json;
using System.Text.Json.Nodes;

namespace LLMux.Tests.Agents;

/// <summary>One request the real Claude Code CLI sent (tests/LLMux.Tests/Agents/captures/claude), headers and body.</summary>
internal sealed record ClaudeCodeCapture(string Name, IReadOnlyDictionary<string, string> Headers, JsonObject Body)
{
    public static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "Agents", "captures", "claude");

    /// <summary>Every capture's name (file name without .json).</summary>
    public static IEnumerable<string> Names() =>
        System.IO.Directory.GetFiles(Directory, "*.json").Select(static f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal);

    public static ClaudeCodeCapture Load(string name)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, name + ".json")))!.AsObject();
        var headers = root["headers"]!.AsObject().ToDictionary(static p => p.Key, static p => p.Value!.GetValue<string>());
        return new ClaudeCodeCapture(name, headers, root["body"]!.AsObject());
    }

    /// <summary>The body as Claude Code sent it, with <c>model</c> set to a name the test gateway serves.</summary>
    public string BodyFor(string model)
    {
        var body = Body.DeepClone().AsObject();
        body["model"] = model;
        return body.ToJsonString();
    }

    /// <summary>The Anthropic beta flags Claude Code sent with this request.</summary>
    public string Betas => Headers.TryGetValue("anthropic-beta", out var b) ? b : "";

    public bool IsAfterTool => Name.Contains("after-tool", StringComparison.Ordinal);
}
