using System.Text.Json;
using LLMux.Pipeline.Context;

namespace LLMux.Stages.Responses;

internal enum OutputItemKind { Reasoning, Message, FunctionCall, CustomToolCall, LocalShellCall, ShellCall, ApplyPatchCall }

/// <summary>
/// One output item of a bridged response as it is built: its text (message text, reasoning summary, function
/// arguments, or a custom tool's arguments until they are unwrapped) is kept as unescaped UTF-8.
/// </summary>
internal sealed class OutputItem(OutputItemKind kind, string id) : IDisposable
{
    public OutputItemKind Kind { get; } = kind;
    public string Id { get; } = id;
    /// <summary>The id as UTF-8, written into every event of the item without transcoding.</summary>
    public byte[] IdUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(id);
    public string? CallId { get; set; }
    public string? Name { get; set; }
    /// <summary>The <c>namespace</c> tool a function call belongs to.</summary>
    public string? Namespace { get; set; }
    public PooledBuffer Text { get; } = new(256);
    /// <summary>LLMux's reasoning envelope (<see cref="ReasoningEnvelope"/>), when the provider left opaque state.</summary>
    public string? Encrypted { get; set; }
    /// <summary>A custom tool's raw input, unwrapped from the function arguments once they are complete.</summary>
    public byte[]? CustomInput { get; set; }
    public int OutputIndex { get; set; }

    /// <summary>A tool call of any kind (function, custom, or a client-run built-in).</summary>
    public bool IsCall => Kind >= OutputItemKind.FunctionCall;

    /// <summary>A call of a client-run built-in (local_shell, shell, apply_patch), written from its complete arguments.</summary>
    public bool IsBuiltInCall => Kind >= OutputItemKind.LocalShellCall;

    public void Append(ReadOnlySpan<byte> utf8) => Text.Write(utf8);

    public void Append(string? text)
    {
        if (string.IsNullOrEmpty(text)) return;
        var span = Text.GetSpan(System.Text.Encoding.UTF8.GetMaxByteCount(text.Length));
        Text.Advance(System.Text.Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>For a custom tool call: the string argument <c>input</c> from the complete arguments, or the arguments themselves when the model wrote something else.</summary>
    public void UnwrapCustomInput()
    {
        var args = Text.Span;
        try
        {
            var reader = new Utf8JsonReader(args);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("input"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            var value = new byte[reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length];
                            var n = reader.CopyString(value);
                            CustomInput = value[..n];
                            return;
                        }
                        break;
                    }
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the model wrote the raw input itself.
        }
        CustomInput = args.ToArray();
    }

    /// <summary>Writes the finished item (<paramref name="status"/> for messages and calls).</summary>
    public void Write(Utf8JsonWriter w, bool includeEncrypted, string status = "completed")
    {
        w.WriteStartObject();
        w.WriteString("id"u8, Id);
        switch (Kind)
        {
            case OutputItemKind.Reasoning:
                w.WriteString("type"u8, "reasoning"u8);
                w.WriteStartArray("summary"u8);
                if (Text.Length > 0)
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "summary_text"u8);
                    w.WriteString("text"u8, Text.Span);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (includeEncrypted && Encrypted is not null) w.WriteString("encrypted_content"u8, Encrypted);
                break;
            case OutputItemKind.Message:
                w.WriteString("type"u8, "message"u8);
                w.WriteString("status"u8, status);
                w.WriteStartArray("content"u8);
                WriteTextPart(w, Text.Span);
                w.WriteEndArray();
                w.WriteString("role"u8, "assistant"u8);
                break;
            case OutputItemKind.FunctionCall:
                w.WriteString("type"u8, "function_call"u8);
                w.WriteString("status"u8, status);
                w.WriteString("arguments"u8, Text.Span);
                w.WriteString("call_id"u8, CallId);
                w.WriteString("name"u8, Name);
                if (Namespace is not null) w.WriteString("namespace"u8, Namespace);
                break;
            case OutputItemKind.CustomToolCall:
                w.WriteString("type"u8, "custom_tool_call"u8);
                w.WriteString("status"u8, status);
                w.WriteString("call_id"u8, CallId);
                w.WriteString("input"u8, CustomInput ?? []);
                w.WriteString("name"u8, Name);
                break;
            default:
                ClientBuiltInTools.WriteCallItem(w, Kind, CallId, Text.Span, status);
                break;
        }
        w.WriteEndObject();
    }

    internal static void WriteTextPart(Utf8JsonWriter w, ReadOnlySpan<byte> text)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "output_text"u8);
        w.WriteStartArray("annotations"u8);
        w.WriteEndArray();
        w.WriteStartArray("logprobs"u8);
        w.WriteEndArray();
        w.WriteString("text"u8, text);
        w.WriteEndObject();
    }

    public void Dispose() => Text.Dispose();
}
