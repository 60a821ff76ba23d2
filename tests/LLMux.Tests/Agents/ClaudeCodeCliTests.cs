using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;

namespace LLMux.Tests.Agents;

/// <summary>
/// The real Claude Code CLI (<c>claude -p</c>, pinned in tests/agents/claude) pointed at LLMux with
/// <c>ANTHROPIC_BASE_URL</c>, served by a translating backend's emulator: the emulator asks for a Bash tool
/// call, the CLI runs it on a file in its working directory and sends the result back, and the final answer
/// is what the CLI prints.
/// </summary>
public sealed class ClaudeCodeCliTests : IAsyncLifetime
{
    private const string Prompt = "Run cat hello.txt and tell me what it says";
    private const string BashCall = """{"command":"cat hello.txt","description":"Show hello.txt"}""";

    private OpenAIEmulator _openai = null!;
    private BedrockEmulator _bedrock = null!;
    private GeminiEmulator _gemini = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _openai = await OpenAIEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _gemini = await GeminiEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: claude-sonnet-4-5-20250929
                litellm_params:
                  model: bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
              - model_name: gpt-4o-mini
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_openai.ApiBase}
                  api_key: sk-upstream
              - model_name: gemini-2.5-flash
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_gemini.GeminiApiBase}
                  api_key: gemini-test-key
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _openai.DisposeAsync();
        await _bedrock.DisposeAsync();
        await _gemini.DisposeAsync();
    }

    /// <summary>Claude Code in print mode, talking only to the gateway (no telemetry, updates or other traffic).</summary>
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
        return cli;
    }

    private static string[] Args(string model) => ["-p", Prompt, "--model", model, "--allowedTools", "Bash(cat:*)"];

    [SkippableFact]
    public async Task Claude_Code_completes_a_tool_round_trip_on_Bedrock_Converse()
    {
        using var cli = Claude(out var secret);
        _bedrock.Enqueue(new BedrockScript { Reasoning = ("I will read the file.", "c2lnLWJlZHJvY2s="), ToolCall = ("Bash", BashCall) });
        _bedrock.Enqueue(new BedrockScript { Content = "The file says the secret word." });

        var run = await cli.RunAsync(Args("claude-sonnet-4-5-20250929"), TimeSpan.FromSeconds(120));

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("The file says the secret word.", run.Stdout, StringComparison.Ordinal);
        var requests = _bedrock.Requests.Where(static r => r.Path.Contains("/converse", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        var first = requests[0].BodyText;
        Assert.Contains("\"toolSpec\"", first, StringComparison.Ordinal);
        Assert.DoesNotContain("context_management", first, StringComparison.Ordinal);
        // The CLI ran the tool: its output reached Bedrock as a toolResult, after the signed reasoning it was given.
        var last = requests[^1].BodyText;
        Assert.Contains("\"toolResult\"", last, StringComparison.Ordinal);
        Assert.Contains(secret, last, StringComparison.Ordinal);
        Assert.Contains("c2lnLWJlZHJvY2s=", last, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Claude_Code_completes_a_tool_round_trip_on_an_OpenAI_provider()
    {
        using var cli = Claude(out var secret);
        _openai.Enqueue(new OpenAIScript { ToolCall = ("Bash", BashCall) });
        _openai.Enqueue(new OpenAIScript { Content = "The file says the secret word." });

        var run = await cli.RunAsync(Args("gpt-4o-mini"), TimeSpan.FromSeconds(120));

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("The file says the secret word.", run.Stdout, StringComparison.Ordinal);
        var requests = _openai.Requests.Where(static r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        Assert.Contains("\"Bash\"", requests[0].BodyText, StringComparison.Ordinal);
        Assert.DoesNotContain("cache_control", requests[0].BodyText, StringComparison.Ordinal);
        using var last = requests[^1].Json();
        var tool = last.RootElement.GetProperty("messages").EnumerateArray().Single(static m => m.GetProperty("role").GetString() == "tool");
        Assert.Contains(secret, tool.GetProperty("content").ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Claude_Code_completes_a_tool_round_trip_on_Gemini_with_its_thought_signature()
    {
        using var cli = Claude(out var secret);
        _gemini.Enqueue(new GeminiScript { Thought = "I will read the file.", ThoughtSignature = "Z2VtaW5pLWNsaQ==", FunctionCalls = [("Bash", BashCall)] });
        _gemini.Enqueue(new GeminiScript { Text = "The file says the secret word." });

        var run = await cli.RunAsync(Args("gemini-2.5-flash"), TimeSpan.FromSeconds(120));

        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("The file says the secret word.", run.Stdout, StringComparison.Ordinal);
        var requests = _gemini.ModelRequests.ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        var last = requests[^1].BodyText;
        Assert.Contains("function_response", last, StringComparison.Ordinal);
        Assert.Contains(secret, last, StringComparison.Ordinal);
        // Claude Code kept the tagged signature in its history; Gemini got its own signature back.
        using var doc = requests[^1].Json();
        Assert.Contains(doc.RootElement.GetProperty("contents").EnumerateArray().SelectMany(static c => c.GetProperty("parts").EnumerateArray()),
            static p => p.TryGetProperty("thoughtSignature", out var sig) && sig.GetString() == "Z2VtaW5pLWNsaQ==");
    }
}
