using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// Google's image generation byte for byte: Imagen's <c>models/{model}:predict</c> (<c>instances</c>/<c>parameters</c> in,
/// <c>predictions[{bytesBase64Encoded, mimeType}]</c> out) and a Gemini image model's <c>:generateContent</c> with
/// <c>responseModalities</c> (text and <c>inlineData</c> parts, <c>usageMetadata</c>). Requires <c>x-goog-api-key</c>.
/// </summary>
public sealed class ImagenEmulator : EmulatorHost
{
    public string ApiBase => new Uri(Root, "/v1beta").ToString().TrimEnd('/');

    public static async Task<ImagenEmulator> StartNewAsync()
    {
        var e = new ImagenEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        http.Response.ContentType = "application/json";
        if (!request.Headers.ContainsKey("x-goog-api-key"))
        {
            http.Response.StatusCode = 403;
            await http.Response.WriteAsync("{\"error\":{\"code\":403,\"message\":\"Method doesn't allow unregistered callers\",\"status\":\"PERMISSION_DENIED\"}}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
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
}
