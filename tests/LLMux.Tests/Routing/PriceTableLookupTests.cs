using LLMux.Stages.Accounting;

namespace LLMux.Tests.Routing;

/// <summary>The price table's key order (provider/model, bare id, id after its last slash, Bedrock region prefix), looked up without key strings.</summary>
public sealed class PriceTableLookupTests
{
    private static readonly PriceTable Table = new(new Dictionary<string, ModelPrice>
    {
        ["openai/gpt-x"] = new() { InputPerToken = 1 },
        ["gpt-x"] = new() { InputPerToken = 2 },
        ["mistral-small"] = new() { InputPerToken = 3 },
        ["anthropic.claude-z"] = new() { InputPerToken = 4 },
    });

    [Theory]
    [InlineData("openai", "gpt-x", 1)]
    [InlineData("OpenAI", "GPT-X", 1)]
    [InlineData("azure", "gpt-x", 2)]
    [InlineData("openrouter", "mistralai/mistral-small", 3)]
    [InlineData("bedrock", "us.anthropic.claude-z", 4)]
    public void Finds_the_first_matching_key(string provider, string model, int price) =>
        Assert.Equal(price, Table.Find(provider, model)!.InputPerToken);

    [Fact]
    public void A_very_long_name_still_finds_its_provider_key()
    {
        var model = new string('m', 300);
        var table = new PriceTable(new Dictionary<string, ModelPrice> { ["p/" + model] = new() { InputPerToken = 7 } });
        Assert.Equal(7, table.Find("p", model)!.InputPerToken);
        Assert.Null(table.Find("q", model));
    }
}
