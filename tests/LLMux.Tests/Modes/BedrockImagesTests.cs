using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;
using OpenAI.Images;

// OutputFileFormat is an evaluation API in the SDK.
#pragma warning disable OPENAI001

namespace LLMux.Tests.Modes;

/// <summary>The OpenAI .NET SDK's <see cref="ImageClient"/> → LLMux → Bedrock InvokeModel image models (Titan, Nova Canvas, Stability), emulated and SigV4-checked.</summary>
public sealed class BedrockImagesTests : IAsyncLifetime
{
    private BedrockEmulator _bedrock = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _bedrock = await BedrockEmulator.StartNewAsync();
        var models = new StringBuilder();
        foreach (var (name, model) in new[]
        {
            ("titan", "amazon.titan-image-generator-v2:0"),
            ("titan-v1", "amazon.titan-image-generator-v1"),
            ("nova-canvas", "amazon.nova-canvas-v1:0"),
            ("sd35", "stability.sd3-5-large-v1:0"),
            ("ultra", "us.stability.stable-image-ultra-v1:1"),
            ("sdxl", "stability.stable-diffusion-xl-v1"),
            ("nova-chat", "amazon.nova-pro-v1:0"),
        })
        {
            models.Append($"""
              - model_name: {name}
                litellm_params:
                  model: bedrock/{model}
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}

            """);
        }
        _gateway = await GatewayHost.StartAsync("router_settings:\n  num_retries: 0\nmodel_list:\n" + models);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _bedrock.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        _gateway.Http.PostAsync("/v1/images/generations", new StringContent(json, Encoding.UTF8, "application/json"));

    private static decimal Cost(ClientResult result) =>
        decimal.Parse(result.GetRawResponse().Headers.TryGetValue("x-llmux-response-cost", out var v) ? v! : "-1", CultureInfo.InvariantCulture);

    private static decimal Cost(HttpResponseMessage response) =>
        decimal.Parse(response.Headers.TryGetValues("x-llmux-response-cost", out var v) ? v.Single() : "-1", CultureInfo.InvariantCulture);

    private RecordedRequest Sent() => Assert.Single(_bedrock.Requests);

    [Fact]
    public async Task Titan_v2_maps_n_size_and_quality_into_imageGenerationConfig_and_is_priced_per_image()
    {
        ClientResult<GeneratedImageCollection> result = await _gateway.OpenAI().GetImageClient("titan").GenerateImagesAsync("a lighthouse at dawn", 2,
            new ImageGenerationOptions { Size = new GeneratedImageSize(1152, 768), Quality = GeneratedImageQuality.High, ResponseFormat = GeneratedImageFormat.Bytes });
        Assert.Equal(2, result.Value.Count);
        Assert.Equal(Convert.FromBase64String(BedrockEmulator.ImagePng), result.Value[0].ImageBytes.ToArray());
        Assert.Equal(2 * PriceTable.Default.Find("bedrock", "amazon.titan-image-generator-v2:0")!.OutputPerImage!.Value, Cost(result));

        var sent = Sent();
        Assert.Equal("/model/amazon.titan-image-generator-v2%3A0/invoke", _bedrock.RawTargets.Single());
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=" + BedrockEmulator.AccessKeyId + "/", sent.Headers["authorization"], StringComparison.Ordinal);
        var b = sent.Json().RootElement;
        Assert.Equal("TEXT_IMAGE", b.GetProperty("taskType").GetString());
        Assert.Equal("a lighthouse at dawn", b.GetProperty("textToImageParams").GetProperty("text").GetString());
        var config = b.GetProperty("imageGenerationConfig");
        Assert.Equal(2, config.GetProperty("numberOfImages").GetInt32());
        Assert.Equal(1152, config.GetProperty("width").GetInt32());
        Assert.Equal(768, config.GetProperty("height").GetInt32());
        // The SDK's High is "hd": Titan's premium.
        Assert.Equal("premium", config.GetProperty("quality").GetString());
        Assert.Equal(3, b.EnumerateObject().Count());
    }

