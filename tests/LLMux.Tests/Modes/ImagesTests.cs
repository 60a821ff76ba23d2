using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;
using OpenAI.Images;

// gpt-image options (background, output format, moderation, compression) are evaluation APIs in the SDK.
#pragma warning disable OPENAI001

namespace LLMux.Tests.Modes;

/// <summary>The OpenAI .NET SDK's <see cref="ImageClient"/> → LLMux → OpenAI, Azure and xAI image generation (emulated).</summary>
public sealed class ImagesTests : IAsyncLifetime
{
    private ImagesEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ImagesEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gpt-image
                litellm_params:
                  model: openai/gpt-image-1
                  api_base: {_upstream.ApiBase}
                  api_key: sk-img
              - model_name: dalle3
                litellm_params:
                  model: openai/dall-e-3
                  api_base: {_upstream.ApiBase}
                  api_key: sk-img
              - model_name: dalle2
                litellm_params:
                  model: openai/dall-e-2
                  api_base: {_upstream.ApiBase}
                  api_key: sk-img
              - model_name: azure-dalle3
                litellm_params:
                  model: azure/my-dall-e-3
                  api_base: {_upstream.Root.ToString().TrimEnd('/')}
                  api_key: az-key
                  api_version: "2024-02-01"
              - model_name: grok-image
                litellm_params:
                  model: xai/grok-2-image
                  api_base: {_upstream.ApiBase}
                  api_key: xai-key
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        _gateway.Http.PostAsync("/v1/images/generations", new StringContent(json, Encoding.UTF8, "application/json"));

