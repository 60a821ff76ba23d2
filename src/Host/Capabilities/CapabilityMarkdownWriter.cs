using System.Text;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers;

namespace LLMux.Host.Capabilities;

/// <summary>Writes docs/capabilities.md from the provider specs (and one provider's section for the CLI).</summary>
internal static class CapabilityMarkdownWriter
{
    public const string Command = "dotnet run --project src/Host -- capabilities --markdown > docs/capabilities.md";

    public static string Document(ProviderCatalog catalog)
    {
        var specs = CapabilityMatrix.Specs(catalog);
        var sb = new StringBuilder();
        sb.Append("# LLMux capability matrix\n\n");
        sb.Append("Generated from the provider specs (`ProviderSpec`s in `src/Providers`) by `").Append(Command).Append("`.\n");
        sb.Append("Do not edit by hand: a test fails when this file is stale. `GET /v1/capabilities` serves the same data as JSON,\n");
        sb.Append("and `llmux capabilities <provider/model>` prints one provider's table.\n\n");
        sb.Append("Each parameter is one of:\n\n");
        sb.Append("- **native**: sent upstream under the same name and meaning;\n");
        sb.Append("- **mapped**: translated to the provider's field named in *maps to*;\n");
        sb.Append("- **rejected**: a 400 naming the parameter, the provider and the fix, whatever drop_params says;\n");
        sb.Append("- **dropped**: a 400 unless drop_params is on (request body `drop_params: true`, `litellm_params.drop_params`, or\n");
        sb.Append("  `litellm_settings.drop_params`); then it is removed and the answer carries `x-llmux-warnings`. As in LiteLLM,\n");
        sb.Append("  `stream`, `stream_options`, `user`, `max_retries` and `n: 1` never fail a call: they are dropped with the warning.\n\n");
        sb.Append("`additional_drop_params` (request or deployment) always removes the listed parameters; `allowed_openai_params`\n");
        sb.Append("forces the listed parameters through unchanged. Providers that forward unknown fields pass provider-specific\n");
        sb.Append("(non-OpenAI) fields through as they are; the others drop them by the rules above. `metadata` is LiteLLM's request\n");
        sb.Append("metadata (logging, tags) and is never checked against a provider.\n\n");

        sb.Append("## Providers\n\n");
        sb.Append("| Provider (config prefix) | Name | Aliases | Default api_base | Key env | Auth | Stream |");
        foreach (var m in CapabilityMatrix.AllModes) sb.Append(' ').Append(m.Name()).Append(" |");
        sb.Append('\n');
        sb.Append("|---|---|---|---|---|---|---|");
        foreach (var _ in CapabilityMatrix.AllModes) sb.Append("---|");
        sb.Append('\n');
        foreach (var s in specs)
        {
            sb.Append("| [`").Append(s.Name).Append("`](#").Append(s.Name).Append(") | ").Append(Cell(s.DisplayName)).Append(" | ")
              .Append(s.Aliases.Count == 0 ? "" : string.Join(", ", s.Aliases.Select(static a => "`" + a + "`"))).Append(" | ")
              .Append(s.DefaultApiBase is null ? "(required)" : "`" + s.DefaultApiBase + "`").Append(" | ")
              .Append(s.ApiKeyEnv is null ? "" : "`" + s.ApiKeyEnv + "`").Append(" | ")
              .Append(CapabilityMatrix.AuthName(s.Auth)).Append(" | ")
              .Append(CapabilityMatrix.StreamName(s.StreamFormat)).Append(" |");
            foreach (var m in CapabilityMatrix.AllModes) sb.Append(m == LlmMode.Responses && s.Supports(m) ? (s.NativeResponses ? " native |" : " bridged |") : m == LlmMode.Completion && s.Supports(m) && !s.Modes.Contains(m) ? " bridged |" : s.Supports(m) ? " yes |" : " — |");
            sb.Append('\n');
        }
        sb.Append('\n');
        AppendResponses(sb);
        AppendBridgedCompletions(sb);

        AppendMessagesFields(sb);

        foreach (var s in specs) AppendProvider(sb, s, level: 2);
        return sb.ToString();
    }

    /// <summary>What /v1/messages does with each field Claude Code sends, per backend (docs/parity/messages.md has the why).</summary>
    private static void AppendMessagesFields(StringBuilder sb)
    {
        sb.Append("## Claude Code fields on `/v1/messages`, per backend\n\n");
        sb.Append("The fields and headers Claude Code sends (captured from the real CLI: tests/LLMux.Tests/Agents/captures) and what\n");
        sb.Append("the translating path does with each. Rule: passed where the backend takes it, translated where a faithful mapping\n");
        sb.Append("exists, hints that do not change what a correct answer is dropped with an `x-llmux-warnings` entry by default,\n");
        sb.Append("fields that would change the answer refused unless drop_params. See docs/parity/messages.md.\n\n");
        sb.Append("| Field |");
        foreach (var b in LLMux.Stages.Messages.MessagesFieldMatrix.Backends) sb.Append(' ').Append(b).Append(" |");
        sb.Append("\n|---|");
        foreach (var _ in LLMux.Stages.Messages.MessagesFieldMatrix.Backends) sb.Append("---|");
        sb.Append('\n');
        foreach (var row in LLMux.Stages.Messages.MessagesFieldMatrix.Rows)
        {
            sb.Append('|');
            foreach (var cell in row) sb.Append(' ').Append(cell).Append(" |");
            sb.Append('\n');
        }
        sb.Append('\n');
    }

    /// <summary>One provider's section: its facts, modes and parameter tables.</summary>
    public static string Provider(ProviderSpec spec)
    {
        var sb = new StringBuilder();
        AppendProvider(sb, spec, level: 1);
        return sb.ToString();
    }

