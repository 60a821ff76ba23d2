using System.Text;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Replicate;

/// <summary>
/// Replicate's language models take one prompt string; LiteLLM's prompt_factory builds it from the messages: Llama 2
/// chat's <c>[INST]</c> template for llama-2 chat models, Llama 3's header template for llama-3 instruct models, and
/// otherwise the contents joined by spaces (its default_pt, which is what Hub template lookups fall back to).
/// </summary>
internal static class ReplicatePrompt
{
    public static string Build(string model, IReadOnlyList<ChatMessage> messages)
    {
        var m = model.ToLowerInvariant();
        if (m.Contains("llama-2", StringComparison.Ordinal) && m.Contains("chat", StringComparison.Ordinal)) return Llama2Chat(messages);
        if ((m.Contains("llama-3", StringComparison.Ordinal) || m.Contains("llama3", StringComparison.Ordinal)) && m.Contains("instruct", StringComparison.Ordinal)) return Llama3Instruct(messages);
        var sb = new StringBuilder();
        foreach (var message in messages)
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(message.TextContent());
        }
        return sb.ToString();
    }

    /// <summary>LiteLLM's llama_2_chat_pt: <c>&lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;\n…\n&lt;&lt;/SYS&gt;&gt;\n [/INST]\n[INST] user [/INST]\nassistant\n…&lt;/s&gt;</c>.</summary>
    private static string Llama2Chat(IReadOnlyList<ChatMessage> messages)
    {
        var sb = new StringBuilder("<s>");
        foreach (var message in messages)
        {
            var text = message.TextContent();
            switch (message.Role)
            {
                case "system" or "developer": sb.Append("[INST] <<SYS>>\n").Append(text).Append("\n<</SYS>>\n [/INST]\n"); break;
                case "user": sb.Append("[INST] ").Append(text).Append(" [/INST]\n"); break;
                default: sb.Append(text).Append('\n'); break;
            }
        }
        return sb.Append("</s>").ToString();
    }

    /// <summary>Meta-Llama-3-Instruct's chat template with the generation prompt.</summary>
    private static string Llama3Instruct(IReadOnlyList<ChatMessage> messages)
    {
        var sb = new StringBuilder("<|begin_of_text|>");
        foreach (var message in messages)
        {
            var role = message.Role == "developer" ? "system" : message.Role;
            sb.Append("<|start_header_id|>").Append(role).Append("<|end_header_id|>\n\n").Append((message.TextContent() ?? "").Trim()).Append("<|eot_id|>");
        }
        return sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n").ToString();
    }
}