    [Fact]
    public async Task Nova_canvas_takes_its_own_fields_merged_over_the_mapped_ones()
    {
        using var response = await PostAsync("""
            {"model":"nova-canvas","prompt":"a red fox","size":"1280x720","negativeText":"blurry","cfgScale":7.5,"seed":42,
             "imageGenerationConfig":{"quality":"premium"},"quality":"standard"}
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(BedrockEmulator.ImagePng, Assert.Single(answer.RootElement.GetProperty("data").EnumerateArray()).GetProperty("b64_json").GetString());
        Assert.Equal(PriceTable.Default.Find("bedrock", "amazon.nova-canvas-v1:0")!.OutputPerImage!.Value, Cost(response));

        var b = Sent().Json().RootElement;
        Assert.Equal("blurry", b.GetProperty("textToImageParams").GetProperty("negativeText").GetString());
        var config = b.GetProperty("imageGenerationConfig");
        Assert.Equal(1280, config.GetProperty("width").GetInt32());
        Assert.Equal(720, config.GetProperty("height").GetInt32());
        Assert.Equal(7.5, config.GetProperty("cfgScale").GetDouble());
        Assert.Equal(42, config.GetProperty("seed").GetInt32());
        Assert.Equal("premium", config.GetProperty("quality").GetString());
    }

    [Fact]
    public async Task Nova_canvas_colour_guided_generation_puts_the_prompt_into_its_params()
    {
        using var response = await PostAsync("""
            {"model":"nova-canvas","prompt":"a poster","taskType":"COLOR_GUIDED_GENERATION","colorGuidedGenerationParams":{"colors":["#FF0000","#00FF00"]}}
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var p = Sent().Json().RootElement.GetProperty("colorGuidedGenerationParams");
        Assert.Equal("a poster", p.GetProperty("text").GetString());
        Assert.Equal(2, p.GetProperty("colors").GetArrayLength());
    }

    [Fact]
    public async Task Stability3_body_has_aspect_ratio_output_format_and_seed_and_refuses_size()
    {
        ClientResult<GeneratedImage> result = await _gateway.OpenAI().GetImageClient("sd35").GenerateImageAsync("a castle",
            new ImageGenerationOptions { OutputFileFormat = GeneratedImageFileFormat.Jpeg });
        Assert.Equal(Convert.FromBase64String(BedrockEmulator.ImagePng), result.Value.ImageBytes.ToArray());
        Assert.Equal(PriceTable.Default.Find("bedrock", "stability.sd3-5-large-v1:0")!.OutputPerImage!.Value, Cost(result));
        var b = Sent().Json().RootElement;
        Assert.Equal("a castle", b.GetProperty("prompt").GetString());
        Assert.Equal("jpeg", b.GetProperty("output_format").GetString());
        _bedrock.Requests.Clear();

        using (var refused = await PostAsync("""{"model":"ultra","prompt":"a castle","size":"1024x1024"}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("size", error.GetProperty("param").GetString());
            Assert.Contains("aspect_ratio", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Empty(_bedrock.Requests);
        }

        using var ok = await PostAsync("""{"model":"ultra","prompt":"a castle","aspect_ratio":"16:9","seed":7,"negative_prompt":"fog","size":"1024x1024","drop_params":true}""");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("size", ok.Headers.GetValues("x-llmux-warnings").Single(), StringComparison.Ordinal);
        Assert.Equal(PriceTable.Default.Find("bedrock", "stability.stable-image-ultra-v1:1")!.OutputPerImage!.Value, Cost(ok));
        Assert.Equal("/model/us.stability.stable-image-ultra-v1%3A1/invoke", _bedrock.RawTargets.Last());
        var u = Sent().Json().RootElement;
        Assert.Equal("16:9", u.GetProperty("aspect_ratio").GetString());
        Assert.Equal(7, u.GetProperty("seed").GetInt32());
        Assert.Equal("fog", u.GetProperty("negative_prompt").GetString());
        Assert.False(u.TryGetProperty("size", out _));
    }

    [Fact]
    public async Task Stability3_filtered_prompt_is_a_content_policy_400()
    {
        using var response = await PostAsync("""{"model":"sd35","prompt":"something forbidden"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("content_policy_violation", error.GetProperty("code").GetString());
        Assert.Contains("Filter reason: prompt", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdxl_text_prompts_body_is_priced_by_size_and_steps()
    {
        using var response = await PostAsync("""{"model":"sdxl","prompt":"a forest\nat night","size":"1024x1024","steps":60,"cfg_scale":9,"style_preset":"photographic"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PriceTable.Default.Find("bedrock", "1024-x-1024/max-steps/stability.stable-diffusion-xl-v1")!.OutputPerImage!.Value, Cost(response));
        var b = Sent().Json().RootElement;
        var prompt = Assert.Single(b.GetProperty("text_prompts").EnumerateArray());
        Assert.Equal("a forest at night", prompt.GetProperty("text").GetString());
        Assert.Equal(1, prompt.GetProperty("weight").GetInt32());
        Assert.Equal(1024, b.GetProperty("width").GetInt32());
        Assert.Equal(60, b.GetProperty("steps").GetInt32());
        Assert.Equal("photographic", b.GetProperty("style_preset").GetString());
        _bedrock.Requests.Clear();

        using var cheaper = await PostAsync("""{"model":"sdxl","prompt":"a forest"}""");
        Assert.Equal(HttpStatusCode.OK, cheaper.StatusCode);
        Assert.Equal(PriceTable.Default.Find("bedrock", "1024-x-1024/50-steps/stability.stable-diffusion-xl-v1")!.OutputPerImage!.Value, Cost(cheaper));
    }

    [Theory]
    [InlineData("""{"model":"titan","prompt":"a cat","size":"1000x1000"}""", "size")]
    [InlineData("""{"model":"titan","prompt":"a cat","n":6}""", "n")]
    [InlineData("""{"model":"nova-canvas","prompt":"a cat","size":"4096x512"}""", "size")]
    [InlineData("""{"model":"titan","prompt":"a cat","response_format":"url"}""", "response_format")]
    [InlineData("""{"model":"titan","prompt":"a cat","cfg_scale":7}""", "cfg_scale")]
    [InlineData("""{"model":"titan","prompt":"a cat","taskType":"INPAINTING"}""", "taskType")]
    [InlineData("""{"model":"titan","prompt":"a cat","style":"vivid"}""", "style")]
    [InlineData("""{"model":"sdxl","prompt":"a cat","n":2}""", "n")]
    [InlineData("""{"model":"sdxl","prompt":"a cat","size":"512x512"}""", "size")]
    [InlineData("""{"model":"sd35","prompt":"a cat","output_format":"webp"}""", "output_format")]
    [InlineData("""{"model":"nova-chat","prompt":"a cat"}""", "model")]
    public async Task Requests_a_bedrock_image_model_cannot_take_are_400_before_any_call(string body, string param)
    {
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Empty(_bedrock.Requests);
    }

    [Fact]
    public async Task Titan_v1_prompt_over_512_characters_is_refused_before_the_call()
    {
        using var response = await PostAsync("{\"model\":\"titan-v1\",\"prompt\":\"" + new string('a', 513) + "\"}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_bedrock.Requests);
    }

    [Fact]
    public async Task Titan_content_filter_error_keeps_bedrocks_message()
    {
        using var response = await PostAsync("""{"model":"titan","prompt":"a forbidden thing"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("content filters", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
