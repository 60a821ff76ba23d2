using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace LLMux.Tests.Governance;

/// <summary>Spend rows name the call as LiteLLM's spend logs do, so admins can group spend by mode.</summary>
public sealed class SpendCallTypeTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<HttpStatusCode> PostAs(string key, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        using var response = await _g.Host.Http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Chat_messages_and_embeddings_calls_are_logged_with_their_own_call_type()
    {
        var raw = await _g.NewKeyAsync();
        Assert.Equal(HttpStatusCode.OK, await PostAs(raw, "/v1/chat/completions", new { model = "gpt-test", messages = new[] { new { role = "user", content = "hi" } } }));
        Assert.Equal(HttpStatusCode.OK, await PostAs(raw, "/v1/messages", new { model = "gpt-test", max_tokens = 16, messages = new[] { new { role = "user", content = "hi" } } }));
        Assert.Equal(HttpStatusCode.OK, await PostAs(raw, "/v1/embeddings", new { model = "gpt-test", input = "hi" }));

        var (_, logs) = await _g.GetAsync("/spend/logs?api_key=" + raw);
        for (var i = 0; i < 100 && logs.GetArrayLength() < 3; i++)
        {
            await Task.Delay(20);
            (_, logs) = await _g.GetAsync("/spend/logs?api_key=" + raw);
        }
        var types = new List<string>();
        foreach (var row in logs.EnumerateArray()) types.Add(row.GetProperty("call_type").GetString()!);
        types.Sort(StringComparer.Ordinal);
        Assert.Equal(["acompletion", "aembedding", "anthropic_messages"], types);
    }
}
