using LLMux.Pipeline.Errors;
using LLMux.Providers.Bedrock;

namespace LLMux.Tests.Bedrock;

/// <summary>AWS error type, status and message → taxonomy, for HTTP answers and stream exception messages alike.</summary>
public sealed class BedrockErrorMapperTests
{
    [Theory]
    [InlineData(429, "ThrottlingException", "Too many tokens, please wait before trying again.", ErrorKind.RateLimit)]
    [InlineData(429, "ModelNotReadyException", "Model is not ready.", ErrorKind.RateLimit)]
    [InlineData(400, "ValidationException", "Input is too long for requested model.", ErrorKind.ContextWindowExceeded)]
    [InlineData(400, "ValidationException", "prompt is too long: 210000 tokens > 200000 maximum", ErrorKind.ContextWindowExceeded)]
    [InlineData(400, "ValidationException", "The model returned the following errors: Malformed input request", ErrorKind.InvalidRequest)]
    [InlineData(403, "AccessDeniedException", "You don't have access to the model with the specified model ID.", ErrorKind.Permission)]
    [InlineData(403, "UnrecognizedClientException", "The security token included in the request is invalid.", ErrorKind.Auth)]
    [InlineData(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.", ErrorKind.Auth)]
    [InlineData(403, null, "forbidden", ErrorKind.Permission)]
    [InlineData(404, "ResourceNotFoundException", "Could not resolve the foundation model.", ErrorKind.NotFound)]
    [InlineData(408, "ModelTimeoutException", "Model has timed out.", ErrorKind.Timeout)]
    [InlineData(424, "ModelErrorException", "The model failed.", ErrorKind.ServerError)]
    [InlineData(500, "InternalServerException", "Internal error.", ErrorKind.Unavailable)]
    [InlineData(503, "ServiceUnavailableException", "Bedrock is unable to process your request.", ErrorKind.Unavailable)]
    [InlineData(0, "throttlingException", "Too many requests.", ErrorKind.RateLimit)]
    [InlineData(0, "modelStreamErrorException", "The stream failed.", ErrorKind.ServerError)]
    [InlineData(0, "validationException", "Too many input tokens.", ErrorKind.ContextWindowExceeded)]
    public void Classifies_like_litellm_with_the_aws_type_first_for_throttles(int status, string? type, string message, ErrorKind kind)
    {
        Assert.Equal(kind, BedrockErrorMapper.Classify(status, type, message));
    }

    [Fact]
    public void Stream_exception_keeps_the_aws_message_and_names_the_type()
    {
        var error = BedrockErrorMapper.FromStreamException("throttlingException", """{"message":"Slow down."}"""u8);
        Assert.Equal(429, error.HttpStatus);
        Assert.Contains("Slow down.", error.Message);
        Assert.Equal("ThrottlingException", error.Code);
    }

    [Fact]
    public void Unparseable_error_body_is_quoted_not_lost()
    {
        Assert.Equal("<html>502</html>", BedrockErrorMapper.ReadMessage("<html>502</html>"u8));
        Assert.Equal("m", BedrockErrorMapper.ReadMessage("""{"Message":"m"}"""u8));
    }
}

