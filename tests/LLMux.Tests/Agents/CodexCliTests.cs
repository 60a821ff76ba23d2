using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Agents;

/// <summary>
/// The real Codex CLI (<c>codex exec</c>, pinned in tests/agents/codex), which speaks only the Responses API,
/// pointed at LLMux through a model provider in its <c>config.toml</c>. Each backend's emulator asks for an
/// <c>exec_command</c> call; the CLI runs it on a file in its working directory, sends the output back as a
/// <c>function_call_output</c>, and prints the model's final answer. OpenAI is reached natively (the body and
/// the Responses events pass through); every other backend is bridged: LLMux turns the Responses request into
/// the provider's own API and the provider's answer into Responses events.
/// </summary>
public sealed class CodexCliTests : IAsyncLifetime
{
    private const string MasterKey = "sk-llmux-codex-test";
    private const string Prompt = "Run cat hello.txt and tell me what it says";
    private const string ExecCall = """{"cmd":"cat hello.txt"}""";
    private const string FinalAnswer = "The file says the secret word.";

    private OpenAIEmulator _chatOnly = null!;
    private AnthropicEmulator _anthropic = null!;
    private GeminiEmulator _gemini = null!;
    private BedrockEmulator _bedrock = null!;
    private OpenAIResponsesEmulator _openai = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _chatOnly = await OpenAIEmulator.StartNewAsync();
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _gemini = await GeminiEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _openai = await OpenAIResponsesEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: qwen-coder
                litellm_params:
                  model: hosted_vllm/Qwen/Qwen2.5-Coder-32B-Instruct
                  api_base: {_chatOnly.ApiBase}
              - model_name: claude-sonnet-4-5
                litellm_params:
                  model: anthropic/claude-sonnet-4-5-20250929
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant-upstream
              - model_name: gemini-2.5-pro
                litellm_params:
                  model: gemini/gemini-2.5-pro
                  api_base: {_gemini.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: bedrock-claude
                litellm_params:
                  model: bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
              - model_name: gpt-5-codex
                litellm_params:
                  model: openai/gpt-5-codex
                  api_base: {_openai.ApiBase}
                  api_key: sk-openai-upstream
                  responses_api: native   # an api_base that is not api.openai.com is bridged unless told otherwise
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _chatOnly.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _gemini.DisposeAsync();
        await _bedrock.DisposeAsync();
        await _openai.DisposeAsync();
    }

    /// <summary>Codex with a throwaway CODEX_HOME whose only model provider is the gateway.</summary>
    private AgentCli Codex(out string secret)
    {
        var cli = AgentCli.Require("codex", "codex");
        secret = "llmux-" + Guid.NewGuid().ToString("N")[..12];
        File.WriteAllText(Path.Combine(cli.WorkDir, "hello.txt"), secret + "\n");
        var codexHome = Directory.CreateDirectory(Path.Combine(cli.Home, ".codex")).FullName;
        File.WriteAllText(Path.Combine(codexHome, "config.toml"), $"""
            model_provider = "llmux"
            approval_policy = "never"
            sandbox_mode = "danger-full-access"

            [model_providers.llmux]
            name = "LLMux"
            base_url = "{_gateway.Root.ToString().TrimEnd('/')}/v1"
            wire_api = "responses"
            env_key = "LLMUX_API_KEY"
            request_max_retries = 0
            stream_max_retries = 0
            """);
        cli.Environment["CODEX_HOME"] = codexHome;
        cli.Environment["LLMUX_API_KEY"] = MasterKey;
        return cli;
    }

    private static string[] Args(string model) => ["exec", "--skip-git-repo-check", "-m", model, Prompt];

