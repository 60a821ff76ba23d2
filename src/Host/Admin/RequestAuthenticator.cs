using System.Security.Cryptography;
using System.Text;
using LLMux.Governance;
using LLMux.Governance.Auth;
using LLMux.Host.Config;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Host.Admin;

/// <summary>
/// Authenticates every LLM and admin route from the request headers alone (before the body is read):
/// <c>Authorization: Bearer</c>, <c>x-api-key</c>, <c>api-key</c>, <c>x-goog-api-key</c>, <c>x-litellm-api-key</c>.
/// With governance on, the key is the master key or a virtual key; without a master key every caller is let in.
/// The outcome is kept on the request (<see cref="CallerOf"/>, <see cref="FailureOf"/>) for the endpoint and its stores.
/// A signed-in admin console session (its cookie plus the session's CSRF token in <c>x-llmux-csrf</c>) counts as the
/// master key on the management routes only, so the console's pages drive the same admin API as curl does.
/// </summary>
internal sealed class RequestAuthenticator(GatewayConfig config, GovernanceService? governance, Ui.ConsoleSessions? console = null)
{
    private readonly byte[]? _masterKey = config.MasterKey is { } k ? Encoding.UTF8.GetBytes(k.Reveal()) : null;

    /// <summary>The per-request outcome, as an HttpContext feature.</summary>
    internal sealed class Outcome(Caller? caller, LlmError? failure)
    {
        public Caller? Caller { get; } = caller;
        public LlmError? Failure { get; } = failure;
    }

    public GovernanceService? Governance => governance;

    /// <summary>
    /// The request's outcome, computed once: by <see cref="AuthorizeAsync"/> in the host's middleware (so a key-cache miss
    /// reads the store without blocking a thread), or here synchronously for a host that has no such middleware.
    /// </summary>
    public bool Authorize(HttpRequest request)
    {
        if (request.HttpContext.Features.Get<Outcome>() is { } done) return done.Caller is not null;
        var pending = AuthorizeAsync(request);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    public ValueTask<bool> AuthorizeAsync(HttpRequest request)
    {
        var features = request.HttpContext.Features;
        if (_masterKey is null)
        {
            features.Set(new Outcome(Caller.Anonymous, null));
            return new(true);
        }
        var presented = PresentedKey(request);
        if (presented is null && console is not null && request.Cookies.TryGetValue(Ui.ConsoleSessions.CookieName, out var cookie))
            return new(AuthorizeConsole(request, cookie));
        if (governance is null)
        {
            var ok = presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _masterKey);
            features.Set(new Outcome(ok ? new Caller { KeyHash = "master", IsAdmin = true } : null, ok ? null : GovernanceErrors.NoKey()));
            return new(ok);
        }
        var pending = governance.AuthenticateAsync(presented, request.HttpContext.RequestAborted);
        if (pending.IsCompletedSuccessfully) return new(Decide(request, pending.Result.Caller, pending.Result.Error));
        return Awaited(request, pending);

        async ValueTask<bool> Awaited(HttpRequest request, ValueTask<(Caller? Caller, LlmError? Error)> pending)
        {
            var (caller, error) = await pending.ConfigureAwait(false);
            // The grant is cached now: the route check below reads it without a store call.
            if (caller is { IsAdmin: false }) await governance!.GrantAsync(caller.KeyHash).ConfigureAwait(false);
            return Decide(request, caller, error);
        }
    }

    private bool Decide(HttpRequest request, Caller? caller, LlmError? error)
    {
        if (caller is { IsAdmin: false } && governance!.Grant(caller.KeyHash) is { Key.AllowedRoutes: { Count: > 0 } routes } && !RouteAllowed(routes, request.Path.Value ?? ""))
        {
            error = new LlmError
            {
                Kind = ErrorKind.Permission,
                Code = "route_not_allowed",
                Message = $"Virtual key is not allowed to call this route. Only allowed to call routes: [{string.Join(", ", routes)}]. Tried to call route: {request.Path.Value}",
            };
            caller = null;
        }
        request.HttpContext.Features.Set(new Outcome(caller, error));
        return caller is not null;
    }

    private bool AuthorizeConsole(HttpRequest request, string cookie)
    {
        var features = request.HttpContext.Features;
        var session = console!.Find(cookie);
        LlmError? error = null;
        if (session is null) error = new LlmError { Kind = ErrorKind.Auth, Code = "console_session_expired", Message = "The admin console session has ended; sign in again at /ui/login." };
        else if (!IsManagement(request.Path.Value ?? "")) error = new LlmError { Kind = ErrorKind.Auth, Code = "console_session_not_a_key", Message = "An admin console session reaches the management routes only; send a key as Authorization: Bearer to call the model routes." };
        else if (!Ui.ConsoleSessions.CsrfMatches(session, request.Headers[Ui.ConsoleSessions.CsrfHeader].ToString()))
            error = new LlmError { Kind = ErrorKind.Permission, Code = "csrf_token_missing", Message = $"Requests made with the admin console's session must carry its CSRF token in the {Ui.ConsoleSessions.CsrfHeader} header." };
        var caller = error is null ? new Caller { KeyHash = governance?.MasterKeyHash ?? "master", IsAdmin = true } : null;
        features.Set(new Outcome(caller, error));
        return caller is not null;
    }

    /// <summary>The authenticated caller of this request (null before <see cref="Authorize"/> or when it failed).</summary>
    public static Caller? CallerOf(HttpContext http) => http.Features.Get<Outcome>()?.Caller;

    /// <summary>Why <see cref="Authorize"/> refused this request, in LiteLLM's words.</summary>
    public static LlmError FailureOf(HttpContext http) => http.Features.Get<Outcome>()?.Failure ?? GovernanceErrors.NoKey();

    /// <summary><c>allowed_routes</c>: exact paths, or prefixes ending in <c>*</c>; <c>llm_api_routes</c> names every LLM route.</summary>
    internal static bool RouteAllowed(IReadOnlyList<string> routes, string path)
    {
        foreach (var r in routes)
        {
            if (string.Equals(r, path, StringComparison.Ordinal)) return true;
            if (r.EndsWith('*') && path.StartsWith(r.AsSpan(0, r.Length - 1), StringComparison.Ordinal)) return true;
            if (r is "llm_api_routes" or "openai_routes" && !IsManagement(path)) return true;
        }
        return false;
    }

    private static bool IsManagement(string path) =>
        path.StartsWith("/key/", StringComparison.Ordinal) || path.StartsWith("/team/", StringComparison.Ordinal)
        || path.StartsWith("/user/", StringComparison.Ordinal) || path.StartsWith("/spend/", StringComparison.Ordinal)
        || path.StartsWith("/customer/", StringComparison.Ordinal) || path.StartsWith("/end_user/", StringComparison.Ordinal)
        || path.StartsWith("/global/", StringComparison.Ordinal);

    internal static string? PresentedKey(HttpRequest request)
    {
        var h = request.Headers;
        var auth = h.Authorization.ToString();
        if (auth.Length > 0)
        {
            if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return auth[7..].Trim();
            if (auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return auth[6..].Trim();
            return auth.Trim();
        }
        if (h.TryGetValue("x-api-key", out var x)) return x.ToString();
        if (h.TryGetValue("api-key", out var a)) return a.ToString();
        if (h.TryGetValue("x-goog-api-key", out var g)) return g.ToString();
        if (h.TryGetValue("x-litellm-api-key", out var l)) return l.ToString().Replace("Bearer ", "", StringComparison.OrdinalIgnoreCase).Trim();
        return null;
    }
}
