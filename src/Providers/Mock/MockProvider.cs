using LLMux.Pipeline.Context;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Mock;

/// <summary>
/// The mock goes through the same OpenAI request writer, transport, decoder and pump as a real upstream;
/// only the transport is an in-process handler that answers deterministically.
/// </summary>
public sealed class MockProvider(TimeProvider timeProvider) : OpenAIProvider(MockSpec.Spec)
{
    private readonly HttpMessageInvoker _transport = new(new MockUpstreamHandler(timeProvider), disposeHandler: true);

    public MockProvider() : this(TimeProvider.System) { }

    public override HttpMessageInvoker? Transport => _transport;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var request = base.CreateRequest(context);
        request.Options.Set(MockBehavior.OptionKey, MockBehavior.From(context));
        return request;
    }
}
