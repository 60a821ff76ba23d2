using System.Security.Cryptography;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;

namespace LLMux.Host.Batch;

/// <summary>
/// Appends OpenAI Batch output lines: <c>{"id","custom_id","response":{"status_code","request_id","body"},"error"}</c>
/// to the results file, failures (same shape, with <c>error</c>) to the errors file. One writer thread; a line is
/// written whole, then flushed when no other result waits.
/// </summary>
internal sealed class BatchFileWriter : IAsyncDisposable
{
    private readonly FileStream _results;
    private readonly FileStream _errors;
    private readonly Utf8JsonWriter _resultsJson;
    private readonly Utf8JsonWriter _errorsJson;

    public BatchFileWriter(string resultsPath, string errorsPath)
    {
        _results = Open(resultsPath);
        _errors = Open(errorsPath);
        _resultsJson = new Utf8JsonWriter(_results, JsonOut.Options);
        _errorsJson = new Utf8JsonWriter(_errors, JsonOut.Options);
    }

    private static FileStream Open(string path)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        return new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
    }

    /// <summary>The answer on one line: an upstream may indent its JSON, and a JSONL line must not break.</summary>
    private static void WriteOneLine(Utf8JsonWriter w, byte[] body)
    {
        if (body.AsSpan().IndexOfAny((byte)'\n', (byte)'\r') < 0)
        {
            w.WriteRawValue(body, skipInputValidation: true);
            return;
        }
        using var doc = JsonDocument.Parse(body);
        doc.RootElement.WriteTo(w);
    }

    public void Write(BatchResult result)
    {
        var (stream, w) = result.Succeeded ? (_results, _resultsJson) : (_errors, _errorsJson);
        w.Reset(stream);
        w.WriteStartObject();
        w.WriteString("id", "batch_req_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
        if (result.Line.CustomId is { } id) w.WriteString("custom_id", id);
        else
        {
            w.WriteNull("custom_id");
            w.WriteNumber("line", result.Line.LineNumber);
        }
        if (result.Body is { } body)
        {
            w.WriteStartObject("response");
            w.WriteNumber("status_code", 200);
            w.WriteString("request_id", "req_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
            w.WritePropertyName("body");
            WriteOneLine(w, body);
            w.WriteEndObject();
            w.WriteNull("error");
        }
        else
        {
            var error = result.Error ?? LlmError.Invalid(result.Line.Problem ?? "request failed");
            if (result.Line.Problem is null)
            {
                w.WriteStartObject("response");
                w.WriteNumber("status_code", error.HttpStatus);
                if (error.UpstreamRequestId is { } rid) w.WriteString("request_id", rid);
                else w.WriteNull("request_id");
                w.WritePropertyName("body");
                ErrorJsonWriter.WriteOpenAI(w, error);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("response");
            }
            w.WriteStartObject("error");
            w.WriteString("code", error.Code ?? error.Type);
            w.WriteString("message", error.Message);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }

    public void Flush()
    {
        _results.Flush();
        _errors.Flush();
    }

    public async ValueTask DisposeAsync()
    {
        await _resultsJson.DisposeAsync().ConfigureAwait(false);
        await _errorsJson.DisposeAsync().ConfigureAwait(false);
        await _results.DisposeAsync().ConfigureAwait(false);
        await _errors.DisposeAsync().ConfigureAwait(false);
    }
}
