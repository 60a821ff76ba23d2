using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;

namespace LLMux.Host.Endpoints;

/// <summary>
/// An exception that no stage turned into an <see cref="LlmError"/> is a bug. The client still gets the API's own error
/// shape, a 500 (OpenAI error JSON; Anthropic's on <c>/v1/messages</c>), or, once a stream has started, its final error
/// frame; never an empty 500 or a clean end. The message names the request id and nothing else: an exception's text can
/// hold anything, keys included, so it goes to the log only, once, under that id.
/// </summary>
internal static partial class UnexpectedErrors
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "unexpected failure in {Method} {Path} (request {RequestId}); the client got a generic server_error")]
    private static partial void LogFailure(ILogger logger, Exception exception, string method, string path, string requestId);

    /// <summary>The outermost middleware: what escapes every endpoint's own handling is logged and answered here.</summary>
    public static async Task HandleAsync(HttpContext http, RequestDelegate next)
    {
        try
        {
            await next(http).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody is left to answer.
        }
        catch (Exception ex)
        {
            Log(http, ex);
            await AnswerAsync(http).ConfigureAwait(false);
        }
    }

    /// <summary>The error the client sees: generic, with the id the log line carries.</summary>
    public static LlmError Error(HttpContext http) => new()
    {
        Kind = ErrorKind.ServerError,
        Message = $"LLMux failed unexpectedly while handling this request (request id {http.TraceIdentifier}); the gateway's log has the cause under that id",
        Code = "internal_error",
    };

    public static void Log(HttpContext http, Exception exception)
    {
        var logger = http.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("LLMux.Host.UnexpectedErrors");
        if (logger is not null) LogFailure(logger, exception, http.Request.Method, http.Request.Path.Value ?? "", http.TraceIdentifier);
    }

    /// <summary>
    /// <paramref name="error"/>, unless the pump ended on a bug (<see cref="StreamPump.Fault"/>): then that is logged
    /// and the client gets the generic error naming the request id.
    /// </summary>
    public static LlmError ForStream(HttpContext http, StreamPump pump, LlmError error)
    {
        if (pump.Fault is not { } fault) return error;
        Log(http, fault);
        return Error(http);
    }

    /// <summary>Anthropic's error shapes on <c>/v1/messages</c> (and its count_tokens), OpenAI's elsewhere.</summary>
    public static ClientProtocol ProtocolOf(HttpContext http) =>
        http.Request.Path.StartsWithSegments("/v1/messages", StringComparison.Ordinal) ? ClientProtocol.Anthropic : ClientProtocol.OpenAI;

    private static async Task AnswerAsync(HttpContext http)
    {
        var response = http.Response;
        var error = Error(http);
        var protocol = ProtocolOf(http);
        if (!response.HasStarted)
        {
            // Whatever the endpoint had set (a content length, LLMux headers of an answer) no longer describes the body.
            response.Clear();
            await ResponseWriter.WriteErrorAsync(http, error, protocol).ConfigureAwait(false);
            return;
        }
        if (response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                var writer = response.BodyWriter;
                if (IsResponses(http)) ResponsesEndpoint.WriteRawErrorFrame(writer, error);
                else ResponseWriter.WriteErrorFrame(writer, protocol, error);
                await writer.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
            {
                // The connection is gone or the body closed: fall through to the abort.
            }
        }
        // A started JSON body cannot become an error any more: cut the connection so that no client takes it as whole.
        http.Abort();
    }

    private static bool IsResponses(HttpContext http)
    {
        var path = http.Request.Path;
        return path.StartsWithSegments("/v1/responses", StringComparison.Ordinal) || path.StartsWithSegments("/responses", StringComparison.Ordinal)
            || path.StartsWithSegments("/openai/v1/responses", StringComparison.Ordinal);
    }
}
