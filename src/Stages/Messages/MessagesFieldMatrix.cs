namespace LLMux.Stages.Messages;

/// <summary>
/// What <c>/v1/messages</c> does with each field Claude Code sends, per kind of backend: the contract the request
/// translator (<see cref="MessagesRequestTranslator"/>) implements and docs/capabilities.md shows. The rule:
/// passed where the backend takes it, translated where a faithful mapping exists, hints that do not change what
/// a correct answer is dropped with an <c>x-llmux-warnings</c> entry (by default, so Claude Code never fails on
/// them), and fields that would change the answer refused with a 400 unless drop_params.
/// </summary>
public static class MessagesFieldMatrix
{
    /// <summary>The backend kinds, in column order.</summary>
    public static readonly string[] Backends =
    [
        "`anthropic`, `bedrock/invoke/` Claude, `vertex_ai` Claude (Anthropic body)",
        "`bedrock` Converse, Claude models",
        "`gemini`, `vertex_ai` Gemini",
        "OpenAI and OpenAI-compatible",
        "`bedrock` Converse, other models",
    ];

    private const string Hint = "dropped, warning";
    private const string Refused = "400 unless drop_params (then dropped, warning)";

    /// <summary>One row per field: its name, then one cell per <see cref="Backends"/> entry.</summary>
    public static readonly string[][] Rows =
    [
        ["`context_management`", "passed", Hint, Hint, Hint, Hint],
        ["`thinking` `enabled` + `budget_tokens`", "passed",
            "`additionalModelRequestFields.thinking` (budget kept below `max_tokens`; models without thinking: dropped, warning)",
            "`reasoning_effort` by budget → `thinkingConfig`", "`reasoning_effort` by budget (dropped, warning, where the model has none)", "`reasoning_effort` where the model has one, else dropped, warning"],
        ["`thinking` `adaptive` (`display`)", "passed", "`thinking: {type: adaptive}` (`display` left out)",
            "`reasoning_effort` from `output_config.effort`, else the model's default", "`reasoning_effort` from `output_config.effort`, else the model's default", "as OpenAI"],
        ["`output_config.effort`", "passed", Hint, "`reasoning_effort` (max → high)", "`reasoning_effort` (max → high)", "`reasoning_effort` where the model has one"],
        ["`cache_control` on system, tools, messages", "passed", "`cachePoint` after the block", Hint + " (implicit caching)", Hint + " (automatic caching)", Hint],
        ["`cache_control` top-level", "passed", Hint, Hint, Hint, Hint],
        ["`metadata.user_id`", "passed", "`user`, then dropped, warning (Converse has no end-user field)", "`user`, then dropped, warning", "`user`", "`user`, then dropped, warning"],
        ["`service_tier`", "passed", "`serviceTier` (`auto`, `standard_only` → `default`)", Hint, "`service_tier` (`standard_only` → `default`)", "`serviceTier`"],
        ["`container`", "passed", Refused, Refused, Refused, Refused],
        ["`mcp_servers`", "passed", Refused, Refused, Refused, Refused],
        ["tool `web_search_*`", "passed", "`web_search_options`: " + Refused, "`web_search_options` → `googleSearch`", "`web_search_options` (search models; else " + Refused + ")", "`web_search_options`: " + Refused],
        ["tools `bash_*`, `text_editor_*`, `code_execution_*`, `computer_*`, `memory_*`, `web_fetch_*`", "passed", Refused, Refused, Refused, Refused],
        ["tool `defer_loading`, `input_examples`", "passed", "every tool sent whole", "every tool sent whole", "every tool sent whole", "every tool sent whole"],
        ["`tool_reference` blocks (ToolSearch results)", "passed", "text `Tool loaded: <name>`", "text `Tool loaded: <name>`", "text `Tool loaded: <name>`", "text `Tool loaded: <name>`"],
        ["`role: system` turns inside `messages`", "passed", "lifted into `system`", "lifted into `system_instruction`", "system message in place", "lifted into `system`"],
        ["system block `x-anthropic-billing-header: ...`", "passed", "left out", "left out", "left out", "left out"],
        ["thinking / redacted_thinking blocks in the history", "passed; blocks another provider signed are left out (and `thinking` off if that empties the last tool-use turn, warning)",
            "`reasoningContent` first in the turn when Bedrock or Anthropic signed it, else left out", "thought part with `thoughtSignature` when Gemini signed it (function-call signatures ride in the tool id), else left out", "left out", "left out"],
        ["signatures in answers", "as Anthropic sent them", "`llmux1:bedrock:<signature>`", "`llmux1:gemini:<signature>`", "`llmux1:<provider>:<signature>`", "`llmux1:bedrock:<signature>`"],
        ["`max_tokens` above the model's `max_output_tokens`", "passed", "lowered to the limit, warning", "lowered to the limit, warning", "lowered to the limit, warning", "lowered to the limit, warning"],
        ["`anthropic-beta` header", "forwarded (Bedrock invoke and Vertex: their allow-lists)", "not sent, warning", "not sent, warning", "not sent, warning", "not sent, warning"],
        ["stream grammar", "as Anthropic sent it", "`message_start`, `ping`, blocks with consecutive indexes (`input_json_delta` for tools, parallel calls as separate blocks), one `message_delta`, `message_stop`", "same", "same", "same"],
    ];
}
