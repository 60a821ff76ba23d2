using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;
using OpenAI.Images;

namespace LLMux.Tests.Modes;

/// <summary>
/// The SDK's <see cref="ImageClient"/> edits → LLMux → Google (emulated), as LiteLLM maps them: a Gemini image model gets
/// the images as inlineData parts (AI Studio and Vertex), a Vertex Imagen model gets referenceImages with the mask;
/// variations and AI Studio Imagen edits are a 400 before any call.
/// </summary>
public sealed class GoogleImageEditTests : IAsyncLifetime
{
    private static readonly byte[] Png = Convert.FromBase64String(ImagesEmulator.Png);
    private static readonly byte[] Mask = [.. Png, 0x4D];
    private ImagenEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private string _credentialsFile = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ImagenEmulator.StartNewAsync();
        _credentialsFile = Path.Combine(Path.GetTempPath(), $"llmux-imagen-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentialsFile, _upstream.ServiceAccountJson);
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: flash-image
                litellm_params:
                  model: gemini/gemini-2.5-flash-image
                  api_base: {_upstream.ApiBase}
                  api_key: g-key
              - model_name: imagen
                litellm_params:
                  model: gemini/imagen-4.0-generate-001
                  api_base: {_upstream.ApiBase}
                  api_key: g-key
              - model_name: vertex-imagen
                litellm_params:
                  model: vertex_ai/imagen-3.0-capability-001
                  api_base: {_upstream.VertexApiBase("imagen-3.0-capability-001")}
                  vertex_credentials: {_credentialsFile}
              - model_name: vertex-flash-image
                litellm_params:
                  model: vertex_ai/gemini-2.5-flash-image
                  api_base: {_upstream.VertexApiBase("gemini-2.5-flash-image")}
                  vertex_credentials: {_credentialsFile}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        File.Delete(_credentialsFile);
    }

