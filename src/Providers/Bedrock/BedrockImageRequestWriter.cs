using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Writes the InvokeModel body of an OpenAI <c>/v1/images/generations</c> request for the model's family, checked before
/// any call: OpenAI's <c>n</c>, <c>size</c>, <c>quality</c>, <c>output_format</c> mapped where the family has them (a 400, or
/// a drop with a warning under drop_params, where it has not), the family's own fields merged, <c>response_format: url</c>
/// refused (Bedrock returns bytes only).
/// </summary>
internal static class BedrockImageRequestWriter
{
    public static PooledBuffer Write(LlmContext context, BedrockModel model)
    {
        var family = BedrockImageFamilies.Of(model.BaseModel)
            ?? throw LlmError.Invalid($"bedrock model `{model.ModelId}` does not generate images; use amazon.titan-image-generator-*, amazon.nova-canvas-* or a stability.* model", "model", "unsupported_mode").ToException();
        using var doc = JsonDocument.Parse(context.Body);
        var root = doc.RootElement;
        var request = new Request(context, root, family);
        if (request.String("response_format") is "url")
            throw Refused(context, "response_format", "`response_format: url` is not available on bedrock: it returns image bytes only; ask for b64_json");
        foreach (var p in root.EnumerateObject())
            if (p.Value.ValueKind != JsonValueKind.Null && IsOtherFamilyField(family, p.Name)) request.Unsupported(p.Name, $"{Name(family)} models do not take it");
        var body = family switch
        {
            BedrockImageFamily.Titan or BedrockImageFamily.NovaCanvas => Amazon(request),
            BedrockImageFamily.Stability3 => Stability3(request),
            _ => StabilityXL(request),
        };
        var buffer = new PooledBuffer(256 + context.Body.Length);
        using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
        body.WriteTo(w);
        w.Flush();
        return buffer;
    }

    private static string Name(BedrockImageFamily family) => family switch
    {
        BedrockImageFamily.Titan => "Titan Image Generator",
        BedrockImageFamily.NovaCanvas => "Nova Canvas",
        BedrockImageFamily.Stability3 => "Stability SD3 / Stable Image",
        _ => "Stability SDXL",
    };

    private static bool IsOtherFamilyField(BedrockImageFamily family, string name)
    {
        if (Array.IndexOf(BedrockImageFamilies.AllExtras, name) < 0) return false;
        var own = BedrockImageFamilies.ExtrasOf(family);
        for (var i = 0; i < own.Count; i++) if (own[i] == name) return false;
        return true;
    }

    /// <summary>Titan and Nova Canvas: <c>{taskType, textToImageParams | colorGuidedGenerationParams, imageGenerationConfig}</c>.</summary>
    private static JsonObject Amazon(Request r)
    {
        var nova = r.Family == BedrockImageFamily.NovaCanvas;
        var maxPrompt = nova ? 1024 : 512;
        if (r.Prompt.Length > maxPrompt) throw r.Invalid("prompt", $"`prompt` is {r.Prompt.Length} characters; {Name(r.Family)} takes at most {maxPrompt}");
        var taskType = r.String("taskType") ?? "TEXT_IMAGE";
        var paramsName = taskType switch
        {
            "TEXT_IMAGE" => "textToImageParams",
            "COLOR_GUIDED_GENERATION" when nova => "colorGuidedGenerationParams",
            _ => throw r.Invalid("taskType", $"`taskType` {taskType} is not served on /v1/images/generations for {Name(r.Family)}; use TEXT_IMAGE" + (nova ? " or COLOR_GUIDED_GENERATION" : "")),
        };
        var taskParams = new JsonObject { ["text"] = r.Prompt };
        if (r.String("negativeText") is { } negative) taskParams["negativeText"] = negative;
        r.MergeObject(paramsName, taskParams);
        if (paramsName == "colorGuidedGenerationParams" && !taskParams.ContainsKey("colors"))
            throw r.Invalid("colorGuidedGenerationParams", "COLOR_GUIDED_GENERATION needs `colorGuidedGenerationParams.colors` (a list of hex colours)");

        var config = new JsonObject();
        if (r.Int("n") is { } n)
        {
            if (n is < 1 or > 5) throw r.Invalid("n", $"`n` must be between 1 and 5 for {Name(r.Family)}");
            config["numberOfImages"] = n;
        }
        if (r.Size() is { } size)
        {
            CheckAmazonSize(r, size, nova);
            config["width"] = size.Width;
            config["height"] = size.Height;
        }
        if (r.String("quality") is { } quality)
        {
            // LiteLLM's mapping (Titan's, which also takes gpt-image's high/medium/low); auto leaves the model's default.
            var mapped = quality switch
            {
                "hd" or "premium" or "high" => "premium",
                "standard" or "medium" or "low" => "standard",
                "auto" => null,
                _ => throw r.Invalid("quality", $"`quality` {quality} is not supported by {Name(r.Family)}; use standard or hd (premium)"),
            };
            if (mapped is not null) config["quality"] = mapped;
        }
        if (r.Node("cfgScale") is { } cfg) config["cfgScale"] = cfg;
        if (r.Node("seed") is { } seed) config["seed"] = seed;
        r.MergeObject("imageGenerationConfig", config);
        var body = new JsonObject { ["taskType"] = taskType, [paramsName] = taskParams };
        if (config.Count > 0) body["imageGenerationConfig"] = config;
        return body;
    }

