using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Modes;

/// <summary>Builds the parameter tables of the modes beyond chat: every OpenAI name of the mode, native or dropped with a note.</summary>
public static class ModeTables
{
    /// <summary>A table where <paramref name="native"/> are native, <paramref name="mapped"/> renamed, and every other name of the mode dropped.</summary>
    public static FrozenDictionary<string, ParamRule> Of(LlmMode mode, IEnumerable<string> native, string provider, IReadOnlyDictionary<string, string>? mapped = null, IReadOnlyDictionary<string, string>? notes = null)
    {
        var set = new HashSet<string>(native, StringComparer.Ordinal);
        var rules = new List<ParamRule>();
        foreach (var p in ModeParamNames.For(mode))
        {
            var note = notes is not null && notes.TryGetValue(p, out var n) ? n : null;
            if (mapped is not null && mapped.TryGetValue(p, out var to)) rules.Add(ParamRule.Mapped(p, to, note));
            else if (set.Contains(p)) rules.Add(new ParamRule(p, ParamSupportKind.Native, null, note));
            else rules.Add(ParamRule.Dropped(p, note ?? $"{provider} does not take it here"));
        }
        foreach (var p in set)
            if (!ModeParamNames.Contains(mode, p)) rules.Add(ParamRule.Native(p));
        return ProviderSpec.Table(rules.ToArray());
    }

    /// <summary><paramref name="table"/> with <paramref name="rejected"/> refused (a 400 whatever drop_params says) for <paramref name="note"/>.</summary>
    public static FrozenDictionary<string, ParamRule> Rejecting(FrozenDictionary<string, ParamRule> table, string note, params string[] rejected)
    {
        var all = new Dictionary<string, ParamRule>(table);
        foreach (var p in rejected) all[p] = ParamRule.Rejected(p, note);
        return all.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every OpenAI name of the mode native.</summary>
    public static FrozenDictionary<string, ParamRule> AllNative(LlmMode mode) => ProviderSpec.Table(ModeParamNames.For(mode).Select(ParamRule.Native).ToArray());

    /// <summary><paramref name="spec"/> with <paramref name="tables"/> added to its modes and mode tables.</summary>
    public static ProviderSpec With(ProviderSpec spec, IReadOnlyDictionary<LlmMode, FrozenDictionary<string, ParamRule>> tables)
    {
        if (tables.Count == 0) return spec;
        var modes = new HashSet<LlmMode>(spec.Modes);
        var all = new Dictionary<LlmMode, FrozenDictionary<string, ParamRule>>(spec.ModeParams);
        foreach (var (mode, table) in tables)
        {
            modes.Add(mode);
            all[mode] = table;
        }
        return spec with { Modes = modes.ToFrozenSet(), ModeParams = all.ToFrozenDictionary() };
    }
}
