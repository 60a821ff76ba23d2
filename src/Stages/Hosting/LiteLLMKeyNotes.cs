using System.Collections.Frozen;

namespace LLMux.Stages.Hosting;

/// <summary>
/// LiteLLM config keys that LLMux reads past without acting on, each with what LLMux does instead, so that the
/// start-up warning tells a LiteLLM user what changes for them. A key in neither this table nor the reader's
/// known lists is not a LiteLLM key LLMux knows (a typo, or a newer LiteLLM key) and is ignored with a warning.
/// </summary>
internal static class LiteLLMKeyNotes
{
    private const string Callbacks = "LiteLLM callbacks are not run; LLMux exports OpenTelemetry traces and metrics (set OTEL_EXPORTER_OTLP_ENDPOINT) and keeps spend in its own store";
    private const string Logging = "ignored; LLMux logs through Microsoft.Extensions.Logging (set Logging__LogLevel__Default)";
    private const string NoGuardrails = "ignored; LLMux runs no guardrails, requests go to the model unchecked";

    public static FrozenDictionary<string, string> TopLevel { get; } = new Dictionary<string, string>
    {
        ["guardrails"] = NoGuardrails,
        ["policies"] = NoGuardrails,
        ["policy_attachments"] = NoGuardrails,
        ["credential_list"] = "ignored; write credentials in each deployment's litellm_params (os.environ/NAME works there)",
        ["mcp_servers"] = "ignored; LLMux has no MCP gateway",
        ["search_tools"] = "ignored; LLMux does not run web-search tools for the model",
        ["files_settings"] = "ignored; LLMux does not proxy the files API to providers",
        ["finetune_settings"] = "ignored; LLMux does not proxy fine-tuning",
        ["assistant_settings"] = "ignored; LLMux does not proxy the Assistants API",
        ["callback_settings"] = Callbacks,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static FrozenDictionary<string, string> LitellmSettings { get; } = new Dictionary<string, string>
    {
        ["success_callback"] = Callbacks,
        ["failure_callback"] = Callbacks,
        ["callbacks"] = Callbacks,
        ["service_callback"] = Callbacks,
        ["set_verbose"] = Logging,
        ["json_logs"] = Logging,
        ["turn_off_message_logging"] = "ignored; LLMux never logs message content",
        ["telemetry"] = "ignored; LLMux sends no usage telemetry anywhere",
        ["default_team_settings"] = "ignored; create teams through the admin API (/team/new)",
        ["disable_end_user_cost_tracking_prometheus_only"] = "ignored; LLMux's metrics carry no end-user label",
        ["include_cost_in_streaming_usage"] = "ignored; LLMux reports cost in the x-llmux-response-cost header",
        ["mcp_semantic_tool_filter"] = "ignored; LLMux has no MCP gateway",
        ["websearch_interception_params"] = "ignored; LLMux does not run web-search tools for the model",
        ["modify_params"] = "ignored; LLMux sends messages as given (a provider's message rules answer a 400 naming the rule)",
        ["max_budget"] = "ignored; set budgets on keys, teams or users through the admin API",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static FrozenDictionary<string, string> RouterSettings { get; } = new Dictionary<string, string>
    {
        ["enable_pre_call_checks"] = "ignored; LLMux checks modes and parameters before every call anyway",
        ["enable_tag_filtering"] = "ignored; LLMux does not route by tags, every deployment of a group is a candidate",
        ["routing_strategy_args"] = "ignored; the routing strategies use their defaults",
        ["retry_policy"] = "ignored; num_retries applies to every error kind",
        ["model_group_retry_policy"] = "ignored; num_retries applies to every model group",
        ["allowed_fails_policy"] = "ignored; allowed_fails applies to every error kind",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static FrozenDictionary<string, string> GeneralSettings { get; } = new Dictionary<string, string>
    {
        ["store_model_in_db"] = "ignored; deployments come from model_list only",
        ["alerting"] = "ignored; LLMux sends no Slack or e-mail alerts (watch its OpenTelemetry metrics)",
        ["custom_auth"] = "ignored; LLMux authenticates with master_key and its own virtual keys only",
        ["background_health_checks"] = "ignored; LLMux runs no background health checks (deployments cool down on failures)",
        ["health_check_interval"] = "ignored; LLMux runs no background health checks",
        ["otel"] = "ignored; set OTEL_EXPORTER_OTLP_ENDPOINT to export traces and metrics",
        ["pass_through_endpoints"] = "ignored; LLMux serves its own endpoints only",
        ["disable_prisma_schema_update"] = "ignored; LLMux migrates its own store",
        ["database_connection_pool_limit"] = "ignored; LLMux sizes its own connection pool",
        ["use_redis_transaction_buffer"] = "ignored; LLMux writes spend through its own bounded background writer",
        ["proxy_budget_rescheduler_min_time"] = "ignored; budgets reset by their own schedule",
        ["proxy_budget_rescheduler_max_time"] = "ignored; budgets reset by their own schedule",
        ["reject_clientside_metadata_tags"] = "ignored; LLMux does not route by client tags",
        ["proxy_batch_write_at"] = "ignored; LLMux writes spend through its own bounded background writer",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>litellm_params keys LiteLLM knows that LLMux does not act on (other than request defaults, see <see cref="RequestDefault"/>).</summary>
    public static FrozenDictionary<string, string> LitellmParams { get; } = new Dictionary<string, string>
    {
        ["input_cost_per_second"] = "ignored; LLMux prices by token (set input_cost_per_token / output_cost_per_token)",
        ["output_cost_per_second"] = "ignored; LLMux prices by token (set input_cost_per_token / output_cost_per_token)",
        ["tags"] = "ignored; LLMux does not route by tags",
        ["num_retries"] = "ignored for one deployment; LLMux retries by router_settings.num_retries (max_retries is the per-deployment bound)",
        ["mock_timeout"] = "ignored; LLMux's mock provider takes mock_chunk_delay_ms instead",
        ["realtime_protocol"] = "ignored; LLMux does not proxy the Realtime API",
        ["s3_bucket_name"] = "ignored; LLMux does not upload batch files to S3",
        ["s3_region_name"] = "ignored; LLMux does not upload batch files to S3",
        ["s3_access_key_id"] = "ignored; LLMux does not upload batch files to S3",
        ["s3_secret_access_key"] = "ignored; LLMux does not upload batch files to S3",
        ["aws_batch_role_arn"] = "ignored; LLMux does not run Bedrock batch jobs",
        ["health_check_model"] = "ignored; LLMux runs no background health checks",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// An OpenAI request parameter written in litellm_params: LiteLLM sends it with every call to that deployment
    /// unless the request sets it; LLMux does not add parameters to requests.
    /// </summary>
    public static string RequestDefault(string key) =>
        $"LiteLLM adds `{key}` to every call to this deployment; LLMux sends requests as the client wrote them, so set `{key}` in the request (it is ignored here)";

    public const string NotKnown = "not a LiteLLM key LLMux knows (a typo?); ignored";
}
