using System.Text.Json;
using LLMux.Pipeline.Json;

namespace LLMux.Stages.Responses;

/// <summary>OpenAI's built-in tools that the client runs itself (Codex and the Agents SDK execute them locally).</summary>
internal enum ClientTool { None, LocalShell, Shell, ApplyPatch }

/// <summary>
/// The bridge for OpenAI's client-run built-ins — <c>local_shell</c>, <c>shell</c> and <c>apply_patch</c>: the model
/// only decides the call and the client executes it, so a chat provider can offer each as a function tool with the
/// same arguments. The call comes back as the built-in's own item (<c>local_shell_call</c> with
/// <c>action{type:"exec",command[]}</c>, <c>shell_call</c> with <c>action{commands[]}</c>, <c>apply_patch_call</c>
/// with <c>operation{type,path,diff}</c>), and those items and their <c>*_output</c> items go back to the provider as
/// a tool call and a tool message on the next turn.
/// </summary>
internal static class ClientBuiltInTools
{
    public static ClientTool Of(string? type) => type switch
    {
        "local_shell" => ClientTool.LocalShell,
        "shell" => ClientTool.Shell,
        "apply_patch" => ClientTool.ApplyPatch,
        _ => ClientTool.None,
    };

    /// <summary>The function name the tool is offered under (the built-in's own type name).</summary>
    public static string FunctionName(ClientTool tool) => tool switch
    {
        ClientTool.LocalShell => "local_shell",
        ClientTool.Shell => "shell",
        _ => "apply_patch",
    };

    public static OutputItemKind ItemKind(ClientTool tool) => tool switch
    {
        ClientTool.LocalShell => OutputItemKind.LocalShellCall,
        ClientTool.Shell => OutputItemKind.ShellCall,
        _ => OutputItemKind.ApplyPatchCall,
    };

    public static string NewItemId(ClientTool tool) => tool switch
    {
        ClientTool.LocalShell => ResponseIds.LocalShellCall(),
        ClientTool.Shell => ResponseIds.ShellCall(),
        _ => ResponseIds.ApplyPatchCall(),
    };