    private static decimal CostOf(ClientResult result) =>
        decimal.Parse(result.GetRawResponse().Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Gemini_edit_sends_the_image_inline_before_the_prompt_and_is_priced_per_image()
    {
        ClientResult<GeneratedImage> result = await _gateway.OpenAI().GetImageClient("flash-image").GenerateImageEditAsync(
            new MemoryStream(Png), "cat.png", "add a hat", new ImageEditOptions { Size = GeneratedImageSize.W1792xH1024, ResponseFormat = GeneratedImageFormat.Bytes });
        Assert.Equal(Png, result.Value.ImageBytes.ToArray());
        Assert.Equal(PriceTable.Default.Find("gemini", "gemini-2.5-flash-image")!.OutputPerImage!.Value, CostOf(result));
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1beta/models/gemini-2.5-flash-image:generateContent", sent.Path);
        Assert.Equal("g-key", sent.Headers["x-goog-api-key"]);
        Assert.Equal("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"" + ImagesEmulator.Png
            + "\"}},{\"text\":\"add a hat\"}]}],\"generationConfig\":{\"responseModalities\":[\"IMAGE\",\"TEXT\"],\"imageConfig\":{\"aspectRatio\":\"16:9\"}}}", sent.BodyText);
        Assert.Equal(sent.Body.Length, long.Parse(sent.Headers["content-length"], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Vertex_imagen_edit_sends_reference_images_with_the_mask_and_sample_count()
    {
        var content = new MultipartFormDataContent
        {
            { new StringContent("vertex-imagen"), "model" },
            { new StringContent("a red door"), "prompt" },
            { new StringContent("2"), "n" },
            { new ByteArrayContent(Png), "image", "house.png" },
            { new ByteArrayContent(Mask), "mask", "mask.png" },
        };
        using var response = await _gateway.Http.PostAsync("/v1/images/edits", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal(2, JsonDocument.Parse(text).RootElement.GetProperty("data").GetArrayLength());
        var cost = decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), CultureInfo.InvariantCulture);
        Assert.Equal(2 * PriceTable.Default.Find("vertex_ai", "imagen-3.0-capability-001")!.OutputPerImage!.Value, cost);
        var sent = Assert.Single(_upstream.ModelRequests);
        Assert.Equal("/v1/projects/emu-project/locations/us-central1/publishers/google/models/imagen-3.0-capability-001:predict", sent.Path);
        Assert.StartsWith("Bearer ya29.imagen-emu-", sent.Headers["authorization"], StringComparison.Ordinal);
        var parameters = sent.Json().RootElement.GetProperty("parameters");
        Assert.Equal(2, parameters.GetProperty("sampleCount").GetInt32());
        Assert.Equal("EDIT_MODE_INPAINT_INSERTION", parameters.GetProperty("editMode").GetString());
        Assert.Equal("a red door", sent.Json().RootElement.GetProperty("instances")[0].GetProperty("prompt").GetString());
        Assert.Equal(["REFERENCE_TYPE_RAW", "REFERENCE_TYPE_MASK"], _upstream.LastInputImages.Select(static i => i.Kind).ToArray());
        Assert.Equal(Png, _upstream.LastInputImages[0].Bytes);
        Assert.Equal(Mask, _upstream.LastInputImages[1].Bytes);
    }

    [Fact]
    public async Task Vertex_gemini_edit_inlines_every_image_of_an_image_array()
    {
        var content = new MultipartFormDataContent { { new StringContent("vertex-flash-image"), "model" }, { new StringContent("merge them"), "prompt" } };
        for (var i = 0; i < 3; i++)
        {
            var part = new ByteArrayContent([.. Png, (byte)i]);
            part.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/webp");
            content.Add(part, "image[]", $"in{i}.webp");
        }
        using var response = await _gateway.Http.PostAsync("/v1/images/edits", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(_upstream.ModelRequests);
        Assert.Equal("/v1/projects/emu-project/locations/us-central1/publishers/google/models/gemini-2.5-flash-image:generateContent", sent.Path);
        Assert.Equal(3, _upstream.LastInputImages.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("image/webp", _upstream.LastInputImages[i].Kind);
            Assert.Equal([.. Png, (byte)i], _upstream.LastInputImages[i].Bytes);
        }
    }

    [Theory]
    [InlineData("/v1/images/variations", "flash-image")]
    [InlineData("/v1/images/variations", "vertex-imagen")]
    [InlineData("/v1/images/edits", "imagen")]
    public async Task Variations_and_ai_studio_imagen_edits_are_a_400_unsupported_mode_before_any_call(string path, string model)
    {
        var content = new MultipartFormDataContent { { new StringContent(model), "model" }, { new ByteArrayContent(Png), "image", "a.png" } };
        if (path.EndsWith("edits", StringComparison.Ordinal)) content.Add(new StringContent("a hat"), "prompt");
        using var response = await _gateway.Http.PostAsync(path, content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("unsupported_mode", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Empty(_upstream.ModelRequests);
    }

    [Fact]
    public async Task A_mask_on_a_gemini_model_is_a_400_unless_drop_params()
    {
        MultipartFormDataContent Edit(bool drop)
        {
            var c = new MultipartFormDataContent { { new StringContent("flash-image"), "model" }, { new StringContent("a hat"), "prompt" }, { new ByteArrayContent(Png), "image", "a.png" }, { new ByteArrayContent(Mask), "mask", "m.png" } };
            if (drop) c.Add(new StringContent("true"), "drop_params");
            return c;
        }
        using (var refused = await _gateway.Http.PostAsync("/v1/images/edits", Edit(drop: false)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("\"param\":\"mask\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Empty(_upstream.Requests);
        using var dropped = await _gateway.Http.PostAsync("/v1/images/edits", Edit(drop: true));
        Assert.Equal(HttpStatusCode.OK, dropped.StatusCode);
        Assert.Contains("mask", dropped.Headers.GetValues("x-llmux-warnings").Single(), StringComparison.Ordinal);
        Assert.Equal([Png], _upstream.LastInputImages.Select(static i => i.Bytes).ToArray());
    }
}
