using System.Security.Cryptography;

namespace LLMux.Stages.Responses;

/// <summary>Ids in OpenAI's shapes: <c>resp_</c>, <c>msg_</c>, <c>fc_</c>, <c>ctc_</c>, <c>rs_</c> followed by 48 hex digits.</summary>
public static class ResponseIds
{
    public static string Response() => New("resp_");
    public static string Message() => New("msg_");
    public static string FunctionCall() => New("fc_");
    public static string CustomToolCall() => New("ctc_");
    public static string Reasoning() => New("rs_");
    public static string LocalShellCall() => New("lsh_");
    public static string ShellCall() => New("sh_");
    public static string ApplyPatchCall() => New("apc_");

    private static string New(string prefix)
    {
        Span<byte> bytes = stackalloc byte[24];
        RandomNumberGenerator.Fill(bytes);
        return string.Create(prefix.Length + 48, (prefix, bytes.ToArray()), static (span, s) =>
        {
            s.prefix.AsSpan().CopyTo(span);
            Convert.TryToHexStringLower(s.Item2, span[s.prefix.Length..], out _);
        });
    }
}
