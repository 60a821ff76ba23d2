using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Modes;

/// <summary>
/// The official <c>openai</c> npm client (pinned in tests/agents/openai-node) against LLMux's images and moderations:
/// <c>images.generate</c> (gpt-image, dall-e with urls, streamed partial images), <c>images.edit</c> (two images and a
/// mask; streamed), <c>moderations.create</c> (text, texts, multimodal parts) and a refused size, all through emulated OpenAI.
/// </summary>
public sealed class OpenAINodeModesTests : IAsyncLifetime
{
    private ImagesEmulator _images = null!;
    private ModerationEmulator _moderation = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _images = await ImagesEmulator.StartNewAsync();
        _moderation = await ModerationEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: sk-node-modes
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gpt-image
                litellm_params:
                  model: openai/gpt-image-1
                  api_base: {_images.ApiBase}
                  api_key: sk-img
              - model_name: dalle2
                litellm_params:
                  model: openai/dall-e-2
                  api_base: {_images.ApiBase}
                  api_key: sk-img
              - model_name: omni
                litellm_params:
                  model: openai/omni-moderation-latest
                  api_base: {_moderation.ApiBase}
                  api_key: sk-mod
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _moderation.DisposeAsync();
        await _images.DisposeAsync();
    }


    [SkippableFact]
    public async Task The_openai_npm_client_generates_edits_streams_and_moderates_through_llmux()
    {
        OpenAINodeClient.Require();
        using var doc = await OpenAINodeClient.RunAsync("images-moderations-check.mjs", TimeSpan.FromSeconds(60), new Uri(_gateway.Root, "/v1").ToString(), "sk-node-modes", "gpt-image", "dalle2", "omni");
        var r = doc.RootElement;
        var generate = r.GetProperty("generate");
        Assert.Equal(ImagesEmulator.Png, generate.GetProperty("b64").GetString());
        Assert.Equal("webp", generate.GetProperty("output_format").GetString());
        Assert.Equal(272, generate.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        var dalle = r.GetProperty("dalle");
        Assert.Equal(2, dalle.GetProperty("urls").GetArrayLength());
        Assert.StartsWith("https://", dalle.GetProperty("urls")[0].GetString(), StringComparison.Ordinal);
        Assert.True(decimal.Parse(dalle.GetProperty("cost").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 0);

        var stream = r.GetProperty("stream").EnumerateArray().ToList();
        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"], stream.Select(static e => e.GetProperty("type").GetString()));
        Assert.Equal(1, stream[1].GetProperty("index").GetInt32());
        Assert.Equal(292, stream[2].GetProperty("usage").GetProperty("total_tokens").GetInt32());

        Assert.Equal(ImagesEmulator.Png, r.GetProperty("edit").GetProperty("b64").GetString());
        Assert.Equal(["image_edit.partial_image", "image_edit.completed"], r.GetProperty("editStream").EnumerateArray().Select(static e => e.GetString()));

        var moderations = r.GetProperty("moderations");
        Assert.Equal("omni-moderation-latest", moderations.GetProperty("one").GetProperty("model").GetString());
        Assert.True(moderations.GetProperty("one").GetProperty("violence").GetBoolean());
        Assert.Equal([false, true], moderations.GetProperty("many").EnumerateArray().Select(static e => e.GetBoolean()));
        Assert.Equal(1, moderations.GetProperty("parts").GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Object, moderations.GetProperty("parts").GetProperty("applied").ValueKind);

        var refused = r.GetProperty("refused");
        Assert.Equal(400, refused.GetProperty("status").GetInt32());
        Assert.Equal("size", refused.GetProperty("param").GetString());

        // The edit went out as multipart with both images and the mask, byte for byte.
        var edit = _images.Requests.First(static q => q.Path == "/v1/images/edits");
        Assert.Contains("cat.png", edit.BodyText, StringComparison.Ordinal);
        Assert.Contains("dog.png", edit.BodyText, StringComparison.Ordinal);
        Assert.Contains("name=\"mask\"", edit.BodyText, StringComparison.Ordinal);
    }
}
