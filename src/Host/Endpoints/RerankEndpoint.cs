using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Providers.Modes;

namespace LLMux.Host.Endpoints;

/// <summary>
/// <c>POST /v1/rerank</c>, <c>/v2/rerank</c> and <c>/rerank</c> in Cohere's shape (<c>query</c>, <c>documents</c> as strings or
/// objects, <c>top_n</c>, <c>return_documents</c>, <c>rank_fields</c>) → <c>{id, results[{index, relevance_score, document?}],
/// meta.billed_units}</c>, for every provider whose spec has the rerank mode.
/// </summary>
internal static class RerankEndpoint
{
    public static void Map(WebApplication app, GatewayConfig config, StageDelegate pipeline, LlmContextPool pool, Func<HttpRequest, bool> authorized) =>
        new JsonModeEndpoint(config, pipeline, pool, authorized, LlmMode.Rerank, static (body, _) => Read(body)).Map(app, "/v1/rerank", "/v2/rerank", "/rerank");

    private static ModeCall Read(ReadOnlyMemory<byte> body)
    {
        var r = RerankRequest.Parse(body);
        return new ModeCall(r.Model, new ModeRequest
        {
            Params = r.Params,
            DropParams = r.DropParams,
            AdditionalDropParams = r.AdditionalDropParams,
            AllowedOpenAIParams = r.AllowedOpenAIParams,
            Parsed = r,
        }, r.Timeout, r.Document);
    }
}
