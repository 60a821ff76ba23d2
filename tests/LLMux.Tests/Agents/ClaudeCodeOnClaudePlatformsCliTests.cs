using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;

namespace LLMux.Tests.Agents;

/// <summary>
/// The real Claude Code CLI (<c>claude -p</c>) through LLMux onto the platforms that serve Claude with an
/// Anthropic body: Anthropic itself, Bedrock InvokeModel and Vertex AI's rawPredict. All are passthrough, so Claude Code's own
/// fields and betas reach an emulator that refuses what the real platform refuses; the CLI must still finish a
/// Bash tool round trip, and the thinking block's signature must come back on the next turn.
/// </summary>
public sealed class ClaudeCodeOnClaudePlatformsCliTests : IAsyncLifetime
{
    private const string Prompt = "Run cat hello.txt and tell me what it says";
    private const string BashCall = """{"command":"cat hello.txt","description":"Show hello.txt"}""";
    private const string FinalAnswer = "The file says the secret word.";
    private const string VertexModel = "claude-sonnet-4-5@20250929";

    private AnthropicEmulator _anthropic = null!;
    private BedrockEmulator _bedrock = null!;
    private VertexClaudeEmulator _vertex = null!;
    private GatewayHost _gateway = null!;
    private string _credentials = null!;

    public async Task InitializeAsync()
    {
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _vertex = await VertexClaudeEmulator.StartNewAsync();
        _credentials = Path.Combine(Path.GetTempPath(), $"llmux-cc-cli-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentials, _vertex.ServiceAccountJson);
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: claude-sonnet-4-5
                litellm_params:
                  model: anthropic/claude-sonnet-4-5-20250929
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant-upstream
              - model_name: claude-bedrock-invoke
                litellm_params:
                  model: bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
              - model_name: claude-vertex
                litellm_params:
                  model: vertex_ai/{VertexModel}
                  api_base: {_vertex.ApiBase(VertexModel, "global")}
                  vertex_credentials: {_credentials}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _bedrock.DisposeAsync();
        await _vertex.DisposeAsync();
        File.Delete(_credentials);
    }

    private AgentCli Claude(out string secret)
    {
        var cli = AgentCli.Require("claude", "claude");
        secret = "llmux-" + Guid.NewGuid().ToString("N")[..12];
        File.WriteAllText(Path.Combine(cli.WorkDir, "hello.txt"), secret + "\n");
        cli.Environment["ANTHROPIC_BASE_URL"] = _gateway.Root.ToString().TrimEnd('/');
        cli.Environment["ANTHROPIC_API_KEY"] = AnthropicSdk.MasterKey;
        cli.Environment["DISABLE_TELEMETRY"] = "1";
        cli.Environment["DISABLE_AUTOUPDATER"] = "1";
        cli.Environment["DISABLE_ERROR_REPORTING"] = "1";
        cli.Environment["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
        cli.Environment["MAX_THINKING_TOKENS"] = "4000";
        return cli;
    }

    private static string[] Args(string model) => ["-p", Prompt, "--model", model, "--allowedTools", "Bash(cat:*)"];

    private static AnthropicScript ToolTurn => new()
    {
        Text = null,
        Thinking = "I will read the file.",
        Signature = "EqQBCgIYAhIMclaudecodecliSignature",
        ToolCalls = [("toolu_01cli", "Bash", BashCall)],
    };

    /// <summary>The last Anthropic body sent upstream carries the signed thinking, the tool_use and the tool's output.</summary>
    private static void AssertRoundTrip(JsonElement body, string secret)
    {
        var blocks = body.GetProperty("messages").EnumerateArray()
            .Where(static m => m.GetProperty("content").ValueKind == JsonValueKind.Array)
            .SelectMany(static m => m.GetProperty("content").EnumerateArray()).ToList();
        Assert.Contains(blocks, static b => b.GetProperty("type").GetString() == "thinking" && b.GetProperty("signature").GetString() == "EqQBCgIYAhIMclaudecodecliSignature");
        Assert.Contains(blocks, static b => b.GetProperty("type").GetString() == "tool_use" && b.GetProperty("id").GetString() == "toolu_01cli");
        var result = blocks.Single(static b => b.GetProperty("type").GetString() == "tool_result");
        Assert.Equal("toolu_01cli", result.GetProperty("tool_use_id").GetString());
        Assert.Contains(secret, result.GetProperty("content").ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Claude_Code_completes_a_tool_round_trip_on_Bedrock_InvokeModel()
    {
        using var cli = Claude(out var secret);
        _bedrock.Enqueue(new BedrockScript { Claude = ToolTurn });
        _bedrock.Enqueue(new BedrockScript { Claude = new AnthropicScript { Text = FinalAnswer } });

        var run = await cli.RunAsync(Args("claude-bedrock-invoke"), TimeSpan.FromSeconds(120));

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(FinalAnswer, run.Stdout, StringComparison.Ordinal);
        var requests = _bedrock.Requests.Where(static r => r.Path.Contains("/invoke", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        using var last = requests[^1].Json();
        Assert.Equal("bedrock-2023-05-31", last.RootElement.GetProperty("anthropic_version").GetString());
        Assert.False(last.RootElement.TryGetProperty("model", out _));
        AssertRoundTrip(last.RootElement, secret);
    }

    [SkippableFact]
    public async Task Claude_Code_completes_a_tool_round_trip_on_Vertex_Claude()
    {
        using var cli = Claude(out var secret);
        _vertex.Enqueue(new VertexClaudeScript { Claude = ToolTurn });
        _vertex.Enqueue(new VertexClaudeScript { Claude = new AnthropicScript { Text = FinalAnswer } });

        var run = await cli.RunAsync(Args("claude-vertex"), TimeSpan.FromSeconds(120));

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(FinalAnswer, run.Stdout, StringComparison.Ordinal);
        var requests = _vertex.ModelRequests.Where(static r => r.Path.Contains("rawPredict", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        using var last = requests[^1].Json();
        Assert.Equal("vertex-2023-10-16", last.RootElement.GetProperty("anthropic_version").GetString());
        Assert.False(last.RootElement.TryGetProperty("model", out _));
        AssertRoundTrip(last.RootElement, secret);
    }

    [SkippableFact]
    public async Task Claude_Code_completes_a_tool_round_trip_on_Anthropic()
    {
        using var cli = Claude(out var secret);
        _anthropic.Enqueue(ToolTurn);
        _anthropic.Enqueue(new AnthropicScript { Text = FinalAnswer });

        var run = await cli.RunAsync(Args("claude-sonnet-4-5"), TimeSpan.FromSeconds(120));

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(FinalAnswer, run.Stdout, StringComparison.Ordinal);
        var requests = _anthropic.Requests.Where(static r => r.Path.EndsWith("/v1/messages", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        // Passthrough: Claude Code's own fields and betas reach Anthropic as the CLI sent them, model rewritten.
        using var last = requests[^1].Json();
        Assert.Equal("claude-sonnet-4-5-20250929", last.RootElement.GetProperty("model").GetString());
        Assert.True(last.RootElement.TryGetProperty("context_management", out _));
        Assert.Contains("claude-code-20250219", requests[^1].Headers["anthropic-beta"], StringComparison.Ordinal);
        AssertRoundTrip(last.RootElement, secret);
    }
}
