using System.Buffers.Binary;
using System.ClientModel;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Host;
using LLMux.Tests.Infrastructure;
using OpenAI.Audio;
using OpenAI.Images;
using OpenAI.Moderations;

namespace LLMux.Tests.Modes;

/// <summary>
/// The gateway with no config at all (`dotnet run --project src/Host`): its built-in mock answers every mode, so a new
/// user can try each endpoint with the official SDKs and no key.
/// </summary>
public sealed class BuiltInMockModesTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions { Port = 0 }));
    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Images_are_real_pngs_of_the_size_asked_for()
    {
        ClientResult<GeneratedImageCollection> result = await _gateway.OpenAI().GetImageClient("mock-image")
            .GenerateImagesAsync("a lighthouse", 2, new ImageGenerationOptions { Size = GeneratedImageSize.W256xH256, ResponseFormat = GeneratedImageFormat.Bytes });
        Assert.Equal(2, result.Value.Count);
        foreach (var image in result.Value) AssertPng(image.ImageBytes.ToArray(), 256, 256);
        Assert.Equal("a lighthouse", result.Value[0].RevisedPrompt);
    }

    [Fact]
    public async Task An_image_edit_is_answered_from_the_upload()
    {
        var png = new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0 };
        ClientResult<GeneratedImage> result = await _gateway.OpenAI().GetImageClient("mock-image")
            .GenerateImageEditAsync(new MemoryStream(png), "in.png", "make it blue", new ImageEditOptions { Size = GeneratedImageSize.W512xH512, ResponseFormat = GeneratedImageFormat.Bytes });
        AssertPng(result.Value.ImageBytes.ToArray(), 512, 512);
    }

    [Fact]
    public async Task Speech_is_a_playable_wav_whose_length_follows_the_text()
    {
        var audio = _gateway.OpenAI().GetAudioClient("mock-tts");
        var wavOptions = new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav };
        ClientResult<BinaryData> shortOne = await audio.GenerateSpeechAsync("one two three", GeneratedSpeechVoice.Alloy, wavOptions);
        ClientResult<BinaryData> longOne = await audio.GenerateSpeechAsync("one two three four five six seven eight nine", GeneratedSpeechVoice.Alloy, wavOptions);
        Assert.True(shortOne.GetRawResponse().Headers.TryGetValue("Content-Type", out var type));
        Assert.Equal("audio/wav", type);

        var wav = shortOne.Value.ToArray();
        Assert.Equal("RIFF", Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Equal("WAVE", Encoding.ASCII.GetString(wav, 8, 4));
        Assert.Equal(wav.Length - 8, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(4)));
        Assert.Equal(1, BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(20)));      // PCM
        Assert.Equal(24_000, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(24)));
        var data = BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(40));
        Assert.Equal(wav.Length - 44, data);
        Assert.Equal(24_000 * 2, data);                                                 // three words: one second
        Assert.Equal(3 * 24_000 * 2 + 44, longOne.Value.ToArray().Length);              // nine words: three seconds
        Assert.Contains(wav.Skip(44), static b => b != 0);                              // a tone, not silence
    }

    [Fact]
    public async Task Mp3_speech_is_a_sequence_of_mpeg_frames()
    {
        ClientResult<BinaryData> result = await _gateway.OpenAI().GetAudioClient("mock-tts").GenerateSpeechAsync("hello there", GeneratedSpeechVoice.Nova);
        Assert.True(result.GetRawResponse().Headers.TryGetValue("Content-Type", out var type));
        Assert.Equal("audio/mpeg", type);
        var mp3 = result.Value.ToArray();
        Assert.True(mp3.Length >= 417 && mp3.Length % 417 == 0, $"{mp3.Length} bytes is not a whole number of 417-byte frames");
        for (var o = 0; o < mp3.Length; o += 417)
        {
            // Frame sync, MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono.
            Assert.Equal(0xFF, mp3[o]);
            Assert.Equal(0xFB, mp3[o + 1]);
            Assert.Equal(0x90, mp3[o + 2]);
            Assert.Equal(0xC0, mp3[o + 3]);
        }
    }

    [Fact]
    public async Task A_format_the_mock_cannot_make_is_a_clear_400()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => _gateway.OpenAI().GetAudioClient("mock-tts")
            .GenerateSpeechAsync("hi", GeneratedSpeechVoice.Alloy, new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Opus }));
        Assert.Equal(400, ex.Status);
        Assert.Contains("mp3, wav and pcm", ex.Message);
    }

    [Fact]
    public async Task Transcripts_name_the_upload_in_each_format()
    {
        var audio = _gateway.OpenAI().GetAudioClient("mock-whisper");
        var file = new byte[48_000];
        ClientResult<AudioTranscription> json = await audio.TranscribeAudioAsync(new MemoryStream(file), "meeting.mp3");
        Assert.Equal("This is a mock transcription of meeting.mp3 (48000 bytes).", json.Value.Text);

        ClientResult<AudioTranscription> verbose = await audio.TranscribeAudioAsync(new MemoryStream(file), "meeting.mp3",
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Verbose });
        Assert.Equal(TimeSpan.FromSeconds(3), verbose.Value.Duration);
        Assert.Equal("english", verbose.Value.Language);
        Assert.Equal(verbose.Value.Text, Assert.Single(verbose.Value.Segments).Text);

        ClientResult<AudioTranscription> srt = await audio.TranscribeAudioAsync(new MemoryStream(file), "meeting.mp3",
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Srt });
        Assert.Equal("1\n00:00:00,000 --> 00:00:03,000\nThis is a mock transcription of meeting.mp3 (48000 bytes).\n\n", srt.Value.Text);

        ClientResult<AudioTranslation> translation = await audio.TranslateAudioAsync(new MemoryStream(file), "rede.mp3");
        Assert.Equal("This is a mock translation of rede.mp3 (48000 bytes).", translation.Value.Text);
    }

    [Fact]
    public async Task A_streamed_transcript_arrives_as_deltas_then_the_whole_text()
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(new byte[1000]);
        file.Headers.ContentType = new MediaTypeHeaderValue("audio/mpeg");
        form.Add(file, "file", "a.mp3");
        form.Add(new StringContent("mock-whisper"), "model");
        form.Add(new StringContent("true"), "stream");
        using var response = await _gateway.Http.PostAsync("/v1/audio/transcriptions", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(static e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        var deltas = string.Concat(events.Where(static e => e.GetProperty("type").GetString() == "transcript.text.delta").Select(static e => e.GetProperty("delta").GetString()));
        var done = events[^1];
        Assert.Equal("transcript.text.done", done.GetProperty("type").GetString());
        Assert.Equal(done.GetProperty("text").GetString(), deltas);
        Assert.Equal("This is a mock transcription of a.mp3 (1000 bytes).", deltas);
    }

    [Fact]
    public async Task Moderation_flags_the_words_of_its_list_and_nothing_else()
    {
        var client = _gateway.OpenAI().GetModerationClient("mock-moderation");
        ClientResult<ModerationResultCollection> result = await client.ClassifyTextAsync(["What a lovely day", "I will kill the process", "you idiot"]);
        Assert.Equal(3, result.Value.Count);
        Assert.False(result.Value[0].Flagged);
        Assert.True(result.Value[1].Flagged);
        Assert.True(result.Value[1].Violence.Flagged);
        Assert.False(result.Value[1].Harassment.Flagged);
        Assert.True(result.Value[2].Harassment.Flagged);
        Assert.False(result.Value[2].Violence.Flagged);
    }

    [Fact]
    public async Task Rerank_orders_documents_by_the_query_words_they_share()
    {
        using var response = await _gateway.Http.PostAsync("/v1/rerank", new StringContent("""
            {"model":"mock-rerank","query":"capital of France","top_n":2,"return_documents":true,
             "documents":["Berlin is in Germany","Paris is the capital of France","The capital of Spain is Madrid"]}
            """, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = JsonDocument.Parse(text).RootElement.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        Assert.Equal(1, results[0].GetProperty("index").GetInt32());
        Assert.Equal(1.0, results[0].GetProperty("relevance_score").GetDouble());
        Assert.Equal("Paris is the capital of France", results[0].GetProperty("document").GetProperty("text").GetString());
        Assert.Equal(2, results[1].GetProperty("index").GetInt32());
        Assert.Equal(0.6667, results[1].GetProperty("relevance_score").GetDouble());
    }

    /// <summary>Signature, IHDR of the size asked for, every chunk's CRC, and an IDAT that inflates to exactly the pixel rows.</summary>
    private static void AssertPng(byte[] png, int width, int height)
    {
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var o = 8;
        var types = new List<string>();
        byte[]? idat = null;
        while (o < png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(o));
            var type = Encoding.ASCII.GetString(png, o + 4, 4);
            var data = png.AsSpan(o + 8, length);
            var crc = new System.IO.Hashing.Crc32();
            crc.Append(png.AsSpan(o + 4, 4 + length));
            Assert.Equal(crc.GetCurrentHashAsUInt32(), BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(o + 8 + length)));
            if (type == "IHDR")
            {
                Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(data));
                Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(data[4..]));
            }
            if (type == "IDAT") idat = data.ToArray();
            types.Add(type);
            o += 12 + length;
        }
        Assert.Equal(["IHDR", "IDAT", "IEND"], types);
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(new MemoryStream(idat!), CompressionMode.Decompress)) z.CopyTo(inflated);
        Assert.Equal((1 + width * 3) * height, inflated.Length);
    }
}
