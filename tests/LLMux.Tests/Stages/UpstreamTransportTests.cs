using System.Text;
using LLMux.Emulators;
using LLMux.Stages;

namespace LLMux.Tests.Stages;

/// <summary>The shared upstream transport: an answer nobody reads any more must stop at the upstream.</summary>
public sealed class UpstreamTransportTests
{
    [Fact]
    public async Task Disposing_an_unfinished_stream_closes_the_upstream_connection_instead_of_draining_it()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        // Small and quick enough that SocketsHttpHandler's default drain (1 MB within 2 s) would read it all to
        // reuse the connection, letting the upstream finish (and bill) the answer.
        upstream.Enqueue(new OpenAIScript { Content = string.Concat(Enumerable.Repeat("tok ", 40)), Chunks = 40, ChunkDelay = TimeSpan.FromMilliseconds(10) });
        using var transport = UpstreamTransport.Create();
        using var request = new HttpRequestMessage(HttpMethod.Post, upstream.ApiBase + "/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        var response = await transport.SendAsync(request, CancellationToken.None);
        var stream = await response.Content.ReadAsStreamAsync();
        var first = new byte[64];
        Assert.True(await stream.ReadAsync(first) > 0);

        // No cancellation token: the stream is only disposed, as the pump does when it stops between reads.
        await stream.DisposeAsync();
        response.Dispose();

        Assert.True(await upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(10)), "the upstream was not told the caller went away");
    }
}
