using System.Text.Json;
using LLMux.Governance.Auth;
using LLMux.Host.Admin;
using LLMux.Host.Endpoints;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Caching;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LLMux.Host.Caching;

/// <summary>
/// LiteLLM's cache admin routes, behind the master key (or open, as every route is, when no master key is set):
/// <c>GET /cache/ping</c>, <c>POST /cache/delete</c> <c>{"keys": [...]}</c>, <c>POST /cache/flushall</c>.
/// Without a configured cache they answer 503, as LiteLLM does.
/// </summary>
internal sealed partial class CacheAdminEndpoints(ICacheAdmin? cache, RequestAuthenticator auth, ILogger logger)
{
    public void Map(WebApplication app)
    {
        app.Map("/cache/ping", http => RunAsync(http, "/cache/ping", "GET", PingAsync));
        app.Map("/cache/delete", http => RunAsync(http, "/cache/delete", "POST", DeleteAsync));
        app.Map("/cache/flushall", http => RunAsync(http, "/cache/flushall", "POST", FlushAsync));
    }

    private async Task RunAsync(HttpContext http, string path, string method, Func<HttpContext, ICacheAdmin, AdminBody, Task> handler)
    {
        if (!string.Equals(http.Request.Method, method, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers.Allow = method;
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.MethodNotAllowed, Message = $"{http.Request.Method} is not allowed on {path}; use {method}", Code = "method_not_allowed" });
            return;
        }
        if (!await auth.AuthorizeAsync(http.Request)) { await ErrorAsync(http, RequestAuthenticator.FailureOf(http)); return; }
        var caller = RequestAuthenticator.CallerOf(http);
        if (caller is not { IsAdmin: true } && !ReferenceEquals(caller, Caller.Anonymous)) { await ErrorAsync(http, GovernanceErrors.NotAdmin(path)); return; }
        if (cache is null)
        {
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.Unavailable, Message = "Cache not initialized: set litellm_settings.cache: true", Code = "cache_not_initialized" });
            return;
        }
        using var body = method == "POST" ? await AdminBody.ReadAsync(http.Request, http.RequestAborted) : AdminBody.Empty();
        try
        {
            await handler(http, cache, body);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The store's own failure (Redis down): named, not hidden; the caller can retry.
            LogStoreFailure(logger, path, ex);
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.Unavailable, Message = $"the {cache.CacheType} cache could not complete {path}: {ex.GetType().Name}: {ex.Message}", Code = "cache_unavailable" });
        }
    }

    private static async Task PingAsync(HttpContext http, ICacheAdmin cache, AdminBody body)
    {
        await cache.PingAsync(http.RequestAborted);
        await JsonAsync(http, w =>
        {
            w.WriteString("status", "healthy");
            w.WriteString("cache_type", cache.CacheType);
            w.WriteBoolean("ping_response", true);
        });
    }

    private static async Task DeleteAsync(HttpContext http, ICacheAdmin cache, AdminBody body)
    {
        var keys = body.Strings("keys");
        if (keys is null) body.Problems.Add("`keys` (a list of cache keys, as x-litellm-cache-key shows them) is required");
        body.RejectUnknown();
        if (body.Problems.Count > 0)
        {
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.InvalidRequest, Message = "invalid request: " + string.Join("; ", body.Problems) + ". Nothing was deleted.", Param = "keys" });
            return;
        }
        var deleted = await cache.DeleteAsync(keys!, http.RequestAborted);
        await JsonAsync(http, w =>
        {
            w.WriteString("status", "success");
            w.WriteNumber("deleted", deleted);
        });
    }

    private static async Task FlushAsync(HttpContext http, ICacheAdmin cache, AdminBody body)
    {
        body.RejectUnknown();
        if (body.Problems.Count > 0)
        {
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.InvalidRequest, Message = "invalid request: " + string.Join("; ", body.Problems) + ". Nothing was flushed." });
            return;
        }
        await cache.FlushAsync(http.RequestAborted);
        await JsonAsync(http, static w => w.WriteString("status", "success"));
    }

    private static async Task JsonAsync(HttpContext http, Action<Utf8JsonWriter> write)
    {
        http.Response.ContentType = "application/json";
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        await http.Response.Body.WriteAsync(ms.GetBuffer().AsMemory(0, (int)ms.Length), http.RequestAborted);
    }

    private static Task ErrorAsync(HttpContext http, LlmError error) => ResponseWriter.WriteErrorAsync(http, null, error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cache admin {Path} failed")]
    private static partial void LogStoreFailure(ILogger logger, string path, Exception ex);
}
