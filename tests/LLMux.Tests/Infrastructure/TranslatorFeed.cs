using System.Buffers;
using System.Text;
using LLMux.Pipeline.Streaming;
using LLMux.Tests.Decoders;

namespace LLMux.Tests.Infrastructure;

/// <summary>Drives a stream translator the way the pump does: each read appended behind the bytes it left unconsumed.</summary>
internal static class TranslatorFeed
{
    /// <summary>Feeds <paramref name="data"/> as reads ending at each of <paramref name="cuts"/> (then the rest), and completes; returns the client text.</summary>
    public static string Run(StreamTranslator translator, byte[] data, IReadOnlyList<int> cuts)
    {
        var output = new ArrayBufferWriter<byte>();
        var start = 0;
        var buffer = ReadOnlySequence<byte>.Empty;
        foreach (var cut in cuts.Append(data.Length))
        {
            var pieces = new List<ReadOnlyMemory<byte>>();
            foreach (var m in buffer) pieces.Add(m);
            pieces.Add(data.AsMemory(start, cut - start));
            buffer = PipeLoop.Sequence(pieces);
            translator.Decode(ref buffer, output);
            start = cut;
        }
        translator.Complete(buffer, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>A stream answer's body to its end, or to where the gateway aborted it (an error after bytes were sent).</summary>
    public static async Task<string> ReadToEndOrAbortAsync(HttpResponseMessage response)
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