    private static void CheckAmazonSize(Request r, (int Width, int Height, string Text) size, bool nova)
    {
        if (!nova)
        {
            if (Array.IndexOf(BedrockImageFamilies.TitanSizes, size.Text) < 0)
                throw r.Invalid("size", $"`size` {size.Text} is not supported by Titan Image Generator; use one of {string.Join(", ", BedrockImageFamilies.TitanSizes)}");
            return;
        }
        // Nova Canvas: each side 320–4096 and a multiple of 16, aspect ratio within 1:4–4:1, at most 4,194,304 pixels.
        var (w, h) = (size.Width, size.Height);
        if (w is < 320 or > 4096 || h is < 320 or > 4096 || w % 16 != 0 || h % 16 != 0 || w > 4 * h || h > 4 * w || (long)w * h > 4_194_304)
            throw r.Invalid("size", $"`size` {size.Text} is not supported by Nova Canvas: each side 320–4096 px and a multiple of 16, aspect ratio between 1:4 and 4:1, at most 4,194,304 pixels");
    }

    /// <summary>SD3 / SD3.5 Large, Stable Image Ultra and Core: <c>{prompt, aspect_ratio?, output_format?, seed?, negative_prompt?, mode?}</c>.</summary>
    private static JsonObject Stability3(Request r)
    {
        if (r.Prompt.Length > 10000) throw r.Invalid("prompt", $"`prompt` is {r.Prompt.Length} characters; Stability models take at most 10000");
        var body = new JsonObject { ["prompt"] = r.Prompt };
        if (r.Int("n") is > 1) r.Unsupported("n", "Stability models on Bedrock make one image per call");
        if (r.Present("size")) r.Unsupported("size", "Stability SD3 / Stable Image take `aspect_ratio` (1:1, 16:9, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21) instead");
        if (r.Present("quality")) r.Unsupported("quality", "Stability models have no quality setting");
        if (r.String("aspect_ratio") is { } ratio) body["aspect_ratio"] = ratio;
        if (r.String("output_format") is { } format)
        {
            if (format is not ("png" or "jpeg")) throw r.Invalid("output_format", $"`output_format` {format} is not supported by Stability models on Bedrock; use png or jpeg");
            body["output_format"] = format;
        }
        if (r.Node("seed") is { } seed) body["seed"] = seed;
        if (r.String("negative_prompt") is { } negative) body["negative_prompt"] = negative;
        if (r.String("mode") is { } mode) body["mode"] = mode;
        return body;
    }

