namespace LLMux.Stages.Responses;

/// <summary>
/// How the bridge offered the client's tools to a chat provider, so that calls come back in the client's
/// terms: <c>custom</c> (freeform) tools became one-string functions and their calls are
/// <c>custom_tool_call</c> items; the functions of a <c>namespace</c> tool were offered as
/// <c>{namespace}__{name}</c> (chat names allow no dot) and their calls carry <c>namespace</c> and the bare name.
/// </summary>
public sealed class BridgeTools
{
    internal const string NamespaceSeparator = "__";

    private HashSet<string>? _custom;
    private Dictionary<string, (string Namespace, string Name)>? _namespaced;
    private Dictionary<string, ClientTool>? _builtIn;

    internal bool IsEmpty => _custom is null && _namespaced is null && _builtIn is null;

    /// <summary>A client-run built-in (<c>local_shell</c>, <c>shell</c>, <c>apply_patch</c>) offered as a function under <paramref name="sentName"/>.</summary>
    internal void AddBuiltIn(string sentName, ClientTool tool) => (_builtIn ??= new(StringComparer.Ordinal))[sentName] = tool;

    internal ClientTool BuiltInOf(string sentName) => _builtIn is not null && _builtIn.TryGetValue(sentName, out var t) ? t : ClientTool.None;

    /// <summary>The item kind and a new item id for a call of the function <paramref name="sentName"/>.</summary>
    internal (OutputItemKind Kind, string Id) CallItem(string sentName)
    {
        if (IsCustom(sentName)) return (OutputItemKind.CustomToolCall, ResponseIds.CustomToolCall());
        var builtIn = BuiltInOf(sentName);
        return builtIn == ClientTool.None ? (OutputItemKind.FunctionCall, ResponseIds.FunctionCall()) : (ClientBuiltInTools.ItemKind(builtIn), ClientBuiltInTools.NewItemId(builtIn));
    }

    internal void AddCustom(string sentName) => (_custom ??= new(StringComparer.Ordinal)).Add(sentName);

    internal string AddNamespaced(string ns, string name)
    {
        var sent = ns + NamespaceSeparator + name;
        (_namespaced ??= new(StringComparer.Ordinal))[sent] = (ns, name);
        return sent;
    }

    public bool IsCustom(string sentName) => _custom?.Contains(sentName) ?? false;

    public bool TryNamespace(string sentName, out string ns, out string name)
    {
        if (_namespaced is not null && _namespaced.TryGetValue(sentName, out var v)) { (ns, name) = v; return true; }
        ns = name = "";
        return false;
    }
}
