using Anthropic;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Messages;

/// <summary>The official Anthropic .NET SDK pointed at a gateway's root with its master key, retries off.</summary>
internal static class AnthropicSdk
{
    public const string MasterKey = "sk-llmux-master";

    public static AnthropicClient For(GatewayHost gateway, string key = MasterKey) => new()
    {
        BaseUrl = gateway.Root.ToString().TrimEnd('/'),
        ApiKey = key,
        MaxRetries = 0,
        Timeout = TimeSpan.FromSeconds(30),
    };
}