    private static void AppendProvider(StringBuilder sb, ProviderSpec s, int level)
    {
        var h = new string('#', level);
        if (level == 2) sb.Append("<a id=\"").Append(s.Name).Append("\"></a>\n\n");
        sb.Append(h).Append(" `").Append(s.Name).Append("`");
        if (s.DisplayName.Length > 0) sb.Append(" — ").Append(s.DisplayName);
        sb.Append("\n\n");
        sb.Append("- config: `model: ").Append(s.Name).Append("/<model>`");
        foreach (var a in s.Aliases) sb.Append(" or `").Append(a).Append("/<model>`");
        sb.Append('\n');
        sb.Append("- api_base: ").Append(s.DefaultApiBase is null ? "required (`litellm_params.api_base`" + (s.ApiBaseEnv is null ? ")" : " or `" + s.ApiBaseEnv + "`)") : "`" + s.DefaultApiBase + "`" + (s.ApiBaseEnv is null ? "" : " (or `" + s.ApiBaseEnv + "`)")).Append('\n');
        if (s.ApiKeyEnv is not null) sb.Append("- api_key: `litellm_params.api_key`, else `").Append(s.ApiKeyEnv).Append("`\n");
        sb.Append("- auth: ").Append(CapabilityMatrix.AuthName(s.Auth)).Append("; stream: ").Append(CapabilityMatrix.StreamName(s.StreamFormat))
          .Append("; unknown fields: ").Append(s.ForwardsUnknownFields ? "forwarded" : "dropped by the rules").Append('\n');
        sb.Append("- modes: ").Append(string.Join(", ", CapabilityMatrix.AllModes.Select(m => m.Name() + (s.Supports(m) ? " ✓" : " ✗")))).Append('\n');
        if (s.Supports(LlmMode.Responses))
            sb.Append("- responses: ").Append(s.NativeResponses
                ? "native passthrough (body forwarded, `model` rewritten; `litellm_params.responses_api: bridge` to use the chat bridge)"
                : "the chat bridge onto this provider's chat API (`litellm_params.responses_api: native` for a server that speaks the Responses API)").Append(" — see [Responses API](#responses-api)\n");
        foreach (var n in s.Notes) sb.Append("- ").Append(n).Append('\n');
        sb.Append('\n');
        foreach (var mode in CapabilityMatrix.TableModes(s))
        {
            sb.Append(h).Append("# ").Append(s.Name).Append(' ').Append(mode.Name()).Append(" parameters\n\n");
            sb.Append("| Parameter | Support | Maps to | Note |\n|---|---|---|---|\n");
            foreach (var c in CapabilityMatrix.Cells(s, mode))
            {
                sb.Append("| `").Append(c.Param).Append("` | ").Append(CapabilityMatrix.KindName(c.Kind)).Append(" | ")
                  .Append(c.MappedTo is null ? "" : Cell(c.MappedTo)).Append(" | ")
                  .Append(Cell(c.Note ?? (c.Listed ? "" : "not in the provider's table"))).Append(" |\n");
            }
            sb.Append('\n');
        }
    }

    /// <summary>The Responses API's fields, for native providers and through the chat bridge (the provider's chat table then applies).</summary>
    private static void AppendResponses(StringBuilder sb)
    {
        sb.Append("<a id=\"responses-api\"></a>\n\n## Responses API\n\n");
        sb.Append("`POST /v1/responses` goes natively to a provider marked *native* above when every deployment of the model name\n");
        sb.Append("speaks it (OpenAI at its own host, Azure OpenAI, xAI, or any deployment with `responses_api: native`); otherwise it\n");
        sb.Append("is bridged onto the provider's chat API, and the provider's chat table applies to what the bridge sends.\n\n");
        sb.Append("| Parameter | Native | Bridged | Maps to (bridged) | Note (bridged) |\n|---|---|---|---|---|\n");
        foreach (var p in ResponsesParams.Names)
        {
            var b = ResponsesParams.Bridged[p];
            sb.Append("| `").Append(p).Append("` | ").Append(CapabilityMatrix.KindName(ResponsesParams.Native[p].Kind)).Append(" | ")
              .Append(CapabilityMatrix.KindName(b.Kind)).Append(" | ").Append(b.MappedTo is null ? "" : Cell(b.MappedTo)).Append(" | ")
              .Append(Cell(b.Note ?? "")).Append(" |\n");
        }
        sb.Append('\n');
    }

    /// <summary>/v1/completions onto a chat-only provider (docs/parity/modes.md has the why).</summary>
    private static void AppendBridgedCompletions(StringBuilder sb)
    {
        sb.Append("<a id=\"completions-bridge\"></a>\n\n## Legacy completions through the chat bridge\n\n");
        sb.Append("`POST /v1/completions` goes as it is to a provider marked *yes* in the completion column when every deployment of the\n");
        sb.Append("model name has a text-completion API (its own table below applies); Mistral/Codestral models use `/fim/completions`.\n");
        sb.Append("Every other chat provider (*bridged*) gets one chat call per prompt, the prompt as the user message; N prompts give\n");
        sb.Append("N × n choices. The provider's chat table then applies to what the bridge sends.\n\n");
        sb.Append("| Parameter | Bridged | Maps to | Note |\n|---|---|---|---|\n");
        foreach (var p in ModeParamNames.Completion)
        {
            var b = CompletionParams.Bridged[p];
            sb.Append("| `").Append(p).Append("` | ").Append(CapabilityMatrix.KindName(b.Kind)).Append(" | ")
              .Append(b.MappedTo is null ? "" : Cell(b.MappedTo)).Append(" | ").Append(Cell(b.Note ?? "")).Append(" |\n");
        }
        sb.Append('\n');
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
