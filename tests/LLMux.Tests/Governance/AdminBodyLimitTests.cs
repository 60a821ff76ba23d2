using System.Net;
using System.Text;

namespace LLMux.Tests.Governance;

public sealed class AdminBodyLimitTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    /// <summary>A body with no declared length that goes on past 1 MiB.</summary>
    private sealed class EndlessJson(long bytes) : HttpContent
    {
        public long Written { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync("{\"key_alias\":\""u8.ToArray());
            var chunk = Encoding.ASCII.GetBytes(new string('a', 8192));
            try
            {
                while (Written < bytes)
                {
                    await stream.WriteAsync(chunk);
                    Written += chunk.Length;
                }
                await stream.WriteAsync("\"}"u8.ToArray());
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException) { }
        }

        protected override bool TryComputeLength(out long length) { length = 0; return false; }
    }

    [Fact]
    public async Task A_chunked_admin_body_over_1_MiB_is_refused_and_nothing_is_written()
    {
        var content = new EndlessJson(8L * 1024 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/key/generate") { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + GovernanceGateway.Master);
        using var response = await _g.Host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("larger than 1 MiB", await response.Content.ReadAsStringAsync());
        var (_, list) = await _g.GetAsync("/key/list");
        Assert.Equal(0, list.GetProperty("keys").GetArrayLength());
    }

    [Fact]
    public async Task An_admin_body_declared_over_1_MiB_is_refused_before_it_is_read()
    {
        var json = "{\"key_alias\":\"" + new string('a', 1024 * 1024) + "\"}";
        var (status, body) = await _g.PostAsync("/key/generate", json);
        Assert.Equal(400, status);
        Assert.Contains("larger than 1 MiB", body.ToString());
    }
}
