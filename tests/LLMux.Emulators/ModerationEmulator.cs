using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// OpenAI's <c>/v1/moderations</c> byte for byte: one result per string of <c>input</c> (one for a multimodal part list),
/// the thirteen categories with scores and, for omni models, <c>category_applied_input_types</c>. A text containing
/// "kill" is flagged for violence; an image part for violence/graphic.
/// </summary>
public sealed class ModerationEmulator : EmulatorHost
{
    public static readonly string[] Categories =
    [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent", "self-harm",
        "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ];

    public (int Status, string Body)? NextError { get; set; }

    public string ApiBase => new Uri(Root, "/v1").ToString();

    public static async Task<ModerationEmulator> StartNewAsync()
    {
        var e = new ModerationEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        http.Response.ContentType = "application/json";
        if (NextError is { } error)
        {
            NextError = null;
            http.Response.StatusCode = error.Status;
            await http.Response.WriteAsync(error.Body, http.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (request.Path != "/v1/moderations")
        {
            http.Response.StatusCode = 404;
            await http.Response.WriteAsync("{\"error\":{\"message\":\"Invalid URL\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        var model = root.TryGetProperty("model", out var m) ? m.GetString()! : "omni-moderation-latest";
        var omni = model.StartsWith("omni", StringComparison.Ordinal);
        var input = root.GetProperty("input");
        var items = new List<(string Text, bool Image)>();
        if (input.ValueKind == JsonValueKind.String) items.Add((input.GetString()!, false));
        else if (input.EnumerateArray().All(static e => e.ValueKind == JsonValueKind.String)) items.AddRange(input.EnumerateArray().Select(static e => (e.GetString()!, false)));
        else
        {
            var text = string.Join(' ', input.EnumerateArray().Where(static e => e.GetProperty("type").GetString() == "text").Select(static e => e.GetProperty("text").GetString()));
            items.Add((text, input.EnumerateArray().Any(static e => e.GetProperty("type").GetString() == "image_url")));
        }
        var sb = new StringBuilder("{\"id\":\"modr-970d409ef3bef3b70c73d8232df86e7d\",\"model\":\"").Append(model).Append("\",\"results\":[");
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(',');
            var (text, image) = items[i];
            var violent = text.Contains("kill", StringComparison.OrdinalIgnoreCase);
            bool Flag(string c) => (c == "violence" && violent) || (c == "violence/graphic" && image);
            double Score(string c) => Flag(c) ? 0.91 : 0.0001;
            sb.Append("{\"flagged\":").Append(violent || image ? "true" : "false").Append(",\"categories\":{");
            sb.Append(string.Join(",", Categories.Select(c => "\"" + c + "\":" + (Flag(c) ? "true" : "false"))));
            sb.Append("},\"category_scores\":{");
            sb.Append(string.Join(",", Categories.Select(c => "\"" + c + "\":" + Score(c).ToString(System.Globalization.CultureInfo.InvariantCulture))));
            sb.Append('}');
            if (omni)
            {
                sb.Append(",\"category_applied_input_types\":{");
                sb.Append(string.Join(",", Categories.Select(c => "\"" + c + "\":" + (image && c is "violence" or "violence/graphic" or "self-harm" or "sexual" ? "[\"text\",\"image\"]" : "[\"text\"]"))));
                sb.Append('}');
            }
            sb.Append('}');
        }
        sb.Append("]}");
        await http.Response.WriteAsync(sb.ToString(), http.RequestAborted).ConfigureAwait(false);
    }
}