    /// <summary>The chat function tool (inside <c>tools[]</c>) standing for the built-in.</summary>
    public static void WriteFunction(Utf8JsonWriter w, ClientTool tool)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        w.WriteString("name"u8, FunctionName(tool));
        switch (tool)
        {
            case ClientTool.LocalShell:
                w.WriteString("description"u8, "Runs a command on the user's machine and returns its output. `command` is the argv array (e.g. [\"bash\",\"-lc\",\"ls\"])."u8);
                w.WriteStartObject("parameters"u8);
                w.WriteString("type"u8, "object"u8);
                w.WriteStartObject("properties"u8);
                StringArray(w, "command"u8, "The command and its arguments."u8);
                Property(w, "working_directory"u8, "string"u8, "Directory to run the command in."u8);
                Property(w, "timeout_ms"u8, "integer"u8, "Time limit in milliseconds."u8);
                w.WriteEndObject();
                Required(w, "command"u8);
                w.WriteEndObject();
                break;
            case ClientTool.Shell:
                w.WriteString("description"u8, "Runs shell commands on the user's machine, one after another, and returns their stdout, stderr and exit codes."u8);
                w.WriteStartObject("parameters"u8);
                w.WriteString("type"u8, "object"u8);
                w.WriteStartObject("properties"u8);
                StringArray(w, "commands"u8, "Shell command lines to run in order."u8);
                Property(w, "timeout_ms"u8, "integer"u8, "Time limit in milliseconds."u8);
                Property(w, "max_output_length"u8, "integer"u8, "Most characters of output to return per command."u8);
                w.WriteEndObject();
                Required(w, "commands"u8);
                w.WriteEndObject();
                break;
            default:
                w.WriteString("description"u8, "Creates, updates or deletes one file. For create_file `diff` is the new file's content as a V4A diff of `+` lines; for update_file a V4A diff (`@@` hunks of ` `, `-` and `+` lines); delete_file takes no diff."u8);
                w.WriteStartObject("parameters"u8);
                w.WriteString("type"u8, "object"u8);
                w.WriteStartObject("properties"u8);
                w.WriteStartObject("type"u8);
                w.WriteString("type"u8, "string"u8);
                w.WriteStartArray("enum"u8);
                w.WriteStringValue("create_file"u8);
                w.WriteStringValue("update_file"u8);
                w.WriteStringValue("delete_file"u8);
                w.WriteEndArray();
                w.WriteEndObject();
                Property(w, "path"u8, "string"u8, "Path of the file, relative to the workspace."u8);
                Property(w, "diff"u8, "string"u8, "The V4A diff (not for delete_file)."u8);
                w.WriteEndObject();
                Required(w, "type"u8, "path"u8);
                w.WriteEndObject();
                break;
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Property(Utf8JsonWriter w, ReadOnlySpan<byte> name, ReadOnlySpan<byte> type, ReadOnlySpan<byte> description)
    {
        w.WriteStartObject(name);
        w.WriteString("type"u8, type);
        w.WriteString("description"u8, description);
        w.WriteEndObject();
    }

    private static void StringArray(Utf8JsonWriter w, ReadOnlySpan<byte> name, ReadOnlySpan<byte> description)
    {
        w.WriteStartObject(name);
        w.WriteString("type"u8, "array"u8);
        w.WriteStartObject("items"u8);
        w.WriteString("type"u8, "string"u8);
        w.WriteEndObject();
        w.WriteString("description"u8, description);
        w.WriteEndObject();
    }

    private static void Required(Utf8JsonWriter w, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default)
    {
        w.WriteStartArray("required"u8);
        w.WriteStringValue(a);
        if (!b.IsEmpty) w.WriteStringValue(b);
        w.WriteEndArray();
    }

    /// <summary>
    /// Writes the body of a finished built-in call item (after <c>id</c>) from the function arguments the model wrote.
    /// Arguments that are not the expected JSON still give a well-formed item (empty command), so the client sees the call
    /// and can answer it with an error instead of the stream breaking.
    /// </summary>
    public static void WriteCallItem(Utf8JsonWriter w, OutputItemKind kind, string? callId, ReadOnlySpan<byte> arguments, string status)
    {
        JsonDocument? doc = null;
        try { doc = JsonDocument.Parse(arguments.IsEmpty ? "{}"u8.ToArray() : arguments.ToArray()); }
        catch (JsonException) { }
        try
        {
            var args = doc?.RootElement is { ValueKind: JsonValueKind.Object } r ? r : default;
            switch (kind)
            {
                case OutputItemKind.LocalShellCall:
                    w.WriteString("type"u8, "local_shell_call"u8);
                    w.WriteString("call_id"u8, callId);
                    w.WriteStartObject("action"u8);
                    w.WriteString("type"u8, "exec"u8);
                    w.WriteStartArray("command"u8);
                    Strings(w, args, "command");
                    w.WriteEndArray();
                    w.WriteStartObject("env"u8);
                    w.WriteEndObject();
                    Copy(w, args, "timeout_ms");
                    Copy(w, args, "working_directory");
                    w.WriteEndObject();
                    w.WriteString("status"u8, status);
                    break;
                case OutputItemKind.ShellCall:
                    w.WriteString("type"u8, "shell_call"u8);
                    w.WriteString("call_id"u8, callId);
                    w.WriteStartObject("action"u8);
                    w.WriteStartArray("commands"u8);
                    Strings(w, args, "commands");
                    w.WriteEndArray();
                    CopyOrNull(w, args, "max_output_length");
                    CopyOrNull(w, args, "timeout_ms");
                    w.WriteEndObject();
                    w.WriteString("status"u8, status);
                    break;
                default:
                    w.WriteString("type"u8, "apply_patch_call"u8);
                    w.WriteString("call_id"u8, callId);
                    w.WriteStartObject("operation"u8);
                    var op = args.ValueKind == JsonValueKind.Object ? ResponsesRequestReader.Str(args, "type") : null;
                    w.WriteString("type"u8, op is "create_file" or "update_file" or "delete_file" ? op : "update_file");
                    w.WriteString("path"u8, args.ValueKind == JsonValueKind.Object ? ResponsesRequestReader.Str(args, "path") ?? "" : "");
                    if (op != "delete_file") w.WriteString("diff"u8, args.ValueKind == JsonValueKind.Object ? ResponsesRequestReader.Str(args, "diff") ?? "" : "");
                    w.WriteEndObject();
                    // apply_patch_call knows only in_progress and completed.
                    w.WriteString("status"u8, status == "in_progress" ? "in_progress" : "completed");
                    break;
            }
        }
        finally
        {
            doc?.Dispose();
        }
    }

    private static void Strings(Utf8JsonWriter w, JsonElement args, string name)
    {
        if (args.ValueKind != JsonValueKind.Object || !args.TryGetProperty(name, out var v)) return;
        if (v.ValueKind == JsonValueKind.String) { w.WriteStringValue(v.GetString()); return; } // one command given as a string
        if (v.ValueKind != JsonValueKind.Array) return;
        foreach (var s in v.EnumerateArray())
            if (s.ValueKind == JsonValueKind.String) w.WriteStringValue(s.GetString());
    }

    private static void Copy(Utf8JsonWriter w, JsonElement args, string name)
    {
        if (args.ValueKind == JsonValueKind.Object && args.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null)
        {
            w.WritePropertyName(name);
            v.WriteTo(w);
        }
    }

    private static void CopyOrNull(Utf8JsonWriter w, JsonElement args, string name)
    {
        w.WritePropertyName(name);
        if (args.ValueKind == JsonValueKind.Object && args.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number) v.WriteTo(w);
        else w.WriteNullValue();
    }

    /// <summary>True for the call items of these tools when they come back as input (history).</summary>
    public static bool IsCallItem(string? type) => type is "local_shell_call" or "shell_call" or "apply_patch_call";

    public static bool IsOutputItem(string? type) => type is "local_shell_call_output" or "shell_call_output" or "apply_patch_call_output";

    public static string FunctionNameOfItem(string? type) => type switch
    {
        "local_shell_call" => "local_shell",
        "shell_call" => "shell",
        _ => "apply_patch",
    };

    /// <summary>A built-in call item given back as input, as the chat tool call's JSON arguments (what the model wrote).</summary>
    public static string ArgumentsOf(JsonElement item)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            switch (ResponsesRequestReader.Str(item, "type"))
            {
                case "local_shell_call":
                    if (item.TryGetProperty("action", out var action) && action.ValueKind == JsonValueKind.Object)
                    {
                        CopyAs(w, action, "command");
                        CopyAs(w, action, "working_directory");
                        CopyAs(w, action, "timeout_ms");
                    }
                    break;
                case "shell_call":
                    if (item.TryGetProperty("action", out var shell) && shell.ValueKind == JsonValueKind.Object)
                    {
                        CopyAs(w, shell, "commands");
                        CopyAs(w, shell, "timeout_ms");
                        CopyAs(w, shell, "max_output_length");
                    }
                    break;
                default:
                    if (item.TryGetProperty("operation", out var op) && op.ValueKind == JsonValueKind.Object)
                    {
                        CopyAs(w, op, "type");
                        CopyAs(w, op, "path");
                        CopyAs(w, op, "diff");
                    }
                    break;
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void CopyAs(Utf8JsonWriter w, JsonElement from, string name)
    {
        if (!from.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return;
        w.WritePropertyName(name);
        v.WriteTo(w);
    }

    /// <summary>The call id an output item answers (<c>local_shell_call_output</c> names it in <c>call_id</c>, or in <c>id</c> as OpenAI's older shape did).</summary>
    public static string? OutputCallId(JsonElement item) => ResponsesRequestReader.Str(item, "call_id") ?? ResponsesRequestReader.Str(item, "id");

    /// <summary>What the client reported as the tool message's text: output as given, a shell's stdout/stderr/exit per command, a patch's status and output.</summary>
    public static string ResultText(JsonElement item)
    {
        switch (ResponsesRequestReader.Str(item, "type"))
        {
            case "shell_call_output":
                if (!item.TryGetProperty("output", out var outputs) || outputs.ValueKind != JsonValueKind.Array)
                    return ResponsesRequestReader.Str(item, "output") ?? "";
                var sb = new System.Text.StringBuilder();
                foreach (var o in outputs.EnumerateArray())
                {
                    if (o.ValueKind != JsonValueKind.Object) continue;
                    if (sb.Length > 0) sb.Append('\n');
                    if (o.TryGetProperty("outcome", out var outcome) && outcome.ValueKind == JsonValueKind.Object)
                    {
                        if (ResponsesRequestReader.Str(outcome, "type") == "timeout") sb.Append("[timed out]\n");
                        else if (outcome.TryGetProperty("exit_code", out var code)) sb.Append("[exit code ").Append(code.GetRawText()).Append("]\n");
                    }
                    if (ResponsesRequestReader.Str(o, "stdout") is { Length: > 0 } stdout) sb.Append(stdout);
                    if (ResponsesRequestReader.Str(o, "stderr") is { Length: > 0 } stderr) sb.Append(sb.Length > 0 && sb[^1] != '\n' ? "\n" : "").Append("[stderr]\n").Append(stderr);
                }
                return sb.ToString();
            case "apply_patch_call_output":
                var status = ResponsesRequestReader.Str(item, "status") ?? "completed";
                var text = ResponsesRequestReader.Str(item, "output");
                return string.IsNullOrEmpty(text) ? status : status + ": " + text;
            default:
                return ResponsesRequestReader.Str(item, "output") ?? "";
        }
    }
}