    private static void AssertCompleted(AgentRun run)
    {
        Assert.False(run.TimedOut, run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(FinalAnswer, run.Stdout, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Codex_completes_a_tool_round_trip_on_a_chat_only_provider()
    {
        using var cli = Codex(out var secret);
        _chatOnly.Enqueue(new OpenAIScript { ToolCall = ("exec_command", ExecCall) });
        _chatOnly.Enqueue(new OpenAIScript { Content = FinalAnswer });

        var run = await cli.RunAsync(Args("qwen-coder"), TimeSpan.FromSeconds(120));

        AssertCompleted(run);
        var requests = _chatOnly.Requests.Where(static r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        using var first = requests[0].Json();
        Assert.Equal("Qwen/Qwen2.5-Coder-32B-Instruct", first.RootElement.GetProperty("model").GetString());
        // Codex's function tools reach the chat provider as nested chat tools.
        Assert.Contains(first.RootElement.GetProperty("tools").EnumerateArray(),
            static t => t.GetProperty("function").GetProperty("name").GetString() == "exec_command");
        // The command's output came back as a tool message answering the call.
        using var last = requests[^1].Json();
        var messages = last.RootElement.GetProperty("messages").EnumerateArray().ToList();
        var call = messages.Single(static m => m.GetProperty("role").GetString() == "assistant" && m.TryGetProperty("tool_calls", out _));
        var callId = call.GetProperty("tool_calls")[0].GetProperty("id").GetString();
        var tool = messages.Single(static m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal(callId, tool.GetProperty("tool_call_id").GetString());
        Assert.Contains(secret, tool.GetProperty("content").ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Codex_completes_a_tool_round_trip_on_Anthropic()
    {
        using var cli = Codex(out var secret);
        _anthropic.Enqueue(new AnthropicScript { Text = null, Thinking = "I should read the file.", ToolCalls = [("toolu_01codex", "exec_command", ExecCall)] });
        _anthropic.Enqueue(new AnthropicScript { Text = FinalAnswer });

        var run = await cli.RunAsync(Args("claude-sonnet-4-5"), TimeSpan.FromSeconds(120));

        AssertCompleted(run);
        var requests = _anthropic.Requests.Where(static r => r.Path.EndsWith("/v1/messages", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        using var last = requests[^1].Json();
        var blocks = last.RootElement.GetProperty("messages").EnumerateArray()
            .Where(static m => m.GetProperty("content").ValueKind == JsonValueKind.Array)
            .SelectMany(static m => m.GetProperty("content").EnumerateArray()).ToList();
        var use = blocks.Single(static b => b.GetProperty("type").GetString() == "tool_use");
        Assert.Equal("toolu_01codex", use.GetProperty("id").GetString());
        var result = blocks.Single(static b => b.GetProperty("type").GetString() == "tool_result");
        Assert.Equal("toolu_01codex", result.GetProperty("tool_use_id").GetString());
        Assert.Contains(secret, result.GetProperty("content").ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Codex_completes_a_tool_round_trip_on_Gemini()
    {
        using var cli = Codex(out var secret);
        _gemini.Enqueue(new GeminiScript { FunctionCalls = [("exec_command", ExecCall)] });
        _gemini.Enqueue(new GeminiScript { Text = FinalAnswer });

        var run = await cli.RunAsync(Args("gemini-2.5-pro"), TimeSpan.FromSeconds(120));

        AssertCompleted(run);
        var requests = _gemini.Requests.Where(static r => r.Path.Contains("generateContent", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        // The call and its output went back to Gemini as a function call part and a function response part
        // (the proto JSON names, camelCase or snake_case, are both Gemini's wire format).
        using var last = requests[^1].Json();
        var parts = last.RootElement.GetProperty("contents").EnumerateArray()
            .SelectMany(static c => c.GetProperty("parts").EnumerateArray()).ToList();
        var call = parts.Single(static p => Part(p, "functionCall", "function_call") is not null);
        Assert.Equal("exec_command", Part(call, "functionCall", "function_call")!.Value.GetProperty("name").GetString());
        var response = parts.Single(static p => Part(p, "functionResponse", "function_response") is not null);
        Assert.Contains(secret, Part(response, "functionResponse", "function_response")!.Value.GetProperty("response").ToString(), StringComparison.Ordinal);
    }

    private static JsonElement? Part(JsonElement part, string camel, string snake) =>
        part.TryGetProperty(camel, out var v) || part.TryGetProperty(snake, out v) ? v : null;

    [SkippableFact]
    public async Task Codex_completes_a_tool_round_trip_on_Bedrock_Converse()
    {
        using var cli = Codex(out var secret);
        _bedrock.Enqueue(new BedrockScript { ToolCall = ("exec_command", ExecCall) });
        _bedrock.Enqueue(new BedrockScript { Content = FinalAnswer });

        var run = await cli.RunAsync(Args("bedrock-claude"), TimeSpan.FromSeconds(120));

        AssertCompleted(run);
        var requests = _bedrock.Requests.Where(static r => r.Path.Contains("/converse", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        var first = requests[0].BodyText;
        Assert.Contains("\"toolSpec\"", first, StringComparison.Ordinal);
        var last = requests[^1].BodyText;
        Assert.Contains("\"toolUse\"", last, StringComparison.Ordinal);
        Assert.Contains("\"toolResult\"", last, StringComparison.Ordinal);
        Assert.Contains(secret, last, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Codex_completes_a_tool_round_trip_natively_on_OpenAI()
    {
        using var cli = Codex(out var secret);
        _openai.Enqueue(new OpenAIResponsesScript { Reasoning = ("Reading the file.", "gAAAAB-opaque-state"), ToolCall = ("exec_command", ExecCall) });
        _openai.Enqueue(new OpenAIResponsesScript { Content = FinalAnswer });

        var run = await cli.RunAsync(Args("gpt-5-codex"), TimeSpan.FromSeconds(120));

        AssertCompleted(run);
        var requests = _openai.Requests.Where(static r => r.Path.EndsWith("/responses", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count >= 2, run.ToString());
        Assert.DoesNotContain(_openai.Requests, static r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal));
        // Passthrough: Codex's own fields reach OpenAI untouched, only the model is the deployment's.
        using var first = requests[0].Json();
        Assert.Equal("gpt-5-codex", first.RootElement.GetProperty("model").GetString());
        Assert.Equal("reasoning.encrypted_content", first.RootElement.GetProperty("include")[0].GetString());
        Assert.True(first.RootElement.TryGetProperty("prompt_cache_key", out _));
        // The turn after the call carries the reasoning state back, the call, and the command's output.
        using var last = requests[^1].Json();
        var items = last.RootElement.GetProperty("input").EnumerateArray().ToList();
        Assert.Contains(items, static i => i.GetProperty("type").GetString() == "reasoning" && i.GetProperty("encrypted_content").GetString() == "gAAAAB-opaque-state");
        var output = items.Single(static i => i.GetProperty("type").GetString() == "function_call_output");
        Assert.Contains(secret, output.GetProperty("output").ToString(), StringComparison.Ordinal);
    }
}
