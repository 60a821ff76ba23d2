using System.Text;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Gemini;

namespace LLMux.Tests.Gemini;

/// <summary>Google error bodies → taxonomy kinds and LiteLLM's statuses.</summary>
public sealed class GeminiErrorMapperTests
{
    [Theory]
    [InlineData(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", ErrorKind.InvalidRequest, 400)]
    [InlineData(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", ErrorKind.Auth, 401)]
    [InlineData(400, "FAILED_PRECONDITION", "User location is not supported for the API use.", ErrorKind.InvalidRequest, 400)]
    [InlineData(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", ErrorKind.ContextWindowExceeded, 400)]
    [InlineData(400, "INVALID_ARGUMENT", "400 Request payload size exceeds the limit: 20971520 bytes.", ErrorKind.ContextWindowExceeded, 400)]
    [InlineData(403, "PERMISSION_DENIED", "Vertex AI API has not been used in project 123 before or it is disabled.", ErrorKind.InvalidRequest, 400)]
    [InlineData(403, "PERMISSION_DENIED", "Permission denied on resource.", ErrorKind.Permission, 403)]
    [InlineData(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", ErrorKind.Auth, 401)]
    [InlineData(404, "NOT_FOUND", "models/x is not found.", ErrorKind.NotFound, 404)]
    [InlineData(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", ErrorKind.RateLimit, 429)]
    [InlineData(400, "INVALID_ARGUMENT", "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute.", ErrorKind.RateLimit, 429)]
    [InlineData(500, "INTERNAL", "An internal error has occurred.", ErrorKind.ServerError, 500)]
    [InlineData(503, "UNAVAILABLE", "The model is overloaded. Please try again later.", ErrorKind.ServerError, 500)]
    [InlineData(503, "UNAVAILABLE", "The service is currently unavailable.", ErrorKind.Unavailable, 503)]
    [InlineData(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.", ErrorKind.Timeout, 504)]
    [InlineData(502, "UNKNOWN", "Bad gateway.", ErrorKind.Connection, 500)]
    [InlineData(0, "RESOURCE_EXHAUSTED", "Resource has been exhausted.", ErrorKind.RateLimit, 429)]
    public void Google_errors_map_to_the_taxonomy(int status, string rpc, string message, ErrorKind kind, int httpStatus)
    {
        var body = Encoding.UTF8.GetBytes($$$"""{"error":{"code":{{{(status == 0 ? 429 : status)}}},"message":"{{{message}}}","status":"{{{rpc}}}"}}""");
        var error = GeminiErrorMapper.Map("gemini", status, body, null);
        Assert.Equal(kind, error.Kind);
        Assert.Equal(httpStatus, error.HttpStatus);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void An_error_wrapped_in_an_array_is_read()
    {
        var error = GeminiErrorMapper.Map("gemini", 429, """[{"error":{"code":429,"message":"Resource has been exhausted.","status":"RESOURCE_EXHAUSTED"}}]"""u8, null);
        Assert.Equal(ErrorKind.RateLimit, error.Kind);
        Assert.Equal("RESOURCE_EXHAUSTED", error.Code);
    }

    [Fact]
    public void A_body_that_is_not_json_is_quoted_not_lost()
    {
        var error = GeminiErrorMapper.Map("vertex_ai", 502, "<html>upstream connect error</html>"u8, null);
        Assert.Contains("upstream connect error", error.Message);
    }
}
