using System.Globalization;
using LLMux.Pipeline.Errors;

namespace LLMux.Governance.Auth;

/// <summary>
/// LiteLLM's auth, budget and limit errors: its statuses and messages. Auth errors keep LLMux's <c>type</c>
/// (<c>authentication_error</c>, what OpenAI's SDKs expect) and carry LiteLLM's type name in <c>code</c>
/// (<c>token_not_found_in_db</c>, <c>expired_key</c>, <c>key_model_access_denied</c>); over budget is LiteLLM's
/// <c>budget_exceeded</c> in both. Keys are never echoed, only their <c>sk-...abcd</c> name.
/// </summary>
public static class GovernanceErrors
{
    public static LlmError NoKey() => Auth("Authentication Error, No api key passed in.");

    public static LlmError NotVirtualKey(string masked) =>
        Auth($"Authentication Error, LiteLLM Virtual Key expected. Received={masked}, expected to start with 'sk-'.");

    public static LlmError UnknownKey(string keyName) => new()
    {
        Kind = ErrorKind.Auth,
        Code = "token_not_found_in_db",
        Param = "key",
        Message = $"Authentication Error, Invalid proxy server token passed. Received API Key = {keyName}. Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
    };

    public static LlmError Expired(DateTimeOffset expires, DateTimeOffset now) => new()
    {
        Kind = ErrorKind.InvalidRequest,
        Code = "expired_key",
        Message = $"Authentication Error - Expired Key. Key Expiry time {Iso(expires)} and current time {Iso(now)}",
    };

    public static LlmError KeyBlocked() => Auth("Authentication Error, Key is blocked. Update via `/key/unblock` if you're admin.");

    public static LlmError TeamBlocked(string teamId) => Auth($"Authentication Error, Team={teamId} is blocked. Update via `/team/unblock` if you're admin.");

    public static LlmError CustomerBlocked(string id) => new()
    {
        Kind = ErrorKind.Permission,
        Code = "end_user_blocked",
        Message = $"End User={id} is blocked. Update via `/customer/unblock` if you're admin.",
    };

    public static LlmError ModelDenied(string scope, string model, IReadOnlyList<string> allowed) => new()
    {
        Kind = ErrorKind.Auth,
        Code = scope + "_model_access_denied",
        Param = "model",
        Message = $"{scope} not allowed to access model. This {scope} can only access models=[{string.Join(", ", allowed)}]. Tried to access {model}",
    };

    public static LlmError NotAdmin(string path) => new()
    {
        Kind = ErrorKind.Auth,
        Code = "auth_error",
        Message = $"Authentication Error, only the proxy admin (the master key) may call {path}",
        StatusOverride = 403,
    };

    /// <summary>400 <c>budget_exceeded</c>, LiteLLM's messages per scope.</summary>
    public static LlmError BudgetExceeded(string scope, string? id, decimal spend, decimal max) => new()
    {
        Kind = ErrorKind.InvalidRequest,
        TypeOverride = "budget_exceeded",
        Code = "budget_exceeded",
        Message = scope switch
        {
            "team" => $"Budget has been exceeded! Team={id} Current cost: {Money(spend)}, Max budget: {Money(max)}",
            "user" => $"ExceededBudget: User={id} over budget. Spend={Money(spend)}, Budget={Money(max)}",
            "customer" => $"ExceededBudget: End User={id} over budget. Spend={Money(spend)}, Budget={Money(max)}",
            "model" => $"Budget has been exceeded for model={id}! Current cost: {Money(spend)}, Max budget: {Money(max)}",
            "team model" => $"Budget has been exceeded for Team={id}! Current cost: {Money(spend)}, Max budget: {Money(max)}",
            "user model" => $"Budget has been exceeded for User={id}! Current cost: {Money(spend)}, Max budget: {Money(max)}",
            "customer model" => $"Budget has been exceeded for End User={id}! Current cost: {Money(spend)}, Max budget: {Money(max)}",
            _ => $"Budget has been exceeded! Current cost: {Money(spend)}, Max budget: {Money(max)}",
        },
    };

    /// <summary>429 with the real time left in the window as Retry-After.</summary>
    public static LlmError RateLimited(string descriptor, string value, string limitType, long limit, long remaining, DateTimeOffset resetsAt, TimeSpan retryAfter) => new()
    {
        Kind = ErrorKind.RateLimit,
        Message = $"Rate limit exceeded for {descriptor}: {value}. Limit type: {limitType}. Current limit: {limit}, Remaining: {remaining}. Limit resets at: {resetsAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC",
        RetryAfter = retryAfter,
    };

    private static LlmError Auth(string message) => new() { Kind = ErrorKind.Auth, Code = "auth_error", Message = message };

    private static string Money(decimal d) => d.ToString("0.##########", CultureInfo.InvariantCulture);
    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