    private static decimal Cost(ClientResult result) =>
        decimal.Parse(result.GetRawResponse().Headers.TryGetValue("x-llmux-response-cost", out var v) ? v! : "-1", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Gpt_image_keeps_every_field_and_is_priced_by_its_token_usage()
    {
        _upstream.InputImageTokens = 0;
        var options = new ImageGenerationOptions
        {
            // The SDK's GeneratedImageQuality.High is dall-e-3's "hd"; gpt-image takes "high".
            Quality = new GeneratedImageQuality("high"),
            Size = GeneratedImageSize.W1024xH1536,
            Background = GeneratedImageBackground.Transparent,
            OutputFileFormat = GeneratedImageFileFormat.Webp,
            ModerationLevel = GeneratedImageModerationLevel.Low,
            OutputCompressionFactor = 80,
            EndUserId = "u-7",
        };
        ClientResult<GeneratedImage> result = await _gateway.OpenAI().GetImageClient("gpt-image").GenerateImageAsync("a cat in watercolour", options);
        Assert.NotNull(result.Value.ImageBytes);
        Assert.Equal(Convert.FromBase64String(ImagesEmulator.Png), result.Value.ImageBytes.ToArray());

        var price = PriceTable.Default.Find("openai", "gpt-image-1")!;
        Assert.Equal(20 * price.InputPerToken + 272 * price.OutputPerImageToken!.Value, Cost(result));

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/images/generations", sent.Path);
        Assert.Equal("Bearer sk-img", sent.Headers["authorization"]);
        var b = sent.Json().RootElement;
        Assert.Equal("gpt-image-1", b.GetProperty("model").GetString());
        Assert.Equal("transparent", b.GetProperty("background").GetString());
        Assert.Equal("webp", b.GetProperty("output_format").GetString());
        Assert.Equal("low", b.GetProperty("moderation").GetString());
        Assert.Equal(80, b.GetProperty("output_compression").GetInt32());
        Assert.Equal("high", b.GetProperty("quality").GetString());
        Assert.Equal("1024x1536", b.GetProperty("size").GetString());
        Assert.Equal("u-7", b.GetProperty("user").GetString());
    }

    [Fact]
    public async Task Dalle3_hd_is_priced_by_its_size_and_quality_entry()
    {
        var options = new ImageGenerationOptions { Quality = GeneratedImageQuality.High, Size = GeneratedImageSize.W1024xH1024, Style = GeneratedImageStyle.Natural, ResponseFormat = GeneratedImageFormat.Uri };
        ClientResult<GeneratedImage> result = await _gateway.OpenAI().GetImageClient("dalle3").GenerateImageAsync("a cat", options);
        Assert.Equal("A cat, in watercolour.", result.Value.RevisedPrompt);
        Assert.NotNull(result.Value.ImageUri);
        // The hd 1024×1024 entry's per-pixel price × pixels is $0.0799959: charged as OpenAI bills it, $0.080.
        var perPixel = PriceTable.Default.Find("openai", "hd/1024-x-1024/dall-e-3")!.InputPerPixel!.Value;
        Assert.Equal(0.0799959m, Math.Round(perPixel * 1024 * 1024, 7));
        Assert.Equal(0.080m, Cost(result));
        Assert.Equal("natural", Assert.Single(_upstream.Requests).Json().RootElement.GetProperty("style").GetString());
    }

    [Theory]
    [InlineData("256x256", 256, "0.016")]
    [InlineData("512x512", 512, "0.018")]
    [InlineData("1024x1024", 1024, "0.020")]
    public async Task Dalle2_is_priced_by_its_size_entry_per_pixel(string size, int side, string oneImage)
    {
        var result = await _gateway.OpenAI().GetImageClient("dalle2").GenerateImagesAsync("a cat", 3, new ImageGenerationOptions { Size = new GeneratedImageSize(side, side) });
        Assert.Equal(3, result.Value.Count);
        // LiteLLM's `{W-x-H}/dall-e-2` entry: input_cost_per_pixel × W × H (not dall-e-2's flat 0.02), rounded to the
        // tenth of a cent OpenAI prices dall-e in (LiteLLM charges the raw product: 0.0199229 for 1024×1024), × images.
        var perPixel = PriceTable.Default.FindExact(size.Replace("x", "-x-", StringComparison.Ordinal) + "/dall-e-2")!.InputPerPixel!.Value;
        Assert.Equal(3 * Math.Round(perPixel * side * side, 3), Cost(result));
        Assert.Equal(3 * decimal.Parse(oneImage, CultureInfo.InvariantCulture), Cost(result));
    }

    [Fact]
    public async Task Azure_deployment_path_and_api_key_header()
    {
        using var response = await PostAsync("""{"model":"azure-dalle3","prompt":"a cat","size":"1792x1024","quality":"hd"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/openai/deployments/my-dall-e-3/images/generations", sent.Path);
        Assert.Equal("?api-version=2024-02-01", sent.Query);
        Assert.Equal("az-key", sent.Headers["api-key"]);
    }

    [Fact]
    public async Task Xai_refuses_size_it_does_not_take_unless_dropped()
    {
        using (var refused = await PostAsync("""{"model":"grok-image","prompt":"a cat","size":"1024x1024"}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("xai", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Empty(_upstream.Requests);
        }
        using var dropped = await PostAsync("""{"model":"grok-image","prompt":"a cat","size":"1024x1024","n":2,"drop_params":true}""");
        Assert.Equal(HttpStatusCode.OK, dropped.StatusCode);
        Assert.Contains("size", dropped.Headers.GetValues("x-llmux-warnings").Single(), StringComparison.Ordinal);
        var b = Assert.Single(_upstream.Requests).Json().RootElement;
        Assert.False(b.TryGetProperty("size", out _));
        Assert.Equal("grok-2-image", b.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("""{"model":"dalle3","prompt":"a","n":2}""", "n")]
    [InlineData("""{"model":"dalle2","prompt":"a","size":"1792x1024"}""", "size")]
    [InlineData("""{"model":"gpt-image","prompt":"a","response_format":"url"}""", "response_format")]
    [InlineData("""{"model":"gpt-image","prompt":"a","style":"vivid"}""", "style")]
    [InlineData("""{"model":"dalle3","prompt":"a","background":"transparent"}""", "background")]
    [InlineData("""{"model":"gpt-image","prompt":"a","quality":"hd"}""", "quality")]
    [InlineData("""{"model":"dalle3","prompt":"a","stream":true}""", "stream")]
    [InlineData("""{"model":"gpt-image"}""", "prompt")]
    public async Task Per_model_rules_answer_400_before_any_call(string body, string param)
    {
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Content_policy_refusal_keeps_its_400()
    {
        _upstream.NextError = (400, """{"error":{"code":"content_policy_violation","message":"Your request was rejected as a result of our safety system.","param":null,"type":"invalid_request_error"}}""");
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => _gateway.OpenAI().GetImageClient("dalle3").GenerateImageAsync("x"));
        Assert.Equal(400, ex.Status);
        Assert.Contains("safety system", ex.Message, StringComparison.Ordinal);
    }
}

/// <summary>Image edits and variations (multipart) through the SDK's <see cref="ImageClient"/>, and checked byte for byte at the upstream.</summary>
public sealed class ImageUploadTests : IAsyncLifetime
{
    private ImagesEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private static readonly byte[] Png = Convert.FromBase64String(ImagesEmulator.Png);

    public async Task InitializeAsync()
    {
        _upstream = await ImagesEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gpt-image
                litellm_params:
                  model: openai/gpt-image-1
                  api_base: {_upstream.ApiBase}
                  api_key: sk-img
              - model_name: dalle2
                litellm_params:
                  model: openai/dall-e-2
                  api_base: {_upstream.ApiBase}
                  api_key: sk-img
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Sdk_edit_with_a_mask_reaches_the_upstream_with_both_files_and_is_priced_by_tokens()
    {
        _upstream.InputImageTokens = 194;
        ClientResult<GeneratedImage> result = await _gateway.OpenAI().GetImageClient("gpt-image").GenerateImageEditAsync(
            new MemoryStream(Png), "cat.png", "add a hat", new MemoryStream(Png), "mask.png");
        Assert.Equal(Png, result.Value.ImageBytes.ToArray());
        var price = PriceTable.Default.Find("openai", "gpt-image-1")!;
        var cost = decimal.Parse(result.GetRawResponse().Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);
        Assert.Equal(20 * price.InputPerToken + 194 * price.InputPerImageToken!.Value + 272 * price.OutputPerImageToken!.Value, cost);
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/images/edits", sent.Path);
        Assert.Equal(["image", "mask"], _upstream.LastFiles.Select(static f => f.Name).ToArray());
        Assert.All(_upstream.LastFiles, f => Assert.Equal(Png, f.Bytes));
    }

    [Fact]
    public async Task Several_images_as_image_array_are_forwarded_byte_for_byte()
    {
        var content = new MultipartFormDataContent("img-boundary-42");
        content.Add(new StringContent("gpt-image"), "model");
        content.Add(new StringContent("merge them"), "prompt");
        for (var i = 0; i < 3; i++)
        {
            var part = new ByteArrayContent([.. Png, (byte)i]);
            part.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/png");
            content.Add(part, "image[]", $"in{i}.png");
        }
        content.Add(new StringContent("transparent"), "background");
        var bytes = await content.ReadAsByteArrayAsync();
        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = content.Headers.ContentType;
        using var response = await _gateway.Http.PostAsync("/v1/images/edits", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(_upstream.Requests).Body;
        var from = "\r\n\r\ngpt-image\r\n"u8.ToArray();
        var i0 = bytes.AsSpan().IndexOf(from);
        byte[] expected = [.. bytes.AsSpan(0, i0), .. "\r\n\r\ngpt-image-1\r\n"u8, .. bytes.AsSpan(i0 + from.Length)];
        Assert.True(expected.AsSpan().SequenceEqual(sent), "the upstream body differs from the client's beyond the model value");
        Assert.Equal(3, _upstream.LastFiles.Count);
    }

    [Fact]
    public async Task Sdk_variation_on_dall_e_2_is_priced_by_its_size()
    {
        ClientResult<GeneratedImageCollection> result = await _gateway.OpenAI().GetImageClient("dalle2").GenerateImageVariationsAsync(new MemoryStream(Png), "cat.png", 2,
            new ImageVariationOptions { Size = GeneratedImageSize.W256xH256 });
        Assert.Equal(2, result.Value.Count);
        var cost = decimal.Parse(result.GetRawResponse().Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);
        Assert.Equal(2 * 0.016m, cost);
        Assert.Equal("/v1/images/variations", Assert.Single(_upstream.Requests).Path);
    }

    [Fact]
    public async Task Variations_on_gpt_image_and_edits_without_prompt_are_400_before_any_call()
    {
        var variation = new MultipartFormDataContent { { new StringContent("gpt-image"), "model" }, { new ByteArrayContent(Png), "image", "a.png" } };
        using (var r = await _gateway.Http.PostAsync("/v1/images/variations", variation)) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var edit = new MultipartFormDataContent { { new StringContent("gpt-image"), "model" }, { new ByteArrayContent(Png), "image", "a.png" } };
        using (var r = await _gateway.Http.PostAsync("/v1/images/edits", edit))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("\"param\":\"prompt\"", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var noImage = new MultipartFormDataContent { { new StringContent("gpt-image"), "model" }, { new StringContent("x"), "prompt" } };
        using (var r = await _gateway.Http.PostAsync("/v1/images/edits", noImage)) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Empty(_upstream.Requests);
    }
}

/// <summary>The SDK's <see cref="ImageClient"/> → LLMux → Google: Imagen <c>:predict</c> and a Gemini image model's <c>:generateContent</c>.</summary>
public sealed class GoogleImagesTests : IAsyncLifetime
{
    private ImagenEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ImagenEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: imagen
                litellm_params:
                  model: gemini/imagen-4.0-generate-001
                  api_base: {_upstream.ApiBase}
                  api_key: g-key
              - model_name: flash-image
                litellm_params:
                  model: gemini/gemini-2.5-flash-image
                  api_base: {_upstream.ApiBase}
                  api_key: g-key
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Imagen_predict_gets_sample_count_and_aspect_ratio_and_is_priced_per_image()
    {
        ClientResult<GeneratedImageCollection> result = await _gateway.OpenAI().GetImageClient("imagen").GenerateImagesAsync("a lighthouse", 2,
            new ImageGenerationOptions { Size = GeneratedImageSize.W1792xH1024, ResponseFormat = GeneratedImageFormat.Bytes });
        Assert.Equal(2, result.Value.Count);
        Assert.Equal(Convert.FromBase64String(ImagesEmulator.Png), result.Value[0].ImageBytes.ToArray());
        var cost = decimal.Parse(result.GetRawResponse().Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);
        Assert.Equal(2 * PriceTable.Default.Find("gemini", "imagen-4.0-generate-001")!.OutputPerImage!.Value, cost);
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1beta/models/imagen-4.0-generate-001:predict", sent.Path);
        Assert.Equal("g-key", sent.Headers["x-goog-api-key"]);
        Assert.Equal("""{"instances":[{"prompt":"a lighthouse"}],"parameters":{"sampleCount":2,"aspectRatio":"16:9"}}""", sent.BodyText);
    }

    [Fact]
    public async Task Gemini_image_model_inline_data_becomes_b64_json()
    {
        using var response = await _gateway.Http.PostAsync("/v1/images/generations", new StringContent("""{"model":"flash-image","prompt":"a fox"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(ImagesEmulator.Png, Assert.Single(root.GetProperty("data").EnumerateArray()).GetProperty("b64_json").GetString());
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1beta/models/gemini-2.5-flash-image:generateContent", sent.Path);
        Assert.Equal("IMAGE", sent.Json().RootElement.GetProperty("generationConfig").GetProperty("responseModalities")[0].GetString());
    }

    [Fact]
    public async Task A_url_response_format_is_a_400_because_google_returns_bytes()
    {
        using var response = await _gateway.Http.PostAsync("/v1/images/generations", new StringContent("""{"model":"imagen","prompt":"a fox","response_format":"url"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("b64_json", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }
}
