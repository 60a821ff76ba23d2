using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Snowflake;

/// <summary>
/// Snowflake Cortex (<c>snowflake/</c>): the Cortex REST API's <c>POST /api/v2/cortex/inference:complete</c> on the
/// account's host, SSE streams, tools as <c>tool_spec</c> (LiteLLM's <c>SnowflakeConfig</c>), authenticated with a
/// key-pair JWT or a programmatic access token.
/// </summary>
internal static class SnowflakeSpec
{
    public const string Name = "snowflake";

    private static readonly ParamRule[] ChatParams =
    [
        ParamRule.Native("stream"),
        ParamRule.Mapped("stream_options", "(applied by LLMux)", "Cortex reports usage on its chunks; include_usage decides the usage chunk"),
        ParamRule.Native("temperature"),
        ParamRule.Native("top_p"),
        ParamRule.Native("max_tokens"),
        ParamRule.Mapped("max_completion_tokens", "max_tokens", "LiteLLM refuses it; LLMux sends it as max_tokens"),
        ParamRule.Mapped("response_format", "response_format", "json_schema → {type: json, schema}; json_object is refused (Cortex needs a schema); text sends nothing"),
        ParamRule.Mapped("tools", "tools[].tool_spec", "{type: generic, name, description, input_schema}"),
        ParamRule.Mapped("tool_choice", "tool_choice", "auto/required/none → {type}; a named function → {type: tool, name: [name]}"),
        ParamRule.Dropped("stop", "not in LiteLLM's snowflake list"),
        ParamRule.Dropped("n", "Cortex returns one choice"),
        ParamRule.Dropped("seed"),
        ParamRule.Dropped("presence_penalty"),
        ParamRule.Dropped("frequency_penalty"),
        ParamRule.Dropped("logit_bias"),
        ParamRule.Dropped("logprobs"),
        ParamRule.Dropped("top_logprobs"),
        ParamRule.Dropped("user"),
        ParamRule.Dropped("parallel_tool_calls"),
        ParamRule.Dropped("functions", "use tools"),
        ParamRule.Dropped("function_call", "use tool_choice"),
        ParamRule.Dropped("reasoning_effort"),
        ParamRule.Dropped("verbosity"),
        ParamRule.Dropped("thinking"),
        ParamRule.Dropped("modalities"),
        ParamRule.Rejected("audio", "Cortex cannot produce audio output"),
        ParamRule.Dropped("prediction"),
        ParamRule.Dropped("web_search_options"),
        ParamRule.Dropped("service_tier"),
        ParamRule.Dropped("safety_identifier"),
        ParamRule.Dropped("prompt_cache_key"),
        ParamRule.Dropped("prompt_cache_retention"),
        ParamRule.Dropped("store"),
        ParamRule.Dropped("extra_headers"),
        ParamRule.Dropped("max_retries", "LLMux retries through router settings"),
    ];

    public static ProviderSpec Spec { get; } = new()
    {
        Name = Name,
        DisplayName = "Snowflake Cortex (REST API)",
        ApiKeyEnv = "SNOWFLAKE_JWT",
        Auth = AuthScheme.Bearer,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatParams),
        Notes =
        [
            "`snowflake/<model>` (e.g. `snowflake/claude-3-5-sonnet`): `POST {api_base}/cortex/inference:complete`; api_base defaults to `https://<account_id>.snowflakecomputing.com/api/v2` (account_id or SNOWFLAKE_ACCOUNT_ID), and `/api/v2` is added when missing",
            "auth: `api_key: pat/<token>` is a programmatic access token (`X-Snowflake-Authorization-Token-Type: PROGRAMMATIC_ACCESS_TOKEN`); any other api_key (or SNOWFLAKE_JWT) is a key-pair JWT sent as it is (`KEYPAIR_JWT`); with no api_key LLMux signs the JWT itself from `snowflake_private_key` (PEM text or file; SNOWFLAKE_PRIVATE_KEY), `snowflake_user` (SNOWFLAKE_USER) and the account: RS256, iss `<ACCOUNT>.<USER>.SHA256:<public key fingerprint>`, sub `<ACCOUNT>.<USER>`, one hour, renewed a minute before it expires",
            "streams are SSE `data: {chunk}` with `choices[0].delta` (`content`, or `type: tool_use` with `tool_use_id`, `name` and `input` fragments); usage rides on the chunks; Cortex sends no end marker, so a stream that closes cleanly at a frame boundary is taken as complete",
            "tool results go back as `content_list: [{type: tool_results, tool_results: {tool_use_id, name, content}}]` and assistant tool calls as `content_list: [{type: tool_use, tool_use: {...}}]`",
        ],
    };
}