    /// <summary>SDXL: <c>{text_prompts[{text, weight: 1}], width?, height?, cfg_scale?, seed?, steps?, style_preset?, sampler?, clip_guidance_preset?, extras?}</c>.</summary>
    private static JsonObject StabilityXL(Request r)
    {
        var body = new JsonObject { ["text_prompts"] = new JsonArray(new JsonObject { ["text"] = r.Prompt.ReplaceLineEndings(" "), ["weight"] = 1 }) };
        if (r.Int("n") is > 1) r.Unsupported("n", "SDXL on Bedrock makes one image per call");
        if (r.Present("quality")) r.Unsupported("quality", "SDXL has no quality setting (steps and cfg_scale tune it)");
        if (r.Size() is { } size)
        {
            if (Array.IndexOf(BedrockImageFamilies.StabilityXLSizes, size.Text) < 0)
                throw r.Invalid("size", $"`size` {size.Text} is not supported by SDXL; use one of {string.Join(", ", BedrockImageFamilies.StabilityXLSizes)}");
            body["width"] = size.Width;
            body["height"] = size.Height;
        }
        foreach (var name in new[] { "cfg_scale", "seed", "steps", "style_preset", "sampler", "clip_guidance_preset", "extras" })
            if (r.Node(name) is { } value) body[name] = value;
        return body;
    }

    private static LlmException Refused(LlmContext context, string param, string message) => new LlmError
    {
        Kind = ErrorKind.UnsupportedParam,
        Message = message,
        Param = param,
        Code = "unsupported_parameter",
        Provider = context.ProviderName,
    }.ToException();

    /// <summary>The request's fields, read with the dropped ones hidden.</summary>
    private sealed class Request(LlmContext context, JsonElement root, BedrockImageFamily family)
    {
        public BedrockImageFamily Family { get; } = family;
        public string Prompt { get; } = root.GetProperty("prompt").GetString()!;

        public bool Present(string name) => !context.IsDropped(name) && root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

        public string? String(string name)
        {
            if (!Present(name)) return null;
            var v = root.GetProperty(name);
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Invalid(name, $"`{name}` must be a string");
        }

        public int? Int(string name)
        {
            if (!Present(name)) return null;
            var v = root.GetProperty(name);
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Invalid(name, $"`{name}` must be an integer");
        }

        public JsonNode? Node(string name) => Present(name) ? JsonNode.Parse(root.GetProperty(name).GetRawText()) : null;

        /// <summary><c>size</c> as <c>WxH</c> (<c>auto</c> leaves the model's default).</summary>
        public (int Width, int Height, string Text)? Size()
        {
            if (String("size") is not { } s || s == "auto") return null;
            var x = s.IndexOf('x');
            if (x > 0 && int.TryParse(s.AsSpan(0, x), NumberStyles.None, CultureInfo.InvariantCulture, out var w)
                && int.TryParse(s.AsSpan(x + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var h)) return (w, h, s);
            throw Invalid("size", $"`size` {s} must be WIDTHxHEIGHT, e.g. 1024x1024");
        }

        /// <summary>The client's own object (<c>imageGenerationConfig</c>, <c>textToImageParams</c>) merged over the mapped one: its keys win.</summary>
        public void MergeObject(string name, JsonObject into)
        {
            if (!Present(name)) return;
            var v = root.GetProperty(name);
            if (v.ValueKind != JsonValueKind.Object) throw Invalid(name, $"`{name}` must be an object");
            foreach (var p in v.EnumerateObject()) into[p.Name] = JsonNode.Parse(p.Value.GetRawText());
        }

        /// <summary>A field the family has no place for: a 400, or dropped with a warning under drop_params.</summary>
        public void Unsupported(string name, string why)
        {
            if (context.IsDropped(name)) return;
            if (context.DropParams)
            {
                context.AddDroppedParam(name);
                return;
            }
            throw new LlmError
            {
                Kind = ErrorKind.UnsupportedParam,
                Message = $"parameter `{name}` is not supported by bedrock/{context.Deployment!.UpstreamModel}: {why}; remove it, or set drop_params: true to drop it with a warning",
                Param = name,
                Code = "unsupported_parameter",
                Provider = context.ProviderName,
            }.ToException();
        }

        public LlmException Invalid(string param, string message) => LlmError.Invalid(message, param).ToException();
    }
}
