using LLMux.Pipeline.Context;

namespace LLMux.Providers.Common;

/// <summary>How <c>/v1/completions</c> reaches one deployment.</summary>
public enum CompletionRoute
{
    /// <summary>One chat call per prompt (the provider has no text-completion API).</summary>
    Bridge,
    /// <summary>The provider's own <c>/completions</c>: the body is forwarded, text_completion objects come back.</summary>
    Native,
    /// <summary>A fill-in-the-middle endpoint (Mistral/Codestral <c>/fim/completions</c>): one call per prompt, chat-shaped answers.</summary>
    Fim,
}

/// <summary>A provider that can serve <c>/v1/completions</c> other than through the chat bridge.</summary>
public interface ICompletionsUpstream
{
    /// <summary>The route for <paramref name="deployment"/>; <c>litellm_params.completion_api</c> (native, fim, bridge) wins.</summary>
    CompletionRoute CompletionRouteFor(Deployment deployment);
}
