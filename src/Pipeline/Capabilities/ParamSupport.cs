namespace LLMux.Pipeline.Capabilities;

/// <summary>How a provider treats one OpenAI parameter.</summary>
public enum ParamSupportKind
{
    /// <summary>Sent upstream under the same name and meaning.</summary>
    Native,
    /// <summary>Translated to a provider field (<see cref="ParamRule.MappedTo"/>).</summary>
    Mapped,
    /// <summary>Refused with a 400 whatever drop_params says: honouring it is impossible and dropping it would change the answer.</summary>
    Rejected,
    /// <summary>Not supported: a 400 unless drop_params is on, then removed with a warning.</summary>
    Dropped,
}

/// <summary>One row of a provider's parameter table.</summary>
public readonly record struct ParamRule(string Param, ParamSupportKind Kind, string? MappedTo = null, string? Note = null)
{
    public static ParamRule Native(string p) => new(p, ParamSupportKind.Native);
    public static ParamRule Mapped(string p, string to, string? note = null) => new(p, ParamSupportKind.Mapped, to, note);
    public static ParamRule Rejected(string p, string note) => new(p, ParamSupportKind.Rejected, null, note);
    public static ParamRule Dropped(string p, string? note = null) => new(p, ParamSupportKind.Dropped, null, note);
}
