namespace LLMux.Pipeline.Context;

/// <summary>A credential. Its <see cref="ToString"/> never shows the value, so records and logs cannot leak it.</summary>
public sealed class Secret(string value)
{
    private readonly string _value = value;

    /// <summary>The value, for the one place that puts it on the wire.</summary>
    public string Reveal() => _value;

    public bool IsEmpty => _value.Length == 0;

    public override string ToString() => "[redacted]";

    public static Secret? From(string? value) => string.IsNullOrEmpty(value) ? null : new Secret(value);
}
