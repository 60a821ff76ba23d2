using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// A Databricks workspace as its docs describe it: OAuth M2M at <c>POST /oidc/v1/token</c> (HTTP Basic with the service
/// principal's client id and secret, form <c>grant_type=client_credentials&amp;scope=all-apis</c>) answering
/// <c>{"access_token","scope","token_type":"Bearer","expires_in":3600}</c> or 401 <c>{"error":"invalid_client",
/// "error_description"}</c>; Model Serving's OpenAI-compatible <c>POST /serving-endpoints/chat/completions</c> (JSON,
/// or SSE chunks when <c>stream</c> is true) for a bearer that is a PAT in <see cref="Pats"/> or a token it issued,
/// else 401 <c>{"error_code":"401","message":"Credential was not sent or was of an unsupported type for this API."}</c>.
/// </summary>
public sealed class DatabricksEmulator : EmulatorHost
{
    private int _issued;
    private readonly ConcurrentDictionary<string, bool> _tokens = new();

    /// <summary>Service principals: client id → secret.</summary>
    public ConcurrentDictionary<string, string> Clients { get; } = new();
    public ConcurrentDictionary<string, bool> Pats { get; } = new();
    public int TokensIssued => Volatile.Read(ref _issued);

    public static async Task<DatabricksEmulator> StartNewAsync()
    {
        var e = new DatabricksEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    /// <summary>The api_base LiteLLM users write: <c>https://&lt;workspace&gt;/serving-endpoints</c>.</summary>
    public string ApiBase => Root.ToString().TrimEnd('/') + "/serving-endpoints";

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var ct = http.RequestAborted;
        http.Response.ContentType = "application/json";
        if (request.Path == "/oidc/v1/token")
        {
            var auth = request.Headers.GetValueOrDefault("authorization") ?? "";
            var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.BodyText);
            string? id = null, secret = null;
            if (auth.StartsWith("Basic ", StringComparison.Ordinal))
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth["Basic ".Length..]));
                var colon = pair.IndexOf(':');
                if (colon > 0) (id, secret) = (Uri.UnescapeDataString(pair[..colon]), Uri.UnescapeDataString(pair[(colon + 1)..]));
            }
            if (form.GetValueOrDefault("grant_type") != "client_credentials" || form.GetValueOrDefault("scope") != "all-apis")
            {
                http.Response.StatusCode = 400;
                await http.Response.WriteAsync("{\"error\":\"invalid_request\",\"error_description\":\"grant_type must be client_credentials\"}", ct).ConfigureAwait(false);
                return;
            }
            if (id is null || !Clients.TryGetValue(id, out var expected) || expected != secret)
            {
                http.Response.StatusCode = 401;
                await http.Response.WriteAsync("{\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed\"}", ct).ConfigureAwait(false);
                return;
            }
            var token = "dbx-oauth-" + Interlocked.Increment(ref _issued);
            _tokens[token] = true;
            await http.Response.WriteAsync("{\"access_token\":\"" + token + "\",\"scope\":\"all-apis\",\"token_type\":\"Bearer\",\"expires_in\":3600}", ct).ConfigureAwait(false);
            return;
        }
        var bearer = (request.Headers.GetValueOrDefault("authorization") ?? "") is var a && a.StartsWith("Bearer ", StringComparison.Ordinal) ? a["Bearer ".Length..] : "";
        if (!_tokens.ContainsKey(bearer) && !Pats.ContainsKey(bearer))
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsync("{\"error_code\":\"401\",\"message\":\"Credential was not sent or was of an unsupported type for this API.\"}", ct).ConfigureAwait(false);
            return;
        }
        if (request.Path != "/serving-endpoints/chat/completions")
        {
            http.Response.StatusCode = 404;
            await http.Response.WriteAsync("{\"error_code\":\"ENDPOINT_NOT_FOUND\",\"message\":\"no route\"}", ct).ConfigureAwait(false);
            return;
        }
        using var body = JsonDocument.Parse(request.Body);
        var model = body.RootElement.GetProperty("model").GetString();
        if (body.RootElement.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True)
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi from Databricks.\"},\"finish_reason\":null}]}\n\n" +
                "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4,\"total_tokens\":9}}\n\ndata: [DONE]\n\n", ct).ConfigureAwait(false);
            return;
        }
        await http.Response.WriteAsync("{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi from Databricks.\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4,\"total_tokens\":9}}", ct).ConfigureAwait(false);
    }
}
