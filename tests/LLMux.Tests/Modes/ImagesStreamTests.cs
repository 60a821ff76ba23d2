using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Modes;

/// <summary>gpt-image <c>stream: true</c> with <c>partial_images</c> on generations and edits, passed through as SSE (emulated OpenAI and Azure).</summary>
public sealed class ImagesStreamTests : IAsyncLifetime
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
              - model_name: azure-gpt-image
                litellm_params:
                  model: azure/gpt-image-1
                  api_base: {_upstream.Root.ToString().TrimEnd('/')}
                  api_key: az-key
                  api_version: "2025-04-01-preview"
              - model_name: dalle3
                litellm_params:
                  model: openai/dall-e-3
                  api_base: {_upstream.ApiBase}
                  api_key: sk-img
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

    private Task<HttpResponseMessage> PostAsync(string json, HttpCompletionOption option = HttpCompletionOption.ResponseContentRead) =>
        _gateway.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = new StringContent(json, Encoding.UTF8, "application/json") }, option);

    [Theory]
    [InlineData("gpt-image", "/v1/images/generations")]
    [InlineData("azure-gpt-image", "/openai/deployments/gpt-image-1/images/generations")]
    public async Task Partial_images_and_the_completed_event_pass_through_as_sse(string model, string upstreamPath)
    {
        using var response = await PostAsync("""{"model":"__M__","prompt":"a cat","stream":true,"partial_images":2,"size":"1024x1536"}""".Replace("__M__", model));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var frames = SseFrames.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"], frames.Select(static f => f.Event));
        using var last = JsonDocument.Parse(frames[^1].Data);
        Assert.Equal(ImagesEmulator.Png, last.RootElement.GetProperty("b64_json").GetString());
        Assert.Equal(292, last.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(1, JsonDocument.Parse(frames[1].Data).RootElement.GetProperty("partial_image_index").GetInt32());

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal(upstreamPath, sent.Path);
        Assert.Equal("text/event-stream", sent.Headers["accept"]);
        var b = sent.Json().RootElement;
        Assert.True(b.GetProperty("stream").GetBoolean());
        Assert.Equal(2, b.GetProperty("partial_images").GetInt32());
    }

    [Fact]
    public async Task Streamed_edits_pass_the_image_edit_events_through()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("gpt-image"), "model");
        form.Add(new StringContent("add a hat"), "prompt");
        form.Add(new StringContent("true"), "stream");
        form.Add(new StringContent("1"), "partial_images");
        var image = new ByteArrayContent(Convert.FromBase64String(ImagesEmulator.Png));
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(image, "image[]", "cat.png");
        using var response = await _gateway.Http.PostAsync("/v1/images/edits", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var frames = SseFrames.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["image_edit.partial_image", "image_edit.completed"], frames.Select(static f => f.Event));
        Assert.Equal("/v1/images/edits", Assert.Single(_upstream.Requests).Path);
    }

    [Fact]
    public async Task Client_disconnect_cancels_the_upstream_stream()
    {
        _upstream.HoldStreamAfterPartials = true;
        using (var response = await PostAsync("""{"model":"gpt-image","prompt":"a cat","stream":true,"partial_images":1}""", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Equal("event: image_generation.partial_image", await reader.ReadLineAsync());
        }
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_error_event_after_partials_ends_the_stream_with_an_error_frame()
    {
        _upstream.StreamErrorAfterPartials = true;
        using var response = await PostAsync("""{"model":"gpt-image","prompt":"a cat","stream":true,"partial_images":1}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("image_generation.partial_image", text, StringComparison.Ordinal);
        Assert.DoesNotContain("image_generation.completed", text, StringComparison.Ordinal);
        Assert.Contains("rejected by the safety system", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"dalle3","prompt":"a cat","stream":true}""", "stream")]
    [InlineData("""{"model":"grok-image","prompt":"a cat","stream":true}""", "stream")]
    [InlineData("""{"model":"gpt-image","prompt":"a cat","stream":true,"partial_images":4}""", "partial_images")]
    [InlineData("""{"model":"gpt-image","prompt":"a cat","stream":"yes"}""", "stream")]
    public async Task Streams_a_model_cannot_give_are_400_before_any_call(string body, string param)
    {
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_upstream.Requests);
    }
}

/// <summary>A streamed gpt-image call costs what the same call unstreamed costs: in the completed event's usage.cost, and in the spend log.</summary>
public sealed class ImageStreamCostTests : IAsyncLifetime
{
    private const string Master = "sk-master-img";
    private ImagesEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ImagesEmulator.StartNewAsync();
        _upstream.InputImageTokens = 194;
        _dir = Path.Combine(Path.GetTempPath(), "llmux-img-cost-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gpt-image
                litellm_params:
                  model: openai/gpt-image-1
                  api_base: {_upstream.ApiBase}
                  api_key: sk-img
            general_settings:
              master_key: {Master}
              database_path: {Path.Combine(_dir, "llmux.db")}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Master);
        return _gateway.Http.SendAsync(request);
    }

    private static HttpContent Edit(bool stream)
    {
        var form = new MultipartFormDataContent { { new StringContent("gpt-image"), "model" }, { new StringContent("add a hat"), "prompt" } };
        if (stream) { form.Add(new StringContent("true"), "stream"); form.Add(new StringContent("1"), "partial_images"); }
        form.Add(new ByteArrayContent(Convert.FromBase64String(ImagesEmulator.Png)), "image", "cat.png");
        return form;
    }

    [Theory]
    [InlineData("generations")]
    [InlineData("edits")]
    public async Task The_completed_event_carries_the_unstreamed_cost_and_the_spend_log_has_it(string kind)
    {
        HttpContent Body(bool stream) => kind == "edits" ? Edit(stream)
            : new StringContent("{\"model\":\"gpt-image\",\"prompt\":\"a cat\",\"size\":\"1024x1536\"" + (stream ? ",\"stream\":true,\"partial_images\":2" : "") + "}", Encoding.UTF8, "application/json");
        decimal unstreamed;
        using (var plain = await SendAsync(HttpMethod.Post, "/v1/images/" + kind, Body(stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
            unstreamed = decimal.Parse(plain.Headers.GetValues("x-llmux-response-cost").Single(), System.Globalization.CultureInfo.InvariantCulture);
        }
        var price = LLMux.Stages.Accounting.PriceTable.Default.Find("openai", "gpt-image-1")!;
        Assert.True(unstreamed > 0);
        // The emulator's usage: 20 text and 194 image tokens in, 272 out.
        Assert.Equal(20 * price.InputPerToken + 194 * price.InputPerImageToken!.Value + 272 * price.OutputPerImageToken!.Value, unstreamed);

        using var streamed = await SendAsync(HttpMethod.Post, "/v1/images/" + kind, Body(stream: true));
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        var frames = SseFrames.Parse(await streamed.Content.ReadAsStringAsync());
        var usage = JsonDocument.Parse(frames[^1].Data).RootElement.GetProperty("usage");
        Assert.Equal(unstreamed, usage.GetProperty("cost").GetDecimal());
        Assert.Equal(272, usage.GetProperty("output_tokens").GetInt32());

        using var logs = await SendAsync(HttpMethod.Get, "/spend/logs");
        var rows = JsonDocument.Parse(await logs.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(unstreamed, r.GetProperty("spend").GetDecimal()));
    }
}
