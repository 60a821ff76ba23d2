using System.Text.Encodings.Web;
using System.Text.Json;

namespace LLMux.Pipeline.Json;

/// <summary>Writer options for JSON LLMux writes to clients: no HTML-safe escaping of quotes and apostrophes (as OpenAI writes it).</summary>
public static class JsonOut
{
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

    public static readonly JsonWriterOptions Unchecked = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
}
