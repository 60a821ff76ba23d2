using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Gemini;

/// <summary>Media references (data URIs, gs:// and http URLs) → Gemini <c>inline_data</c> / <c>file_data</c> parts.</summary>
internal static class GeminiMediaParts
{
    private static readonly Dictionary<string, string> MimeByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        ["png"] = "image/png", ["jpg"] = "image/jpeg", ["jpeg"] = "image/jpeg", ["gif"] = "image/gif", ["webp"] = "image/webp",
        ["heic"] = "image/heic", ["heif"] = "image/heif", ["pdf"] = "application/pdf", ["txt"] = "text/plain",
        ["mp3"] = "audio/mp3", ["wav"] = "audio/wav", ["flac"] = "audio/flac", ["ogg"] = "audio/ogg", ["aac"] = "audio/aac",
        ["mp4"] = "video/mp4", ["mov"] = "video/mov", ["webm"] = "video/webm", ["mpeg"] = "video/mpeg", ["avi"] = "video/avi",
    };

    /// <summary>Writes one part for <paramref name="url"/>; <paramref name="format"/> is the client's mime hint.</summary>
    public static void Write(Utf8JsonWriter w, string url, string? format, string param)
    {
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = url.IndexOf(',');
            var header = comma < 0 ? "" : url[5..comma];
            if (comma < 0 || !header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
                throw LlmError.Invalid($"`{param}` is a data URI that is not base64 (expected data:<mime>;base64,<data>)", param).ToException();
            var mime = header[..^7];
            w.WriteStartObject();
            w.WriteStartObject("inline_data"u8);
            w.WriteString("mime_type"u8, string.IsNullOrEmpty(mime) ? format ?? "application/octet-stream" : mime);
            w.WriteString("data"u8, url.AsSpan(comma + 1));
            w.WriteEndObject();
            w.WriteEndObject();
            return;
        }
        if (url.StartsWith("gs://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            var mime = format ?? MimeFromUrl(url)
                ?? throw LlmError.Invalid($"cannot tell the media type of `{url}` from its name; add `format` (e.g. \"image/png\") to the {param} part", param).ToException();
            w.WriteStartObject();
            w.WriteStartObject("file_data"u8);
            w.WriteString("mime_type"u8, mime);
            w.WriteString("file_uri"u8, url);
            w.WriteEndObject();
            w.WriteEndObject();
            return;
        }
        throw LlmError.Invalid($"`{param}` must be a data URI, a gs:// URI or an http(s) URL", param).ToException();
    }

    public static void WriteBase64(Utf8JsonWriter w, string mime, string data)
    {
        w.WriteStartObject();
        w.WriteStartObject("inline_data"u8);
        w.WriteString("mime_type"u8, mime);
        w.WriteString("data"u8, data);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string? MimeFromUrl(string url)
    {
        var path = url;
        var q = path.IndexOfAny(['?', '#']);
        if (q >= 0) path = path[..q];
        var slash = path.LastIndexOf('/');
        var dot = path.LastIndexOf('.');
        if (dot <= slash) return null;
        return MimeByExtension.TryGetValue(path[(dot + 1)..], out var mime) ? mime : null;
    }
}
