using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace LLMux.Providers.Modes;

/// <summary>
/// The client's multipart upload sent upstream with the same boundary and part headers, byte for byte, except the value
/// of the <c>model</c> field (the upstream model id). File bytes stream from the spool; the length is known up front.
/// </summary>
public sealed class MultipartUpstreamContent : HttpContent
{
    private readonly MultipartBody _body;
    private readonly byte[] _model;
    private readonly byte[] _open;

    private readonly IReadOnlyList<string> _dropped;

    /// <param name="dropped">Fields removed under drop_params (<c>x</c> also removes <c>x[]</c>).</param>
    public MultipartUpstreamContent(MultipartBody body, string upstreamModel, IReadOnlyList<string> dropped)
    {
        _body = body;
        _dropped = dropped;
        _model = Encoding.UTF8.GetBytes(upstreamModel);
        _open = Encoding.ASCII.GetBytes("--" + body.Boundary);
        // The boundary is quoted when it needs to be (the OpenAI SDK's contains '='), as the client sent it.
        Headers.ContentType = new MediaTypeHeaderValue("multipart/form-data");
        Headers.ContentType.Parameters.Add(new NameValueHeaderValue("boundary", NeedsQuotes(body.Boundary) ? "\"" + body.Boundary + "\"" : body.Boundary));
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var first = true;
        foreach (var part in _body.Parts)
        {
            if (IsDropped(part)) continue;
            if (!first) await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            first = false;
            await stream.WriteAsync(_open, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(part.RawHeaders, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync("\r\n\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            if (part.FileName is not null) await _body.CopyFileAsync(part, stream, cancellationToken).ConfigureAwait(false);
            else await stream.WriteAsync(IsModel(part) ? _model : part.Value!, cancellationToken).ConfigureAwait(false);
        }
        if (!first) await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(_open, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync("--"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(_body.Epilogue, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    private static bool NeedsQuotes(string boundary)
    {
        foreach (var c in boundary)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '^' or '`' or '|' or '~')) return true;
        return false;
    }

    private static bool IsModel(MultipartPart part) => part.FileName is null && part.Name == "model";

    private bool IsDropped(MultipartPart part)
    {
        if (part.FileName is not null || _dropped.Count == 0) return false;
        var name = part.Name.EndsWith("[]", StringComparison.Ordinal) ? part.Name[..^2] : part.Name;
        foreach (var d in _dropped) if (d == name) return true;
        return false;
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        var any = false;
        foreach (var part in _body.Parts)
        {
            if (IsDropped(part)) continue;
            any = true;
            length += _open.Length + 2 + part.RawHeaders.Length + 4 + (IsModel(part) ? _model.Length : part.Length) + 2;
        }
        length += (any ? 0 : -2) + _open.Length + 2 + _body.Epilogue.Length;
        return true;
    }
}
