using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Modes;

namespace LLMux.Host.Endpoints;

/// <summary>
/// <c>POST /v1/moderations</c> (and <c>/moderations</c>): the body goes to a provider with the moderation mode (OpenAI, or
/// any OpenAI-compatible server configured as <c>openai/</c> with its api_base) with <c>model</c> rewritten. Without a
/// <c>model</c>, the first configured model whose provider moderates is used (LiteLLM's default moderation model).
/// </summary>
internal static class ModerationsEndpoint
{
    public static void Map(WebApplication app, GatewayConfig config, ModelRegistry registry, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized) =>
        new JsonModeEndpoint(config, pipeline, pool, authorized, LlmMode.Moderation, (body, _) => Read(body, registry)).Map(app, "/v1/moderations", "/moderations");

    private static ModeCall Read(ReadOnlyMemory<byte> body, ModelRegistry registry)
    {
        var r = ModerationRequest.Parse(body);
        var model = r.Model ?? DefaultModel(registry)
            ?? throw LlmError.Invalid("`model` is required: no configured model has a provider with the moderation mode (configure e.g. openai/omni-moderation-latest)", "model").ToException();
        return new ModeCall(model, new ModeRequest { Params = r.Params, Parsed = r }, null, null);
    }

    private static string? DefaultModel(ModelRegistry registry)
    {
        foreach (var d in registry.All)
            if (d.Provider.Spec.Supports(LlmMode.Moderation)) return d.ModelName;
        return null;
    }
}
