using LLMux.Pipeline.Capabilities;
using LLMux.Providers.OpenAICompatible;

namespace LLMux.Providers.Gemini;

/// <summary>
/// The capability rows of Vertex AI's partner models. Each family's parameter list is the one LiteLLM applies on Vertex
/// (MistralConfig, VertexAIAi21Config, VertexAILlama3Config / VertexAIGPTOSSTransformation); the wire is Vertex's
/// (service-account token, project and location in the URL).
/// </summary>
internal static class VertexPartnerSpecs
{
    public static CompatibleProviderRow MistralRow { get; } = CompatibleProviderRows.Mistral with
    {
        Name = "vertex_ai/mistral",
        DisplayName = "Vertex AI (Mistral, Codestral: mistralai publisher)",
        Aliases = [],
        DefaultApiBase = null,
        ApiBaseEnv = null,
        ApiKeyEnv = null,
        Embeddings = false,
        Notes =
        [
            "`vertex_ai/mistral-…` and `vertex_ai/codestral-…`: `…/publishers/mistralai/models/{model}:rawPredict` (streams `:streamRawPredict`, SSE); the body is Mistral's chat body with `model` without its `@version`",
            "api_base is the model resource URL (`…/publishers/mistralai/models/{model}`); LLMux appends `:rawPredict` / `:streamRawPredict`",
        ],
    };

    public static CompatibleProviderRow Ai21Row { get; } = HostedCompatibleRows.AI21 with
    {
        Name = "vertex_ai/ai21",
        DisplayName = "Vertex AI (AI21 Jamba: ai21 publisher)",
        Aliases = [],
        DefaultApiBase = null,
        ApiBaseEnv = null,
        ApiKeyEnv = null,
        // LiteLLM's VertexAIAi21Config keeps OpenAI's whole list.
        ChatParams = null,
        RemovedParams = ["max_retries"],
        Notes =
        [
            "`vertex_ai/jamba-…`: `v1beta1/…/publishers/ai21/models/{model}:rawPredict` (streams `:streamRawPredict`), OpenAI's chat body (LiteLLM's VertexAIAi21Config)",
            "api_base is the model resource URL; LLMux appends `:rawPredict` / `:streamRawPredict`",
        ],
    };

    public static CompatibleProviderRow OpenApiRow { get; } = new()
    {
        Name = "vertex_ai/maas",
        DisplayName = "Vertex AI Model Garden MaaS (OpenAI-compatible: Llama, DeepSeek, Qwen, gpt-oss, MiniMax, Kimi, GLM)",
        RemovedParams = ["max_retries"],
        AddedParams = ["reasoning_effort"],
        Renames = new Dictionary<string, string> { ["max_completion_tokens"] = "max_tokens" },
        ParamNotes = new Dictionary<string, string> { ["reasoning_effort"] = "gpt-oss models (LiteLLM's VertexAIGPTOSSTransformation)" },
        Notes =
        [
            "`vertex_ai/meta/llama-…-maas`, `vertex_ai/deepseek-ai/…`, `vertex_ai/qwen/…`, `vertex_ai/openai/gpt-oss-…`, `vertex_ai/minimaxai/…`, `vertex_ai/moonshotai/…`, `vertex_ai/zai-org/…`: `POST …/v1/projects/{project}/locations/{location}/endpoints/openapi/chat/completions` with `model` the full publisher id",
            "api_base is the OpenAI base URL Google documents (`…/locations/{location}/endpoints/openapi`); LLMux appends `/chat/completions`",
        ],
    };

    public static ProviderSpec Mistral { get; } = WithGoogleAuth(MistralRow.ToSpec());
    public static ProviderSpec Ai21 { get; } = WithGoogleAuth(Ai21Row.ToSpec());
    public static ProviderSpec OpenApi { get; } = WithGoogleAuth(OpenApiRow.ToSpec());

    private static ProviderSpec WithGoogleAuth(ProviderSpec spec) => spec with { Auth = AuthScheme.GoogleServiceAccount, ForwardsUnknownFields = true };

    public static CompatibleProviderRow RowOf(VertexPartnerFamily family) => family switch
    {
        VertexPartnerFamily.Mistral => MistralRow,
        VertexPartnerFamily.Ai21 => Ai21Row,
        _ => OpenApiRow,
    };

    public static ProviderSpec SpecOf(VertexPartnerFamily family) => family switch
    {
        VertexPartnerFamily.Mistral => Mistral,
        VertexPartnerFamily.Ai21 => Ai21,
        _ => OpenApi,
    };
}
