using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// Google's image generation byte for byte: Imagen's <c>models/{model}:predict</c> (<c>instances</c>/<c>parameters</c> in,
/// <c>predictions[{bytesBase64Encoded, mimeType}]</c> out) and a Gemini image model's <c>:generateContent</c> with
/// <c>responseModalities</c> (text and <c>inlineData</c> parts, <c>usageMetadata</c>). Edits: Imagen's <c>referenceImages</c>
/// (raw images and a user-provided mask) and a Gemini model's <c>inlineData</c> input parts, each checked to be base64 and
/// kept decoded in <see cref="LastInputImages"/>. AI Studio paths require <c>x-goog-api-key</c>; Vertex paths
/// (<c>/v1/projects/…</c>) a bearer token from the emulator's own service account.
/// </summary>
public sealed class ImagenEmulator : EmulatorHost
{
    private readonly GoogleTokenIssuer _tokens = new("llmux-imagen@emu-project.iam.gserviceaccount.com", "ya29.imagen-emu-");

    public string ApiBase => new Uri(Root, "/v1beta").ToString().TrimEnd('/');

    /// <summary>Vertex <c>api_base</c>: the full model resource URL.</summary>
    public string VertexApiBase(string model) => new Uri(Root, $"/v1/projects/emu-project/locations/us-central1/publishers/google/models/{model}").ToString();

    public string TokenUri => new Uri(Root, GoogleTokenIssuer.Path).ToString();
    public string ServiceAccountJson => _tokens.ServiceAccountJson("emu-project", TokenUri, "emu-imagen-key");
    public IEnumerable<RecordedRequest> ModelRequests => Requests.Where(static r => r.Path != GoogleTokenIssuer.Path);

    /// <summary>The last edit's input images (and mask, last), decoded, with their reference type or media type.</summary>
    public IReadOnlyList<(string Kind, byte[] Bytes)> LastInputImages { get; private set; } = [];

    public static async Task<ImagenEmulator> StartNewAsync()
    {
        var e = new ImagenEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (request.Path == GoogleTokenIssuer.Path)
        {
            await _tokens.AnswerAsync(http, request, TokenUri).ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "application/json";
        if (request.Path.StartsWith("/v1/projects/", StringComparison.Ordinal))
        {
            if (!_tokens.IsIssued(GoogleTokenIssuer.BearerOf(request)))
            {
                await GoogleTokenIssuer.GoogleErrorAsync(http, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.").ConfigureAwait(false);
                return;
            }
        }
        else if (!request.Headers.ContainsKey("x-goog-api-key"))
        {
            http.Response.StatusCode = 403;
            await http.Response.WriteAsync("{\"error\":{\"code\":403,\"message\":\"Method doesn't allow unregistered callers\",\"status\":\"PERMISSION_DENIED\"}}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        if (Inputs(root) is { } problem)
        {
            await GoogleTokenIssuer.GoogleErrorAsync(http, 400, "INVALID_ARGUMENT", problem).ConfigureAwait(false);
            return;
        }
        if (request.Path.EndsWith(":predict", StringComparison.Ordinal))
        {
            var n = root.GetProperty("parameters").TryGetProperty("sampleCount", out var sc) ? sc.GetInt32() : 1;
            var predictions = string.Join(",", Enumerable.Range(0, n).Select(static _ => "{\"bytesBase64Encoded\":\"" + ImagesEmulator.Png + "\",\"mimeType\":\"image/png\"}"));
            await http.Response.WriteAsync("{\"predictions\":[" + predictions + "]}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (request.Path.EndsWith(":generateContent", StringComparison.Ordinal))
        {
            await http.Response.WriteAsync("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Here is your image.\"},{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"" + ImagesEmulator.Png
                + "\"}}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":1290,\"totalTokenCount\":1297},\"modelVersion\":\"gemini-2.5-flash-image\"}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        http.Response.StatusCode = 404;
        await http.Response.WriteAsync("{\"error\":{\"code\":404,\"message\":\"not found\",\"status\":\"NOT_FOUND\"}}", http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Reads an edit's input images into <see cref="LastInputImages"/>; a problem Google would answer 400 for, else null.</summary>
    private string? Inputs(JsonElement root)
    {
        var inputs = new List<(string, byte[])>();
        if (root.TryGetProperty("instances", out var instances) && instances[0].TryGetProperty("referenceImages", out var refs))
        {
            var id = 0;
            foreach (var r in refs.EnumerateArray())
            {
                var type = r.GetProperty("referenceType").GetString()!;
                if (type is not ("REFERENCE_TYPE_RAW" or "REFERENCE_TYPE_MASK")) return "Invalid reference type " + type;
                if (r.GetProperty("referenceId").GetInt32() != ++id) return "referenceId must be unique";
                if (type == "REFERENCE_TYPE_MASK" && r.GetProperty("maskImageConfig").GetProperty("maskMode").GetString() != "MASK_MODE_USER_PROVIDED") return "a mask reference needs maskImageConfig.maskMode";
                if (!TryBase64(r.GetProperty("referenceImage").GetProperty("bytesBase64Encoded").GetString(), out var bytes)) return "Invalid base64 image";
                inputs.Add((type, bytes));
            }
            if (inputs.Count == 0 || inputs[0].Item1 != "REFERENCE_TYPE_RAW") return "an edit needs a raw reference image";
            if (!root.GetProperty("parameters").TryGetProperty("editMode", out _)) return "an edit needs parameters.editMode";
        }
        else if (root.TryGetProperty("contents", out var contents))
        {
            foreach (var part in contents[0].GetProperty("parts").EnumerateArray())
            {
                if (!part.TryGetProperty("inlineData", out var inline)) continue;
                if (!TryBase64(inline.GetProperty("data").GetString(), out var bytes)) return "Invalid value at 'contents[0].parts.inline_data.data' (TYPE_BYTES), Base64 decoding failed";
                inputs.Add((inline.GetProperty("mimeType").GetString()!, bytes));
            }
        }
        if (inputs.Count > 0) LastInputImages = inputs;
        return null;
    }

    private static bool TryBase64(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null) return false;
        try { bytes = Convert.FromBase64String(text); return true; }
        catch (FormatException) { return false; }
    }
}
