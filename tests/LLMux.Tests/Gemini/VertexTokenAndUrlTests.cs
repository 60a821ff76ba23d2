using LLMux.Emulators;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Gemini;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Gemini;

/// <summary>Service-account tokens over a fake clock, and the URLs each provider builds.</summary>
public sealed class VertexTokenAndUrlTests
{
    [Fact]
    public async Task A_token_is_reused_until_shortly_before_it_expires_then_fetched_again()
    {
        await using var emulator = await GeminiEmulator.StartNewAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var http = new HttpMessageInvoker(new SocketsHttpHandler());
        using var source = new ServiceAccountTokenSource(VertexCredentials.Load(emulator.ServiceAccountJson, "test"), http, time, "test");

        var first = await source.GetTokenAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(54));
        Assert.Equal(first, await source.GetTokenAsync(CancellationToken.None));
        Assert.Equal(1, emulator.TokensIssued);

        time.Advance(TimeSpan.FromMinutes(2)); // 56 min: inside the 5-minute refresh margin of a 60-minute token
        var second = await source.GetTokenAsync(CancellationToken.None);
        Assert.NotEqual(first, second);
        Assert.Equal(2, emulator.TokensIssued);

        source.Invalidate(first); // an old token: the newer one stays
        Assert.Equal(second, await source.GetTokenAsync(CancellationToken.None));
        source.Invalidate(second);
        Assert.NotEqual(second, await source.GetTokenAsync(CancellationToken.None));
        Assert.Equal(3, emulator.TokensIssued);
    }

    [Fact]
    public async Task Concurrent_callers_share_one_token_fetch()
    {
        await using var emulator = await GeminiEmulator.StartNewAsync();
        using var http = new HttpMessageInvoker(new SocketsHttpHandler());
        using var source = new ServiceAccountTokenSource(VertexCredentials.Load(emulator.ServiceAccountJson, "test"), http, TimeProvider.System, "test");
        var tokens = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => source.GetTokenAsync(CancellationToken.None).AsTask()));
        Assert.Single(tokens.Distinct());
        Assert.Equal(1, emulator.TokensIssued);
    }

    [Theory]
    [InlineData("""{"type":"authorized_user","client_id":"x"}""", "authorized_user")]
    [InlineData("""{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"}""", "client_email")]
    [InlineData("""{"type":"service_account","client_email":"a@b"}""", "private_key")]
    [InlineData("{not json", "not valid JSON")]
    public void Unusable_credentials_are_auth_errors_that_say_why(string json, string why)
    {
        var ex = Assert.Throws<LlmException>(() => VertexCredentials.Load(json, "litellm_params.vertex_credentials"));
        Assert.Equal(ErrorKind.Auth, ex.Error.Kind);
        Assert.Contains("vertex_credentials", ex.Error.Message);
        Assert.Contains(why, ex.Error.Message);
    }

    [Theory]
    [InlineData("gemini-2.5-pro", "europe-west4", "https://europe-west4-aiplatform.googleapis.com/v1/projects/proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent")]
    [InlineData("gemini-2.5-pro", "global", "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/publishers/google/models/gemini-2.5-pro:generateContent")]
    [InlineData("1234567890", "us-east1", "https://us-east1-aiplatform.googleapis.com/v1/projects/proj/locations/us-east1/endpoints/1234567890:generateContent")]
    public void Vertex_urls_are_built_from_project_and_location(string model, string location, string expected)
    {
        var deployment = GeminiTestContext.Deployment(model, vertex: true, settings: new Dictionary<string, string> { ["vertex_project"] = "proj", ["vertex_location"] = location });
        var provider = new VertexProvider();
        Assert.Equal(expected, provider.BuildUrl(deployment, model, "generateContent"));
        provider.Dispose();
    }

    [Fact]
    public void Vertex_api_base_is_the_model_resource_and_the_method_is_appended()
    {
        var deployment = GeminiTestContext.Deployment("gemini-2.5-pro", vertex: true, apiBase: "https://proxy.example/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro/");
        using var provider = new VertexProvider();
        Assert.Equal("https://proxy.example/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:streamGenerateContent", provider.BuildUrl(deployment, "gemini-2.5-pro", "streamGenerateContent"));
    }

    [Theory]
    [InlineData("gemini-2.5-flash", null, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")]
    [InlineData("gemini-3-pro-preview", null, "https://generativelanguage.googleapis.com/v1alpha/models/gemini-3-pro-preview:generateContent")]
    [InlineData("gemini-2.5-flash", "https://gw.example/google/v1beta/", "https://gw.example/google/v1beta/models/gemini-2.5-flash:generateContent")]
    public void Gemini_urls_put_the_model_under_the_api_base(string model, string? apiBase, string expected)
    {
        if (apiBase is null && Environment.GetEnvironmentVariable("GEMINI_API_BASE") is not null) return;
        var deployment = GeminiTestContext.Deployment(model, vertex: false, apiBase: apiBase);
        Assert.Equal(expected, new GeminiProvider().BuildUrl(deployment, model, "generateContent"));
    }
}
