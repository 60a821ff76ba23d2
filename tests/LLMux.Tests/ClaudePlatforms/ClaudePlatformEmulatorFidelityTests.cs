using System.Text.Json;
using LLMux.Emulators;

namespace LLMux.Tests.ClaudePlatforms;

/// <summary>The platform emulators refuse what Bedrock InvokeModel and Vertex refuse, so the passthrough tests can fail.</summary>
public sealed class ClaudePlatformEmulatorFidelityTests
{
    private const string Ok = """{"anthropic_version":"V","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""";

    private static string? Check(ClaudePlatformRules rules, string json)
    {
        using var doc = JsonDocument.Parse(json.Replace("\"V\"", "\"" + rules.AnthropicVersion + "\"", StringComparison.Ordinal));
        return rules.Check(doc.RootElement);
    }

    public static IEnumerable<object[]> Platforms() => [["bedrock"], ["vertex"]];

    private static ClaudePlatformRules Rules(string platform) => platform == "bedrock" ? ClaudePlatformRules.Bedrock : ClaudePlatformRules.Vertex;

    [Theory]
    [MemberData(nameof(Platforms))]
    public void A_well_formed_body_is_accepted(string platform) => Assert.Null(Check(Rules(platform), Ok));

    [Theory]
    [MemberData(nameof(Platforms))]
    public void Model_in_the_body_is_refused(string platform) =>
        Assert.Contains("extraneous key [model]", Check(Rules(platform), Ok.Replace("{", "{\"model\":\"claude\",", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(Platforms))]
    public void A_wrong_or_missing_anthropic_version_is_refused(string platform)
    {
        Assert.NotNull(Check(Rules(platform), Ok.Replace("\"V\"", "\"2023-06-01\"", StringComparison.Ordinal)));
        Assert.NotNull(Check(Rules(platform), """{"max_tokens":10,"messages":[]}"""));
    }

    [Theory]
    [MemberData(nameof(Platforms))]
    public void Betas_the_platform_lacks_are_invalid_beta_flags(string platform)
    {
        Assert.Equal("invalid beta flag", Check(Rules(platform), Ok.Replace("{", "{\"anthropic_beta\":[\"claude-code-20250219\"],", StringComparison.Ordinal)));
        Assert.Equal("invalid beta flag", Check(Rules(platform), Ok.Replace("{", "{\"anthropic_beta\":[\"advanced-tool-use-2025-11-20\"],", StringComparison.Ordinal)));
        Assert.Null(Check(Rules(platform), Ok.Replace("{", "{\"anthropic_beta\":[\"interleaved-thinking-2025-05-14\"],", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Platforms))]
    public void Features_without_their_beta_are_refused(string platform)
    {
        Assert.NotNull(Check(Rules(platform), Ok.Replace("{", "{\"context_management\":{\"edits\":[]},", StringComparison.Ordinal)));
        Assert.NotNull(Check(Rules(platform), Ok.Replace("{", "{\"tools\":[{\"name\":\"t\",\"input_schema\":{\"type\":\"object\"},\"defer_loading\":true}],", StringComparison.Ordinal)));
        Assert.NotNull(Check(Rules(platform), Ok.Replace("{", "{\"output_config\":{\"effort\":\"low\"},", StringComparison.Ordinal)));
    }

    [Fact]
    public void Bedrock_refuses_a_stream_field_and_vertex_takes_it()
    {
        var streamed = Ok.Replace("{", "{\"stream\":true,", StringComparison.Ordinal);
        Assert.Contains("extraneous key [stream]", Check(ClaudePlatformRules.Bedrock, streamed));
        Assert.Null(Check(ClaudePlatformRules.Vertex, streamed));
    }
}
