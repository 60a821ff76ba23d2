using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Providers.Modes;

namespace LLMux.Host.Endpoints;

/// <summary>
/// <c>POST /v1/images/generations</c> (and <c>/images/generations</c>, Azure's <c>/openai/deployments/{model}/images/generations</c>
/// is not routed): the body is checked by the rules of the target model's family (dall-e-2, dall-e-3, gpt-image) before any
/// call, then forwarded with every field kept and <c>model</c> rewritten; the answer comes back as it is, priced per image
/// or by gpt-image's token usage.
/// </summary>
internal static class ImagesEndpoint
{
    public static void Map(WebApplication app, GatewayConfig config, ModelRegistry registry, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized) =>
        new JsonModeEndpoint(config, pipeline, pool, authorized, LlmMode.Images, (body, caller) => Read(body, caller, config, registry)).Map(app, "/v1/images/generations", "/images/generations");

    private static ModeCall Read(ReadOnlyMemory<byte> body, Caller? caller, GatewayConfig config, ModelRegistry registry)
    {
        var r = ImageRequest.Parse(body, model =>
        {
            var name = ModelNames.GroupOf(config.Settings.Router, caller, model);
            return registry.Group(name) is { Count: > 0 } group ? (group[0].ProviderName, group[0].UpstreamModel) : null;
        });
        return new ModeCall(r.Model, new ModeRequest
        {
            Params = r.Params,
            DropParams = r.DropParams,
            AdditionalDropParams = r.AdditionalDropParams,
            AllowedOpenAIParams = r.AllowedOpenAIParams,
            Parsed = r,
        }, null, null, r.Stream);
    }
}
